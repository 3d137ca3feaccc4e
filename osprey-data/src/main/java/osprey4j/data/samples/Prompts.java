package osprey4j.data.samples;

import java.util.List;
import osprey4j.core.prompt.Preambles;

/**
 * The prompt conventions the reference trained and evaluates with that only its datasets use. The conventions
 * the model, the CLI and the data share (the chat templates, the image preamble, the region list, {@code <regionN>}
 * and {@code <mask><pos>}) are in {@code osprey4j.core.prompt}. The fixed strings below are reproduced character
 * for character (typos included: the model learnt them), because the weights depend on them. The question pools
 * from which wording is drawn at random are our own; the reference's pools are not copied.
 */
public final class Prompts {
    private Prompts() {
    }

    /** Placeholder for a region in the question pools below. */
    static final String POOL_REGION = "<region>";

    /** Stage-2 COCO preamble: answer with the category name, one region per question. */
    public static final String COCO_CATEGORY = "<image>\nIn the conversation below, you simply answer the category "
            + "name based on what you see in the imagery inside a particular region. I will give you only one region "
            + "each time.\n";

    /** RefCOCO preamble (no newline at its end: the region follows the full stop directly). */
    public static final String REFCOCO = "<image>\nI will provide you with only one region containing only one "
            + "object, although there may be other objects present in the image. It is recommended that you describe "
            + "the object's relative position with respect to other objects in the image, as well as its position "
            + "within the image and its basic attributes.";

    /** RefCOCO+ preamble: like RefCOCO but without absolute position. */
    public static final String REFCOCO_PLUS = "<image>\nI will provide you with only one region containing only one "
            + "object, although there may be other objects present in the image. It is recommended that you describe "
            + "the object's relative position with respect to other objects in the image and its basic attibuts, you "
            + "should not give its position within the image.";

    private static final String PART_INTRO = "In the conversation below, you simply answer the category and "
            + "subcategory name based on what you seein the image inside a particular region. It maybe a subpart of "
            + "an object. I will give you only one region each time. Your answer should in the format of ";

    /** PartImageNet preamble with its class lists (the reference joins subcategories without spaces). */
    public static final String PART_IMAGENET = "<image>\n" + PART_INTRO + "category subcategory. "
            + "Categories Containing " + String.join(", ", List.of("Bottle", "Biped", "Quadruped", "Fish", "Reptile",
            "Bicycle", "Bird", "Car", "Boat", "Snake", "Aeroplane")) + ". "
            + "Subcategories Containing " + String.join(",", List.of("Tier", "Hand", "Wing", "Mouth", "Tail", "Side",
            "Fin", "Engine", "Foot", "Head", "Body", "Sail", "Seat")) + ".\n";

    /** Pascal-Part preamble with its class lists. */
    public static final String PASCAL_PART = "<image>\n " + PART_INTRO + "category:subcategory. "
            + "Categories Containing " + String.join(", ", List.of("potted plant", "aeroplane", "cow", "cat", "bus",
            "horse", "car", "dog", "bicycle", "person", "bird", "bottle", "sheep", "motorbike")) + ". "
            + "Subcategories Containing " + String.join(",", List.of("eye", "window", "cap", "headlight", "hand",
            "mirror", "arm", "plant", "wheel", "ear", "pot", "foot", "leg", "nose", "body", "horn", "handlebar", "neck",
            "license plate", "paw", "saddle", "head", "muzzle", "tail", "wing", "beak", "hair", "torso", "door",
            "mouth")) + ".\n";

    /** Appended to every question of the part-level and short-form files. */
    public static final String SINGLE_WORD_OR_PHRASE = " Answer the question using a single word or phrase.";
    /** Appended to every Visual Genome question. */
    public static final String SHORT_PHRASE = " Answer the question using a short phrase.";

    /** Referring-object classification (LVIS/PACO evaluation) question. */
    public static final String CATEGORY_QUESTION = "What is the category of <mask><pos>? Using only one word or phrase.";
    public static final String REFCOCOG_EVAL_QUESTION = "Please give me a short description of <mask><pos>.";

    /** Requests for a detailed description of one region (our wording). */
    public static final List<String> DETAILED_QUESTIONS = List.of(
            "Describe <region> in this image thoroughly.",
            "Give a full account of what appears in <region>.",
            "What does <region> show? Please be thorough.",
            "Write a rich, detailed description of the area covered by <region>.",
            "Tell me everything you can observe about <region>.",
            "Walk me through the contents of <region> in detail.",
            "Explain in depth what is inside <region>.",
            "Paint a detailed verbal picture of <region>.",
            "How would you describe <region> to someone who cannot see the image? Include as much detail as you can.",
            "Look closely at <region> and describe its appearance, parts and surroundings.",
            "Give me an elaborate description of the object or area marked <region>.",
            "I need a careful, detailed write-up of <region>.",
            "Characterise <region> in detail: what it is, how it looks and what it is doing.",
            "Provide an extensive description of the masked area <region>.",
            "Describe the contents of <region> as precisely and completely as possible.",
            "What is going on in <region>? Describe it at length.",
            "Break down the visual details of <region> for me.",
            "Could you give a detailed portrait of whatever <region> covers?",
            "Focus on <region> and describe it fully.",
            "Offer a comprehensive, fine-grained description of <region>.");

    /** Requests for a short description of one region (our wording), used for Visual Genome. */
    public static final List<String> SHORT_QUESTIONS = List.of(
            "Briefly describe <region>.",
            "What is <region>? Keep it short.",
            "Sum up <region> in a few words.",
            "Give a brief caption for <region>.",
            "In a few words, what does <region> show?",
            "Write a short phrase describing <region>.",
            "Quickly tell me what <region> contains.",
            "How would you caption <region> concisely?",
            "Name and briefly characterise what is in <region>.",
            "A compact description of <region>, please.",
            "What is shown by <region>, in short?",
            "Label <region> with a brief description.",
            "Describe the area <region> concisely.",
            "Give me a one-line description of <region>.",
            "Tersely, what appears in <region>?",
            "Offer a short summary of <region>.");

    /** Requests for an image caption (our wording; image-level, no region). */
    public static final List<String> CAPTION_QUESTIONS = List.of(
            "Describe this image briefly.",
            "Give a short caption for the picture.",
            "What is happening in this photo? Answer in one sentence.",
            "Summarise the image in a sentence.",
            "Write a concise caption for this image.",
            "In one sentence, what does the picture show?",
            "Provide a brief description of the scene.",
            "Caption this photo.");

    /**
     * The reference's last text step before tokenising ({@code preprocess_multimodal}): a turn that mentions
     * {@code <image>} gets it moved to its very start, followed by a newline and the rest of the text trimmed.
     */
    public static String moveImageToFront(String value) {
        if (!value.contains(Preambles.IMAGE_TOKEN)) {
            return value;
        }
        return (Preambles.IMAGE_TOKEN + "\n" + value.replace(Preambles.IMAGE_TOKEN, "").strip()).strip();
    }
}
