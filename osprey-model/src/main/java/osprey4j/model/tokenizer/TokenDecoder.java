package osprey4j.model.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns token strings back into text with the decoder chain of a Hugging Face {@code tokenizer.json}: each step
 * maps a list of token strings to another, and the result is their concatenation. LLaMA's chain (from
 * transformers' LlamaConverter) is {@code Replace('▁', ' ')}, {@code ByteFallback}, {@code Fuse},
 * {@code Strip(' ', left 1)}.
 *
 * <p>{@code continuation} decodes tokens that follow earlier, already decoded ones: steps that only act at the
 * very start of a sequence (a {@code Strip} after {@code Fuse}, Metaspace's first-token rule) are skipped, so
 * decoding a sequence piecewise concatenates to the same text as decoding it at once.
 */
final class TokenDecoder {
    sealed interface Step permits Replace, ByteFallback, Fuse, Strip, Metaspace {
    }

    record Replace(String pattern, String content) implements Step {
    }

    record ByteFallback() implements Step {
    }

    record Fuse() implements Step {
    }

    /** Removes up to {@code start} leading and {@code stop} trailing {@code content} characters of each token. */
    record Strip(int content, int start, int stop) implements Step {
    }

    /** Replacement character back to spaces; with a prepend scheme, the first token's replacements vanish. */
    record Metaspace(String replacement, boolean prepended) implements Step {
    }

    private final List<Step> steps;

    TokenDecoder(List<Step> steps) {
        this.steps = List.copyOf(steps);
    }

    /** The chain transformers' LlamaConverter writes. */
    static TokenDecoder llama() {
        return new TokenDecoder(List.of(new Replace("\u2581", " "), new ByteFallback(), new Fuse(),
                new Strip(' ', 1, 0)));
    }

    /**
     * Whether decoding a sequence in parts (the first part normally, each later one as a continuation, no part
     * boundary inside a run of byte pieces) always gives the whole decode: true unless a step after {@code Fuse}
     * strips more than one leading or any trailing character, or replaces a pattern longer than one character.
     */
    boolean isPrefixStable() {
        boolean fused = false;
        for (Step step : steps) {
            switch (step) {
                case Fuse f -> fused = true;
                case Strip s -> {
                    if (fused && (s.start() > 1 || s.stop() > 0)) {
                        return false;
                    }
                }
                case Replace r -> {
                    if (fused && r.pattern().codePointCount(0, r.pattern().length()) > 1) {
                        return false;
                    }
                }
                case Metaspace m -> {
                    if (fused && m.replacement().codePointCount(0, m.replacement().length()) > 1) {
                        return false;
                    }
                }
                case ByteFallback b -> {
                }
            }
        }
        return true;
    }

    String decode(List<String> tokens, boolean continuation) {
        List<String> current = tokens;
        boolean fused = false;
        for (Step step : steps) {
            switch (step) {
                case Replace r -> current = current.stream().map(t -> t.replace(r.pattern(), r.content())).toList();
                case ByteFallback b -> current = byteFallback(current);
                case Fuse f -> {
                    current = List.of(String.join("", current));
                    fused = true;
                }
                case Strip s -> {
                    if (!(fused && continuation)) {
                        current = current.stream().map(t -> strip(t, s)).toList();
                    }
                }
                case Metaspace m -> {
                    List<String> out = new ArrayList<>(current.size());
                    for (int i = 0; i < current.size(); i++) {
                        boolean first = i == 0 && !continuation && !fused && m.prepended();
                        out.add(current.get(i).replace(m.replacement(), first ? "" : " "));
                    }
                    current = out;
                }
            }
        }
        return String.join("", current);
    }

    /**
     * Runs of {@code <0xNN>} tokens become the text their bytes spell when those bytes are valid UTF-8, otherwise
     * one U+FFFD per byte token (exactly as the Rust decoder does).
     */
    private static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
        int pendingCount = 0;
        for (String t : tokens) {
            int b = asciiByteOf(t);
            if (b >= 0) {
                pending.write(b);
                pendingCount++;
                continue;
            }
            if (pendingCount > 0) {
                out.add(utf8OrReplacement(pending.toByteArray(), pendingCount));
                pending.reset();
                pendingCount = 0;
            }
            out.add(t);
        }
        if (pendingCount > 0) {
            out.add(utf8OrReplacement(pending.toByteArray(), pendingCount));
        }
        return out;
    }

    static int asciiByteOf(String token) {
        if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') {
            return -1;
        }
        int hi = hex(token.charAt(3));
        int lo = hex(token.charAt(4));
        return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** Strict UTF-8 decoding of {@code bytes}, or null if they are not valid UTF-8. */
    static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static String utf8OrReplacement(byte[] bytes, int tokenCount) {
        String s = strictUtf8(bytes);
        return s != null ? s : "\uFFFD".repeat(tokenCount);
    }

    private static String strip(String token, Strip s) {
        int[] cps = token.codePoints().toArray();
        int from = 0;
        while (from < Math.min(s.start(), cps.length) && cps[from] == s.content()) {
            from++;
        }
        int to = cps.length;
        int stripped = 0;
        while (stripped < s.stop() && to > 0 && cps[to - 1] == s.content()) {
            to--;
            stripped++;
        }
        return to <= from ? "" : new String(cps, from, to - from);
    }
}
