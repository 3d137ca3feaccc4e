package osprey4j.eval.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The few Python string operations the reference's metric code is built from, with Python's semantics where Java's
 * differ: {@code str.split()} splits at Python's whitespace (which includes the no-break spaces and U+0085 that
 * {@link Character#isWhitespace} leaves out) and drops empty pieces; {@code str.split(sep)} keeps them.
 */
public final class PythonText {
    private PythonText() {
    }

    /** Whether Python's {@code str.isspace()} holds for this one code point. */
    public static boolean isSpace(int c) {
        return Character.isWhitespace(c) || c == 0x85 || c == 0xA0 || c == 0x2007 || c == 0x202F;
    }

    /** {@code s.split()}: the runs of non-whitespace, in order. */
    public static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && isSpace(s.codePointAt(i))) {
                i += Character.charCount(s.codePointAt(i));
            }
            int start = i;
            while (i < n && !isSpace(s.codePointAt(i))) {
                i += Character.charCount(s.codePointAt(i));
            }
            if (i > start) {
                out.add(s.substring(start, i));
            }
        }
        return out;
    }

    /** {@code s.split(sep)} with a literal, non-empty separator: every piece, the empty ones included. */
    public static List<String> split(String s, String sep) {
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        List<String> out = new ArrayList<>();
        int from = 0;
        int at;
        while ((at = s.indexOf(sep, from)) >= 0) {
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    /**
     * {@code s.strip()}: without leading and trailing Python whitespace.
     */
    public static String strip(String s) {
        int b = 0;
        int e = s.length();
        while (b < e && isSpace(s.charAt(b))) {
            b++;
        }
        while (e > b && isSpace(s.charAt(e - 1))) {
            e--;
        }
        return s.substring(b, e);
    }

    /** {@code s.rstrip()}: without trailing Python whitespace. */
    public static String rstrip(String s) {
        int e = s.length();
        while (e > 0 && isSpace(s.charAt(e - 1))) {
            e--;
        }
        return s.substring(0, e);
    }

    /** {@code s.lower()}; Java's root-locale lower-casing agrees with Python's on every letter the answers hold. */
    public static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
