package osprey4j.core.mask;

/**
 * Mask data that cannot be turned into a mask: a malformed RLE counts string, runs that do not cover the image,
 * a bad size. The message names the problem.
 */
public class InvalidMaskException extends IllegalArgumentException {
    public InvalidMaskException(String message) {
        super(message);
    }

    public InvalidMaskException(String message, Throwable cause) {
        super(message, cause);
    }
}
