package osprey4j.eval.metrics;

import java.util.Map;
import java.util.StringTokenizer;
import java.util.regex.Pattern;

/**
 * METEOR 1.5's {@code -norm} for English (punctuation kept; the scorer lower-cases afterwards): a Moses-style
 * tokenisation with METEOR's additions. In order: every character that is not a letter or digit (Latin-1, Latin
 * Extended-A up to U+017E, Cyrillic), whitespace, dot, apostrophe, backquote, comma, hyphen or curly single quote
 * is spaced out; runs of dots are protected; commas are split off except between digits; backquote and curly
 * single quotes become {@code '}, curly double quotes and {@code ''} become a spaced {@code "}; en dash and
 * {@code --} become {@code -}, and a hyphen between word characters (or after a dot) becomes a space; English
 * contractions split before the apostrophe ({@code it 's}, {@code 1990 's}); a final dot is split off a word unless
 * the word holds a dot and a letter (then its dots are dropped: {@code U.S.} to {@code US}), is a listed
 * nonbreaking prefix, precedes a word starting with a lower-case letter, or is a numeric-only prefix before a
 * number; whitespace (with the Unicode spaces) is collapsed.
 */
final class MeteorNormalizer {
    private static final String ALPHA = "A-Za-z\u0160\u017D\u0161\u017E\u0178\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u017E"
            + "\u0400-\u04FF\u0500-\u0527\uA640-\uA66E\uA67E-\uA697\u1D00-\u1D7F";
    private static final String ALNUM = "0-9" + ALPHA;
    private static final Pattern OTHER_SYMBOL = Pattern.compile("([^" + ALNUM + "\\s.'`,\\-\u2018\u2019])");
    private static final Pattern DOT_RUN = Pattern.compile("\\.([.]+)");
    private static final Pattern DOT_RUN_REST = Pattern.compile("DOTMULTI\\.([^.])");
    private static final Pattern COMMA_WORDS = Pattern.compile("([^\\p{Digit}]),([^\\p{Digit}])");
    private static final Pattern COMMA_AFTER_DIGIT = Pattern.compile("(\\p{Digit}),([^\\p{Digit}])");
    private static final Pattern COMMA_BEFORE_DIGIT = Pattern.compile("([^\\p{Digit}]),(\\p{Digit})");
    private static final Pattern SINGLE_QUOTES = Pattern.compile("[`\u2018\u2019]");
    private static final Pattern DOUBLE_QUOTES = Pattern.compile("([\u201C\u201D]|'')");
    private static final Pattern INNER_HYPHEN = Pattern.compile("([" + ALNUM + ".])-([" + ALNUM + "])");
    private static final Pattern APOS_NON_LETTERS = Pattern.compile("([^" + ALPHA + "])'([^" + ALPHA + "])");
    private static final Pattern APOS_BEFORE_LETTER = Pattern.compile("([^" + ALPHA + "\\p{Digit}])'([" + ALPHA + "])");
    private static final Pattern APOS_AFTER_LETTER = Pattern.compile("([" + ALPHA + "])'([^" + ALPHA + "])");
    private static final Pattern APOS_IN_WORD = Pattern.compile("([" + ALPHA + "])'([" + ALPHA + "])");
    private static final Pattern APOS_DECADE = Pattern.compile("(\\p{Digit})'(s)");
    private static final Pattern LETTER = Pattern.compile("[" + ALPHA + "]");
    private static final Pattern STARTS_LOWER = Pattern.compile("^\\p{Lower}");
    private static final Pattern STARTS_DIGIT = Pattern.compile("^[0-9]+");
    private static final Pattern SPACES = Pattern.compile("[  \u2000-\u200A\u202F\u205F\u3000\u00A0]+");

    /** Nonbreaking prefixes: {@code true} when the prefix keeps its dot only before a number. */
    private final Map<String, Boolean> prefixes;

    MeteorNormalizer(Map<String, Boolean> prefixes) {
        this.prefixes = Map.copyOf(prefixes);
    }

    String normalize(String text) {
        String s = " " + text + " ";
        s = OTHER_SYMBOL.matcher(s).replaceAll(" $1 ");
        s = DOT_RUN.matcher(s).replaceAll(" DOTMULTI$1");
        while (s.contains("DOTMULTI.")) {
            s = DOT_RUN_REST.matcher(s).replaceAll("DOTDOTMULTI $1");
            s = s.replace("DOTMULTI.", "DOTDOTMULTI");
        }
        s = COMMA_WORDS.matcher(s).replaceAll("$1 , $2");
        s = COMMA_AFTER_DIGIT.matcher(s).replaceAll("$1 , $2");
        s = COMMA_BEFORE_DIGIT.matcher(s).replaceAll("$1 , $2");
        s = SINGLE_QUOTES.matcher(s).replaceAll("'");
        s = DOUBLE_QUOTES.matcher(s).replaceAll(" \" ");
        s = s.replace("\u2013", "-").replace("--", "-");
        s = INNER_HYPHEN.matcher(s).replaceAll("$1 $2");
        s = APOS_NON_LETTERS.matcher(s).replaceAll("$1 ' $2");
        s = APOS_BEFORE_LETTER.matcher(s).replaceAll("$1 ' $2");
        s = APOS_AFTER_LETTER.matcher(s).replaceAll("$1 ' $2");
        s = APOS_IN_WORD.matcher(s).replaceAll("$1 '$2");
        s = APOS_DECADE.matcher(s).replaceAll("$1 '$2");

        StringTokenizer tok = new StringTokenizer(s);
        String[] words = new String[tok.countTokens()];
        for (int i = 0; i < words.length; i++) {
            words[i] = tok.nextToken();
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < words.length; i++) {
            String w = words[i];
            boolean hasNext = i < words.length - 1;
            if (w.length() > 1 && w.endsWith(".")) {
                String stem = w.substring(0, w.length() - 1);
                Boolean numericOnly = prefixes.get(stem);
                if (stem.contains(".") && LETTER.matcher(stem).find()) {
                    b.append(w.replace(".", ""));
                } else if (Boolean.FALSE.equals(numericOnly) || hasNext && STARTS_LOWER.matcher(words[i + 1]).find()) {
                    b.append(w);
                } else if (Boolean.TRUE.equals(numericOnly) && hasNext && STARTS_DIGIT.matcher(words[i + 1]).find()) {
                    b.append(w);
                } else {
                    b.append(stem).append(" .");
                }
            } else {
                b.append(w);
            }
            b.append(' ');
        }
        s = b.toString();
        while (s.contains("DOTDOTMULTI")) {
            s = s.replace("DOTDOTMULTI", "DOTMULTI.");
        }
        s = s.replace("DOTMULTI", ".");
        return SPACES.matcher(s).replaceAll(" ").trim();
    }
}
