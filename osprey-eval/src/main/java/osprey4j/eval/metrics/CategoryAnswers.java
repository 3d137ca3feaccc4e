package osprey4j.eval.metrics;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Referring-object classification (LVIS, PACO) as the reference's {@code lvis_paco_eval.py} scores it.
 *
 * <p>The model's answer is cleaned ({@link #clean}); the ground truth is the category name with {@code _} and
 * {@code :} spelt as spaces ({@link #spell}). Semantic IoU ({@link #semanticIou}) is the Jaccard index of the two
 * lower-cased word sets; Semantic Similarity is the cosine of the all-MiniLM-L6-v2 sentence embeddings of the
 * cleaned answer and the spelt name, both as they are (not lower-cased: the model lower-cases for itself). Both are
 * averaged over regions, not images.
 */
public final class CategoryAnswers {
    /** The reference's stop string ({@code conv.sep2} of the {@code osprey_v1} template). */
    public static final String STOP = "</s>";

    private CategoryAnswers() {
    }

    /**
     * The reference's clean-up of a decoded answer: stripped, a trailing {@code </s>} removed and stripped again;
     * when there is a {@code :}, only what lies between the first and the second one is kept; then {@code .},
     * {@code :} and {@code ,} become spaces (the result is not stripped again).
     */
    public static String clean(String answer) {
        return afterLabel(answer).replace('.', ' ').replace(':', ' ').replace(',', ' ');
    }

    /**
     * The clean-up the reference's LVIS/PACO and RefCOCOg scripts share: stripped, a trailing {@code </s>} removed
     * and stripped again, and when there is a {@code :}, only what lies between the first and the second one.
     */
    public static String afterLabel(String answer) {
        String s = PythonText.strip(answer);
        if (s.endsWith(STOP)) {
            s = s.substring(0, s.length() - STOP.length());
        }
        s = PythonText.strip(s);
        if (s.contains(":")) {
            s = PythonText.split(s, ":").get(1);
        }
        return s;
    }

    /**
     * The RefCOCOg caption as {@code refcocog_eval.py} writes it: {@link #afterLabel}, then every {@code .} followed
     * by a newline (which the caption evaluation's tokeniser turns back into a space).
     */
    public static String caption(String answer) {
        return afterLabel(answer).replace(".", ".\n");
    }

    /**
     * The ground truth as compared: {@code baseball_bat} to {@code baseball bat}, {@code mug:handle} to
     * {@code mug handle}.
     */
    public static String spell(String category) {
        return category.replace('_', ' ').replace(':', ' ');
    }

    /**
     * The Jaccard index of the lower-cased whitespace-separated word sets of the cleaned answer and the spelt
     * category. Both empty is undefined (the reference divides by zero); it cannot happen with a category name.
     *
     * @throws IllegalArgumentException when both have no words
     */
    public static double semanticIou(String cleanedAnswer, String spelledCategory) {
        Set<String> a = new HashSet<>(words(cleanedAnswer));
        Set<String> b = new HashSet<>(words(spelledCategory));
        Set<String> union = new HashSet<>(a);
        union.addAll(b);
        if (union.isEmpty()) {
            throw new IllegalArgumentException("Semantic IoU of two texts without words is undefined");
        }
        a.retainAll(b);
        return (double) a.size() / union.size();
    }

    private static List<String> words(String s) {
        return PythonText.split(PythonText.lower(s));
    }

    /** Semantic Similarity: {@code util.cos_sim(encode(cleanedAnswer), encode(spelledCategory))}. */
    public static double semanticSimilarity(SentenceEncoder encoder, String cleanedAnswer, String spelledCategory) {
        return SentenceEncoder.cosine(encoder.embed(cleanedAnswer), encoder.embed(spelledCategory));
    }
}
