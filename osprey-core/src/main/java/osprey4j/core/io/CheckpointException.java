package osprey4j.core.io;

/**
 * The one exception checkpoint readers throw for a file they cannot use: missing, unreadable, malformed,
 * or asking for something the reader refuses to do (an unknown pickle global, an unsupported dtype).
 * The message names the file and the problem in one line.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
