package osprey4j.eval.metrics;

import java.util.List;

/**
 * POPE as the reference scores it ({@code pope_eval.py} writes each answer lower-cased, {@code pope/evaluate.py}
 * reads it): only the text before the first {@code .} is kept, commas are removed, and the answer is "no" when one
 * of its space-separated words is {@code no}, {@code not} (or {@code No}, which lower-casing has already removed),
 * "yes" otherwise, so an empty or off-topic answer counts as yes.
 */
public final class PopeAnswers {
    private PopeAnswers() {
    }

    /** Whether the decoded answer counts as "no". */
    public static boolean saysNo(String decodedAnswer) {
        String text = PythonText.lower(decodedAnswer);
        int dot = text.indexOf('.');
        if (dot >= 0) {
            text = text.substring(0, dot);
        }
        text = text.replace(",", "");
        List<String> words = PythonText.split(text, " ");
        return words.contains("No") || words.contains("not") || words.contains("no");
    }

    /**
     * The confusion counts, "yes" being the positive class.
     */
    public record Counts(int tp, int fp, int tn, int fn) {
        public Counts add(boolean predictedYes, boolean labelYes) {
            if (predictedYes && labelYes) {
                return new Counts(tp + 1, fp, tn, fn);
            } else if (predictedYes) {
                return new Counts(tp, fp + 1, tn, fn);
            } else if (!labelYes) {
                return new Counts(tp, fp, tn + 1, fn);
            }
            return new Counts(tp, fp, tn, fn + 1);
        }

        public int total() {
            return tp + fp + tn + fn;
        }

        public double accuracy() {
            return ratio(tp + tn, total());
        }

        /** NaN when nothing was predicted yes (the reference divides by zero there). */
        public double precision() {
            return ratio(tp, tp + fp);
        }

        /** NaN when no label is yes. */
        public double recall() {
            return ratio(tp, tp + fn);
        }

        public double f1() {
            double p = precision();
            double r = recall();
            return 2 * p * r / (p + r);
        }

        /** The share of answers counted as yes. */
        public double yesRatio() {
            return ratio(tp + fp, total());
        }

        private static double ratio(int a, int b) {
            return b == 0 ? Double.NaN : (double) a / b;
        }
    }
}
