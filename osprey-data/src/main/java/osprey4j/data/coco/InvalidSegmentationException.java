package osprey4j.data.coco;

import java.util.function.Supplier;
import osprey4j.core.mask.InvalidMaskException;

/**
 * A COCO segmentation that cannot be turned into a mask: a malformed counts string, runs that do not cover
 * the image, a bad size, a polygon with an odd number of coordinates. The message names the problem.
 * Errors from the RLE codec ({@link InvalidMaskException}s from {@code osprey4j.core.mask.Rle}) reach callers of
 * this package as this type, with the same message.
 */
public final class InvalidSegmentationException extends InvalidMaskException {
    public InvalidSegmentationException(String message) {
        super(message);
    }

    public InvalidSegmentationException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Runs {@code work}, turning an RLE codec error into this type (same message). */
    static <T> T rethrow(Supplier<T> work) {
        try {
            return work.get();
        } catch (InvalidSegmentationException e) {
            throw e;
        } catch (InvalidMaskException e) {
            throw new InvalidSegmentationException(e.getMessage(), e);
        }
    }

    static void rethrowing(Runnable work) {
        rethrow(() -> {
            work.run();
            return null;
        });
    }
}
