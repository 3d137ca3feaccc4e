package osprey4j.eval.metrics;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The GPT-judged comparison Ferret-Bench uses ({@code ferret/eval/eval_gpt_review_3newclass.py} and
 * {@code summarize_gpt_review.py} of apple/ml-ferret, which Osprey's README points to): a judge model sees the
 * image's text context, the question, a reference answer (assistant 1, GPT-4's) and the evaluated model's answer
 * (assistant 2) and replies with two scores on its first line; the benchmark's figure is the mean of assistant 2's
 * scores over the mean of assistant 1's, in percent.
 */
public final class GptReview {
    /** The judge's system message. */
    public static final String SYSTEM = "You are a helpful and precise assistant for checking the quality of the answer.";
    /** The judge's sampling temperature and reply bound in the reference. */
    public static final double TEMPERATURE = 0.2;
    public static final int MAX_TOKENS = 1024;
    private static final Pattern BRACKETS = Pattern.compile("\\[.*?\\]");
    private static final String DIGITS = "\\d(?:_?\\d)*";
    private static final Pattern PY_FLOAT = Pattern.compile("[+-]?(?:(?:" + DIGITS + "\\.(?:" + DIGITS + ")?|\\."
            + DIGITS + "|" + DIGITS + ")(?:[eE][+-]?" + DIGITS + ")?|inf|infinity|nan)", Pattern.CASE_INSENSITIVE);

    private GptReview() {
    }

    /**
     * The user message, character for character as the reference's f-string makes it; its {@code "[Context]\{...}"}
     * keeps the backslash (Python leaves an unknown escape as it is), so the context follows "[Context]\" directly.
     */
    public static String content(String context, String question, String role, String answer1, String answer2,
                                 String prompt) {
        return "[Context]\\" + context + "\n\n"
                + "[Question]\n" + question + "\n\n"
                + "[" + role + " 1]\n" + answer1 + "\n\n[End of " + role + " 1]\n\n"
                + "[" + role + " 2]\n" + answer2 + "\n\n[End of " + role + " 2]\n\n"
                + "[System]\n" + prompt + "\n\n";
    }

    /**
     * The evaluated answer as the reference passes it to the judge: for {@code refer_desc} and {@code refer_reason},
     * every bracketed span (a box, in Ferret's answers) is removed together with the space before it.
     */
    public static String postprocessAnswer(String answer, String category) {
        if (!category.equals("refer_desc") && !category.equals("refer_reason")) {
            return answer;
        }
        List<String> matches = new ArrayList<>();
        Matcher m = BRACKETS.matcher(answer);
        while (m.find()) {
            matches.add(m.group());
        }
        String out = answer;
        for (String match : matches) {
            out = out.replace(" " + match, "");
        }
        return out;
    }

    /**
     * The two scores of a review's first line (commas read as spaces, split at single spaces), or {@code [-1, -1]}
     * when there are not exactly two pieces or one is not a Python float.
     */
    public static double[] parseScore(String review) {
        String first = PythonText.split(review, "\n").getFirst().replace(',', ' ');
        List<String> sp = PythonText.split(first, " ");
        if (sp.size() != 2) {
            return new double[] {-1, -1};
        }
        Double a = pythonFloat(sp.get(0));
        Double b = pythonFloat(sp.get(1));
        return a == null || b == null ? new double[] {-1, -1} : new double[] {a, b};
    }

    /** Python's {@code float(s)}, or null where it raises. */
    static Double pythonFloat(String s) {
        String t = PythonText.strip(s);
        if (!PY_FLOAT.matcher(t).matches()) {
            return null;
        }
        String lower = t.toLowerCase(java.util.Locale.ROOT).replace("_", "");
        String body = lower.startsWith("+") || lower.startsWith("-") ? lower.substring(1) : lower;
        double sign = lower.startsWith("-") ? -1 : 1;
        if (body.equals("inf") || body.equals("infinity")) {
            return sign * Double.POSITIVE_INFINITY;
        }
        if (body.equals("nan")) {
            return Double.NaN;
        }
        return Double.parseDouble(lower);
    }

    /**
     * The benchmark's figure for a set of score pairs, as {@code summarize_gpt_review.py} computes it: each mean
     * rounded to 3 decimals, then {@code round(mean2 / mean1 * 100, decimals)} (Ferret prints 1 decimal, Osprey's own
     * summary 2). Failed reviews count with their {@code [-1, -1]}, as there.
     */
    public static double relativeScore(List<double[]> tuples, int decimals) {
        double s1 = 0;
        double s2 = 0;
        for (double[] t : tuples) {
            s1 += t[0];
            s2 += t[1];
        }
        double m1 = pyRound(s1 / tuples.size(), 3);
        double m2 = pyRound(s2 / tuples.size(), 3);
        return pyRound(m2 / m1 * 100, decimals);
    }

    /** Python's {@code round(x, n)} on a float: the exact binary value rounded half to even. */
    public static double pyRound(double x, int n) {
        if (Double.isNaN(x) || Double.isInfinite(x)) {
            return x;
        }
        return new BigDecimal(x).setScale(n, RoundingMode.HALF_EVEN).doubleValue();
    }
}
