package osprey4j.model.image;

import java.io.IOException;

/**
 * An image file that cannot be used: unreadable, corrupt or truncated, in a format or colour model we do not
 * decode, or declaring a size beyond {@link RgbImage#MAX_PIXELS}. The message names the file (or stream) and the
 * problem.
 */
public class ImageFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public ImageFormatException(String message) {
        super(message);
    }

    public ImageFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
