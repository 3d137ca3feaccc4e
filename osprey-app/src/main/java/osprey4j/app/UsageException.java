package osprey4j.app;

/** A bad-input error discovered while a command runs (a missing file, a malformed value): exit code 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
