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
}
