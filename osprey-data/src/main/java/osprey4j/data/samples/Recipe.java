package osprey4j.data.samples;

import java.util.Arrays;
import java.util.Locale;

/**
 * How samples are made from one kind of dataset: which preamble, how many regions at most, how the image file is
 * named. Caps and naming follow the reference's dataset classes; recipes marked "ours" have no counterpart there.
 */
public enum Recipe {
    /** COCO instances: name the category of each region (reference stage 2, up to 20 regions). */
    COCO_CATEGORIES("coco", Source.COCO_STYLE, 20, false),
    /** LVIS v1 instances, COCO convention; names with underscores spelt with spaces (ours). */
    LVIS_CATEGORIES("lvis", Source.COCO_STYLE, 20, false),
    /** PACO-LVIS objects and parts, COCO convention; {@code mug:handle} answered as {@code mug handle} (ours). */
    PACO_CATEGORIES("paco", Source.COCO_STYLE, 20, false),
    /** Pascal-Part (reference stage 2, up to 15 regions). */
    PASCAL_PART("pascal_part", Source.COCO_STYLE, 15, false),
    /** PartImageNet (reference stage 2, up to 15 regions). */
    PART_IMAGENET("part_imagenet", Source.COCO_STYLE, 15, false),
    /** RefCOCO: describe the referred object; the answer is the entry's expression (up to 15 regions). */
    REFCOCO("refcoco", Source.COCO_STYLE, 15, true),
    /** RefCOCO+: as RefCOCO with its own preamble. */
    REFCOCO_PLUS("refcoco+", Source.COCO_STYLE, 15, true),
    /** RefCOCOg training file: the RefCOCO convention (the reference ships no RefCOCOg training class). */
    REFCOCOG("refcocog", Source.COCO_STYLE, 15, true),
    /** Visual Genome region descriptions with masks: short questions (ours), up to 3 regions. */
    VISUAL_GENOME("vg", Source.COCO_STYLE, 3, false),
    /** COCO captions: one image-level question and caption (ours; the stage-1 alignment shape). */
    COCO_CAPTIONS("coco_captions", Source.COCO_STYLE, 0, false),
    /** {@code osprey_detail_description.json}: one detailed-description question per region. */
    OSPREY_DETAILED_DESCRIPTION("osprey_detailed_description", Source.OSPREY_724K, 20, true),
    /** {@code osprey_conversation.json}. */
    OSPREY_CONVERSATION("osprey_conversation", Source.OSPREY_724K, 0, true),
    /** {@code osprey_part_level.json}, with the single-word suffix. */
    OSPREY_PART_LEVEL("osprey_part_level", Source.OSPREY_724K, 0, true),
    /** {@code osprey_short_form.json}, with the single-word suffix. */
    OSPREY_SHORT_FORM("osprey_short_form", Source.OSPREY_724K, 0, true),
    /** {@code osprey_lvis_positive_negative.json}: yes/no questions naming regions as {@code <regionN>}. */
    OSPREY_LVIS_POSITIVE_NEGATIVE("osprey_lvis_positive_negative", Source.OSPREY_724K, 0, false);

    /** What reader feeds the recipe. */
    public enum Source { COCO_STYLE, OSPREY_724K }

    private final String id;
    private final Source source;
    private final int regionCap;
    private final boolean coco2014Names;

    Recipe(String id, Source source, int regionCap, boolean coco2014Names) {
        this.id = id;
        this.source = source;
        this.regionCap = regionCap;
        this.coco2014Names = coco2014Names;
    }

    /** Short name used in sample ids and on the command line. */
    public String id() {
        return id;
    }

    public Source source() {
        return source;
    }

    /**
     * The reference's region cap for this data, 0 where regions cannot be dropped (conversations refer to regions
     * by number, so the reference keeps them all) or there are none.
     */
    public int regionCap() {
        return regionCap;
    }

    /**
     * The image file name for an entry's {@code file_name}. Where the reference uses COCO 2014-style names
     * ({@code COCO_train2014_000000123456.jpg}) with a folder of 2017-style images, it keeps what follows the last
     * underscore ({@code 000000123456.jpg}); a name without underscore is kept whole.
     */
    public String imageFileName(String fileName) {
        return coco2014Names ? fileName.substring(fileName.lastIndexOf('_') + 1) : fileName;
    }

    public static Recipe byId(String id) {
        String want = id.toLowerCase(Locale.ROOT);
        for (Recipe r : values()) {
            if (r.id.equals(want) || r.name().toLowerCase(Locale.ROOT).equals(want)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown dataset recipe '" + id + "'; known: "
                + Arrays.stream(values()).map(Recipe::id).toList());
    }
}
