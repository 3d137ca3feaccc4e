package osprey4j.data.coco;

/**
 * A COCO segmentation that cannot be turned into a mask: a malformed counts string, runs that do not cover
 * the image, a bad size, a polygon with an odd number of coordinates. The message names the problem.
 */
public final class InvalidSegmentationException extends IllegalArgumentException {
    public InvalidSegmentationException(String message) {
        super(message);
    }

    public InvalidSegmentationException(String message, Throwable cause) {
        super(message, cause);
    }
}
