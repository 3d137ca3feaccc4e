package osprey4j.core.prompt;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How regions are written in Osprey's prompts, as in the reference's datasets and demo: each region is the token
 * pair {@code <mask><pos>}, whose embeddings are replaced by that region's mask and position tokens. People (and
 * the reference's annotation files) write {@code <region1>}, {@code <region2>}... instead; {@link #resolve} turns
 * those into the token pairs. The first user message starts with the image ({@link Preambles#IMAGE}).
 */
public final class RegionPrompt {
    /** The token whose embedding becomes a region's mask token. */
    public static final String MASK_TOKEN = "<mask>";
    /** The token right after it, whose embedding becomes the region's position token. */
    public static final String POS_TOKEN = "<pos>";
    /** What stands for one region in the text. */
    public static final String REGION_TOKENS = MASK_TOKEN + POS_TOKEN;
    /** A reference to the n-th region (from 1) as people write it: {@code <regionN>}, group 1 the number. */
    public static final Pattern REFERENCE = Pattern.compile("<region(\\d+)>");

    private RegionPrompt() {
    }

    /**
     * A question with its regions written as {@code <mask><pos>}; {@code maskOrder[i]} is the index (from 0) of
     * the mask that the i-th {@code <mask>} of {@code text} stands for.
     */
    public record Question(String text, int[] maskOrder) {
    }

    /** {@code <regionN>} for region {@code n} (from 1). */
    public static String reference(int n) {
        return "<region" + n + ">";
    }

    /**
     * Rewrites {@code <region1>}, {@code <region2>}... (1-based, referring to the masks in the order given) into
     * {@code <mask><pos>}. A question may instead use {@code <mask><pos>} directly, one per mask in order.
     * Every mask must be referred to, and nothing may refer to a mask that does not exist.
     */
    public static Question resolve(String question, int maskCount) {
        if (maskCount < 0) {
            throw new IllegalArgumentException("negative mask count");
        }
        int rawPairs = count(question, REGION_TOKENS);
        int rawMasks = count(question, MASK_TOKEN);
        int rawPos = count(question, POS_TOKEN);
        if (rawMasks != rawPairs || rawPos != rawPairs) {
            throw new IllegalArgumentException("'<mask>' and '<pos>' must appear together as '<mask><pos>' in the question");
        }
        Matcher m = REFERENCE.matcher(question);
        List<Integer> order = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            int n;
            try {
                n = Integer.parseInt(m.group(1));
            } catch (NumberFormatException e) {
                n = Integer.MAX_VALUE;
            }
            if (n < 1 || n > maskCount) {
                throw new IllegalArgumentException("the question refers to <region" + m.group(1) + "> but "
                        + maskCount + (maskCount == 1 ? " mask was" : " masks were") + " given");
            }
            order.add(n - 1);
            m.appendReplacement(sb, Matcher.quoteReplacement(REGION_TOKENS));
        }
        m.appendTail(sb);
        if (!order.isEmpty() && rawPairs > 0) {
            throw new IllegalArgumentException("the question mixes <regionN> references with raw '<mask><pos>'");
        }
        if (order.isEmpty()) {
            if (rawPairs != maskCount) {
                throw new IllegalArgumentException(rawPairs == 0
                        ? "the question refers to no region (write <region1>, <region2>...) but " + maskCount
                                + (maskCount == 1 ? " mask was" : " masks were") + " given"
                        : "the question has " + rawPairs + " '<mask><pos>' but " + maskCount
                                + (maskCount == 1 ? " mask was" : " masks were") + " given");
            }
            for (int i = 0; i < maskCount; i++) {
                order.add(i);
            }
        } else {
            for (int i = 0; i < maskCount; i++) {
                if (!order.contains(i)) {
                    throw new IllegalArgumentException("mask " + (i + 1) + " is not referred to by the question"
                            + " (write <region" + (i + 1) + ">)");
                }
            }
        }
        return new Question(sb.toString(), order.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * The first user message for a question: the image preamble followed by the question, unless the question
     * itself places {@code <image>}, in which case it is the whole message, verbatim.
     */
    public static String firstUserMessage(String question) {
        return question.contains(Preambles.IMAGE_TOKEN) ? question : Preambles.IMAGE + question;
    }

    /** How many times {@code sub} occurs in {@code s}, without overlaps. */
    public static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
            n++;
        }
        return n;
    }
}
