package osprey4j.model.sam;

import java.util.List;
import java.util.Objects;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * What SAM is asked to segment, in the original image's pixel coordinates: clicks (label 1 foreground, 0
 * background), an optional box, and an optional low-resolution mask (a previous prediction's logits, to refine).
 * At least one of them must be given.
 */
public record SamPrompt(List<Point> points, Box box, Tensor maskInput) {
    /** A click at (x, y); label 1 = on the object, 0 = not on it. */
    public record Point(double x, double y, int label) {
    }

    /** A box x1, y1, x2, y2 (x1 < x2, y1 < y2). */
    public record Box(double x1, double y1, double x2, double y2) {
    }

    public SamPrompt {
        points = List.copyOf(Objects.requireNonNull(points, "points"));
        if (points.isEmpty() && box == null && maskInput == null) {
            throw new IllegalArgumentException("a SAM prompt needs a point, a box or a mask input");
        }
        if (maskInput != null && (maskInput.dtype() != DType.F32 || maskInput.rank() != 3 || maskInput.dim(0) != 1)) {
            throw new IllegalArgumentException("a mask input must be F32 [1, 256, 256] logits, got " + maskInput);
        }
    }

    /** One click. */
    public static SamPrompt click(double x, double y, int label) {
        return new SamPrompt(List.of(new Point(x, y, label)), null, null);
    }

    /** One box. */
    public static SamPrompt box(double x1, double y1, double x2, double y2) {
        return new SamPrompt(List.of(), new Box(x1, y1, x2, y2), null);
    }

    /**
     * Refuses, with one line, a point outside a {@code width x height} image, a label other than 0 and 1, and a
     * box with no area or outside the image.
     */
    public void check(int width, int height) {
        for (Point p : points) {
            if (!(p.x() >= 0 && p.x() < width && p.y() >= 0 && p.y() < height)) {
                throw new IllegalArgumentException("point " + fmt(p.x()) + "," + fmt(p.y()) + " is outside the " + width
                        + "x" + height + " image");
            }
            if (p.label() != 0 && p.label() != 1) {
                throw new IllegalArgumentException("point label " + p.label()
                        + " is neither 1 (foreground) nor 0 (background)");
            }
        }
        if (box != null) {
            if (!(box.x2() > box.x1() && box.y2() > box.y1())) {
                throw new IllegalArgumentException("box " + fmt(box.x1()) + "," + fmt(box.y1()) + "," + fmt(box.x2()) + ","
                        + fmt(box.y2()) + " has no area (need x1 < x2 and y1 < y2)");
            }
            if (box.x1() < 0 || box.y1() < 0 || box.x2() > width || box.y2() > height) {
                throw new IllegalArgumentException("box " + fmt(box.x1()) + "," + fmt(box.y1()) + "," + fmt(box.x2()) + ","
                        + fmt(box.y2()) + " is outside the " + width + "x" + height + " image");
            }
        }
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
