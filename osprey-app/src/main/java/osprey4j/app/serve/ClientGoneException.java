package osprey4j.app.serve;

/** Thrown from a token listener when the client has gone: unwinds the generation, which frees its cache. */
final class ClientGoneException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ClientGoneException(Throwable cause) {
        super("client disconnected", cause, false, false);
    }
}
