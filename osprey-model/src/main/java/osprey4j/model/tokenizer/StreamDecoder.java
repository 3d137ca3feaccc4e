package osprey4j.model.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Decodes ids one at a time in amortised constant work per id, so streaming an answer is linear in its length.
 * After any number of ids, {@link #text()} is exactly {@link Tokenizer#decode(int[], boolean)} of all of them, and
 * the pieces {@link #next} returns, followed by {@link #flush()}, concatenate to that same text.
 *
 * <p>The decoded text is kept as a final part, which no later id can change, and a short volatile tail: a trailing
 * run of byte-fallback pieces (the whole run decodes to its UTF-8 text only if the run as a whole is valid, else to
 * one U+FFFD per byte, so nothing of it is final until a non-byte piece ends it), and, when the tokenizer cleans up
 * tokenization spaces, the text since the last point no clean-up rule can reach across (every rule starts with a
 * space and spans at most four characters, so a point after three non-space characters is safe). Decoder chains
 * whose output is not prefix-stable (a strip of more than one leading character or of trailing characters after
 * {@code Fuse}, or a multi-character replacement after it) keep everything in the tail and decode it whole.
 */
public final class StreamDecoder {
    private final Tokenizer tokenizer;
    private final TokenDecoder decoder;
    private final boolean skipSpecialTokens;
    private final boolean cleanUpSpaces;
    private final boolean prefixStable;
    /** Pieces not yet decoded into {@link #decoded}: the trailing byte run (or all pieces, if not prefix-stable). */
    private final List<String> pending = new ArrayList<>();
    /** The decoder chain's output for the committed pieces: a prefix of every later decode. */
    private final StringBuilder decoded = new StringBuilder();
    /** Whether pieces were committed, so later pieces decode as a continuation. */
    private boolean started;
    /** With clean-up: {@code decoded[0, frozenAt)} is cleaned into {@link #frozen}. */
    private int frozenAt;
    private final StringBuilder frozen = new StringBuilder();
    /** The current volatile end of the text. */
    private String tail = "";
    /** How much of the text {@link #next} has returned. */
    private int returned;
    private boolean flushed;

    StreamDecoder(Tokenizer tokenizer, TokenDecoder decoder, boolean skipSpecialTokens, boolean cleanUpSpaces) {
        this.tokenizer = tokenizer;
        this.decoder = decoder;
        this.skipSpecialTokens = skipSpecialTokens;
        this.cleanUpSpaces = cleanUpSpaces;
        this.prefixStable = decoder.isPrefixStable();
    }

    /** Adds {@code id} and returns the text that has become final (often empty while a byte run is open). */
    public String next(int id) {
        add(id);
        CharSequence fin = finalPart();
        String out = fin.subSequence(returned, fin.length()).toString();
        returned = fin.length();
        return out;
    }

    /** Adds {@code id}; {@link #text()} then covers it. */
    public void add(int id) {
        if (flushed) {
            throw new IllegalStateException("the stream was flushed");
        }
        if (skipSpecialTokens && tokenizer.isSpecial(id)) {
            return;
        }
        String piece = tokenizer.piece(id);
        pending.add(piece);
        if (prefixStable && TokenDecoder.asciiByteOf(piece) < 0) {
            commit(); // a non-byte piece ends any byte run: the text up to here is fixed
        }
        tail = volatileTail();
    }

    /** The rest of the text after everything {@link #next} returned; ends the stream. */
    public String flush() {
        flushed = true;
        CharSequence all = text();
        String out = all.subSequence(returned, all.length()).toString();
        returned = all.length();
        return out;
    }

    /** {@code tokenizer.decode(ids so far, skipSpecialTokens)}, as a view that later ids do not change. */
    public CharSequence text() {
        return new Text(finalPart(), finalPart().length(), tail);
    }

    /** How many leading characters of {@link #text()} no later id can change. */
    public int finalLength() {
        return finalPart().length();
    }

    private CharSequence finalPart() {
        return cleanUpSpaces ? frozen : decoded;
    }

    private void commit() {
        decoded.append(decoder.decode(pending, started));
        started = true;
        pending.clear();
        if (cleanUpSpaces) {
            int safe = lastSafeSplit();
            if (safe > frozenAt) {
                frozen.append(Tokenizer.cleanUpTokenizationSpaces(decoded.substring(frozenAt, safe)));
                frozenAt = safe;
            }
        }
    }

    /** The last position of {@link #decoded} after three non-space characters (no clean-up rule spans it). */
    private int lastSafeSplit() {
        int run = 0;
        for (int i = decoded.length() - 1; i >= Math.max(0, frozenAt - 2); i--) {
            run = decoded.charAt(i) == ' ' ? 0 : run + 1;
            if (run == 3) {
                return Math.max(frozenAt, i + 3);
            }
        }
        return frozenAt;
    }

    private String volatileTail() {
        String open = pending.isEmpty() ? "" : decoder.decode(pending, started);
        if (!cleanUpSpaces) {
            return open;
        }
        return Tokenizer.cleanUpTokenizationSpaces(decoded.substring(frozenAt) + open);
    }

    /** The final part (up to {@code finalLength}, which never changes) followed by the tail of that moment. */
    private record Text(CharSequence fin, int finalLength, String tail) implements CharSequence {
        @Override
        public int length() {
            return finalLength + tail.length();
        }

        @Override
        public char charAt(int index) {
            return index < finalLength ? fin.charAt(index) : tail.charAt(index - finalLength);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            if (start < 0 || end > length() || start > end) {
                throw new IndexOutOfBoundsException("[" + start + ", " + end + ") of " + length());
            }
            StringBuilder sb = new StringBuilder(end - start);
            if (start < finalLength) {
                sb.append(fin, start, Math.min(end, finalLength));
            }
            if (end > finalLength) {
                sb.append(tail, Math.max(start, finalLength) - finalLength, end - finalLength);
            }
            return sb.toString();
        }

        @Override
        public String toString() {
            return subSequence(0, length()).toString();
        }
    }
}
