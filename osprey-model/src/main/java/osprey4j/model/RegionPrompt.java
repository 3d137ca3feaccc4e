package osprey4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How questions about regions are written for Osprey, as in the reference's datasets and demo: each region is
 * the token pair {@code <mask><pos>}, whose embeddings are replaced by that region's mask and position tokens;
 * the first user message starts with the image and a sentence about it.
 */
public final class RegionPrompt {
    /** What stands for one region in the text. */
    public static final String REGION_TOKENS = "<mask><pos>";
    /** The first user message's opening in the reference's instruction data. */
    public static final String IMAGE_PREAMBLE = "<image>\nThis provides an overview of the picture.\n";

    private static final Pattern REGION_REFERENCE = Pattern.compile("<region(\\d+)>");

    private RegionPrompt() {
    }

    /**
     * A question with its regions written as {@code <mask><pos>}; {@code maskOrder[i]} is the index (from 0) of
     * the mask that the i-th {@code <mask>} of {@code text} stands for.
     */
    public record Question(String text, int[] maskOrder) {
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
        int rawMasks = count(question, "<mask>");
        int rawPos = count(question, "<pos>");
        if (rawMasks != rawPairs || rawPos != rawPairs) {
            throw new IllegalArgumentException("'<mask>' and '<pos>' must appear together as '<mask><pos>' in the question");
        }
        Matcher m = REGION_REFERENCE.matcher(question);
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
        return question.contains(OspreyTokens.IMAGE_PLACEHOLDER) ? question : IMAGE_PREAMBLE + question;
    }

    /**
     * The sentence the reference's conversation data (Osprey-724K conversations, part-level and short-form
     * sets) puts before the first question, naming every region, spelled as in the reference (including its
     * "Ther are"): {@code "Ther are 2 part regions in the picture: region1<mask><pos>,region2<mask><pos>. "}.
     */
    public static String regionListPreamble(int regionCount) {
        if (regionCount < 1) {
            throw new IllegalArgumentException("at least one region is needed, got " + regionCount);
        }
        StringBuilder regions = new StringBuilder();
        for (int i = 0; i < regionCount; i++) {
            if (i > 0) {
                regions.append(',');
            }
            regions.append("region").append(i + 1).append(REGION_TOKENS);
        }
        String head = regionCount == 1 ? "Ther are 1 part region in the picture: "
                : "Ther are " + regionCount + " part regions in the picture: ";
        return head + regions + ". ";
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
            n++;
        }
        return n;
    }
}
