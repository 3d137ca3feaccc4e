package osprey4j.model.tokenizer;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes generated ids one at a time, returning only the new text each time, so an answer can be printed as
 * it is generated. Byte-fallback tokens are held back until they spell complete UTF-8 characters. The
 * concatenated output equals {@link Tokenizer#decode(int[], boolean)} of all ids whenever the byte tokens form
 * valid UTF-8; where a model emits an invalid byte sequence, the whole-sequence decode replaces every byte of
 * the run with U+FFFD while this may already have printed a valid leading part of that run.
 */
public final class StreamDecoder {
    private final Tokenizer tokenizer;
    private final TokenDecoder decoder;
    private final boolean skipSpecialTokens;
    private final List<String> pendingBytes = new ArrayList<>();
    private final ByteArrayOutputStream pendingRaw = new ByteArrayOutputStream();
    private boolean started;

    StreamDecoder(Tokenizer tokenizer, TokenDecoder decoder, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.decoder = decoder;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** The text that {@code id} adds; empty while a multi-byte character is incomplete. */
    public String next(int id) {
        if (skipSpecialTokens && tokenizer.isSpecial(id)) {
            return "";
        }
        String piece = tokenizer.piece(id);
        int b = TokenDecoder.asciiByteOf(piece);
        if (b >= 0) {
            pendingBytes.add(piece);
            pendingRaw.write(b);
            if (TokenDecoder.strictUtf8(pendingRaw.toByteArray()) == null) {
                return "";
            }
            return emit(List.copyOf(pendingBytes));
        }
        List<String> tokens = new ArrayList<>(pendingBytes);
        tokens.add(piece);
        return emit(tokens);
    }

    /** Whatever is still held back (an incomplete byte sequence, rendered as U+FFFD per byte). */
    public String flush() {
        return pendingBytes.isEmpty() ? "" : emit(List.copyOf(pendingBytes));
    }

    private String emit(List<String> tokens) {
        String text = decoder.decode(tokens, started);
        started = true;
        pendingBytes.clear();
        pendingRaw.reset();
        return text;
    }
}
