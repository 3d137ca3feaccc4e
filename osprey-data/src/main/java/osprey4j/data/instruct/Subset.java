package osprey4j.data.instruct;

/** The five Osprey-724K files, named as the official release names them. */
public enum Subset {
    DETAILED_DESCRIPTION("osprey_detail_description.json"),
    CONVERSATION("osprey_conversation.json"),
    PART_LEVEL("osprey_part_level.json"),
    LVIS_POSITIVE_NEGATIVE("osprey_lvis_positive_negative.json"),
    SHORT_FORM("osprey_short_form.json");

    private final String fileName;

    Subset(String fileName) {
        this.fileName = fileName;
    }

    public String fileName() {
        return fileName;
    }

    /** Short id used in the work log and on the command line. */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
