package osprey4j.service;

/**
 * A request the service cannot answer because of what it asks (a region of another size than the image, a question
 * whose region references do not match the regions, an unreadable image): the caller's mistake, not the service's.
 * The CLI reports it as a usage error; a server would answer 400.
 */
public final class InvalidRequestException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidRequestException(String message) {
        super(message);
    }

    public InvalidRequestException(String message, Throwable cause) {
        super(message, cause);
    }
}
