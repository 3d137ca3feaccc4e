package osprey4j.model;

/**
 * Receives an answer as it is generated, one call per generated token.
 *
 * <p>{@code text} is the part of the answer that became final with this token; it is often empty: while a
 * multi-byte character is incomplete, while the text might be turning into the stop string {@code </s>}, and
 * for trailing whitespace, which the final answer strips. The concatenation of every {@code text} equals
 * {@link Answer#text()}.
 */
@FunctionalInterface
public interface TokenListener {
    /** A listener that ignores everything. */
    TokenListener NONE = (id, text) -> { };

    void onToken(int tokenId, String text);

    /**
     * Asked after each token: true ends the answer there, as if the token budget were spent (a caller's own stop
     * rule, such as an API's stop strings). The answer is then the text decoded so far.
     */
    default boolean stopRequested() {
        return false;
    }
}
