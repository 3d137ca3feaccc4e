package osprey4j.core.prompt;

/**
 * The fixed openings of the reference's user messages, character for character (typos included: the model learnt
 * them). Every one starts with the image placeholder, which the tokenizer replaces by the image's tokens.
 */
public final class Preambles {
    /** Where the image's tokens go in a prompt. */
    public static final String IMAGE_TOKEN = "<image>";
    /** The sentence about the image that the reference's preambles share. */
    public static final String OVERVIEW_SENTENCE = "This provides an overview of the picture.";
    /**
     * The first user message's opening in the reference's instruction data (Osprey-724K, Visual Genome) and in
     * its evaluations of category and yes/no questions; {@code osprey ask} uses it too.
     */
    public static final String IMAGE = "<image>\nThis provides an overview of the picture.\n";
    /** The reference demo's opening ({@code begin_str} of its inference script), with its blank line. */
    public static final String DEMO = "<image>\n\nThis provides an overview of the picture.\n";
    /** The region-captioning (RefCOCOg) evaluation's opening; the stray full stop after the image is the reference's. */
    public static final String REFCOCOG_EVAL = "<image>.\nThis provides an overview of the picture.\n";

    private Preambles() {
    }

    /**
     * The sentence the reference's conversation data (Osprey-724K conversations, part-level and short-form
     * sets) puts before the first question, naming every region, spelled as in the reference (including its
     * "Ther are"): {@code "Ther are 2 part regions in the picture: region1<mask><pos>,region2<mask><pos>. "}.
     */
    public static String regionList(int regionCount) {
        if (regionCount < 1) {
            throw new IllegalArgumentException("at least one region is needed, got " + regionCount);
        }
        StringBuilder regions = new StringBuilder();
        for (int i = 0; i < regionCount; i++) {
            if (i > 0) {
                regions.append(',');
            }
            regions.append("region").append(i + 1).append(RegionPrompt.REGION_TOKENS);
        }
        String head = regionCount == 1 ? "Ther are 1 part region in the picture: "
                : "Ther are " + regionCount + " part regions in the picture: ";
        return head + regions + ". ";
    }
}
