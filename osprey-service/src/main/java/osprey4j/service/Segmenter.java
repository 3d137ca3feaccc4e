package osprey4j.service;

import java.util.List;
import osprey4j.core.mask.Mask;
import osprey4j.model.image.RgbImage;

/**
 * The segmentation capability (SAM): clicks and boxes to masks, and "segment everything". A caller that can offer
 * it (the server, the CLI) takes one of these; without one, boxes are used as rectangular masks and points are
 * refused.
 *
 * <p>Implementations are safe to call from many threads; a {@link Prepared} image may be shared by concurrent calls.
 */
public interface Segmenter {
    /** A short name for listings (the checkpoint's). */
    String name();

    /** An image prepared once for any number of prompts (SAM's image embedding). */
    interface Prepared {
        /** Bytes held, for memory budgets. */
        long byteSize();
    }

    /** A click: pixel coordinates in the original image; positive adds to the object, negative removes. */
    record Point(double x, double y, boolean positive) {
    }

    /**
     * One object's prompt: points, a box [x1, y1, x2, y2] in pixels, or both.
     *
     * @param box null when there is none
     */
    record Prompt(List<Point> points, double[] box) {
        public Prompt {
            points = points == null ? List.of() : List.copyOf(points);
            if (points.isEmpty() && box == null) {
                throw new IllegalArgumentException("a prompt needs points or a box");
            }
            if (box != null && box.length != 4) {
                throw new IllegalArgumentException("a box is [x1, y1, x2, y2]");
            }
        }
    }

    /** Runs the image encoder once. */
    Prepared prepare(RgbImage image);

    /** The mask of the object the prompt points at, at the image's size. */
    Mask segment(Prepared image, Prompt prompt);

    /** Every object found in the image (the automatic mask generator), largest first. */
    List<Mask> everything(Prepared image);
}
