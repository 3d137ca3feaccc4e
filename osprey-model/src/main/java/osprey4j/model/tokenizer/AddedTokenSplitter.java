package osprey4j.model.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import osprey4j.model.tokenizer.Tokenizer.AddedToken;
import osprey4j.model.tokenizer.Tokenizer.Segment;

/**
 * Splits text at added tokens the way Hugging Face's added vocabulary does: leftmost match first, the longest
 * token among those starting there, matches never overlap; {@code single_word} tokens only match between
 * non-word characters, {@code lstrip}/{@code rstrip} tokens swallow the whitespace next to them.
 * Empty stretches of text between matches are dropped.
 */
final class AddedTokenSplitter {
    /** The text that makes {@code token} match: its content, or for normalised tokens, its normalised content. */
    record Needle(String text, AddedToken token) {
    }

    private AddedTokenSplitter() {
    }

    static List<Segment> split(String text, List<Needle> tokens, boolean textIsAtStart) {
        List<Segment> out = new ArrayList<>();
        if (tokens.isEmpty()) {
            addText(out, text, 0, text.length(), textIsAtStart);
            return out;
        }
        List<Needle> longestFirst = new ArrayList<>(tokens);
        longestFirst.sort(Comparator.comparingInt((Needle t) -> t.text().length()).reversed());
        int consumed = 0;
        int i = 0;
        while (i < text.length()) {
            Needle needle = matchAt(text, i, longestFirst);
            if (needle == null) {
                i++;
                continue;
            }
            AddedToken match = needle.token();
            int start = i;
            int stop = i + needle.text().length();
            if (match.singleWord() && !(isWordBoundary(text, start, stop))) {
                i++;
                continue;
            }
            if (match.lstrip()) {
                while (start > consumed && isRustWhitespace(text.codePointBefore(start))) {
                    start -= Character.charCount(text.codePointBefore(start));
                }
            }
            if (match.rstrip()) {
                while (stop < text.length() && isRustWhitespace(text.codePointAt(stop))) {
                    stop += Character.charCount(text.codePointAt(stop));
                }
            }
            addText(out, text, consumed, start, textIsAtStart);
            out.add(new Segment(text.substring(start, stop), match, textIsAtStart && start == 0));
            consumed = stop;
            i = stop;
        }
        addText(out, text, consumed, text.length(), textIsAtStart);
        return out;
    }

    private static Needle matchAt(String text, int i, List<Needle> longestFirst) {
        for (Needle t : longestFirst) {
            if (!t.text().isEmpty() && text.startsWith(t.text(), i)) {
                return t;
            }
        }
        return null;
    }

    private static void addText(List<Segment> out, String text, int from, int to, boolean textIsAtStart) {
        if (to > from) {
            out.add(new Segment(text.substring(from, to), null, textIsAtStart && from == 0));
        }
    }

    private static boolean isWordBoundary(String text, int start, int stop) {
        boolean before = start == 0 || !isWordChar(text.codePointBefore(start));
        boolean after = stop == text.length() || !isWordChar(text.codePointAt(stop));
        return before && after;
    }

    private static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '_';
    }

    /** Rust's {@code char::is_whitespace}: the Unicode White_Space property. */
    static boolean isRustWhitespace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }
}
