package osprey4j.data.instruct;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The prompts of LLM mode. They follow the paper's recipe (a system message saying what to write, one worked
 * example as a user/assistant exchange, then the image's captions, its annotated objects with normalised boxes and
 * the marked regions) but every sentence here is our own. Regions are written {@code <region1>}, {@code <region2>}...
 */
final class LlmPrompts {
    private LlmPrompts() {
    }

    private static final String SEEING = "You are a visual assistant describing one photograph. You cannot see it "
            + "directly; instead you get what people who saw it wrote (captions), every annotated object with its box, "
            + "and some marked regions with notes measured from their masks. A box is [left, top, right, bottom] with "
            + "each value a fraction of the image width or height, measured from the top-left corner. Speak as if you "
            + "were looking at the picture yourself: never quote coordinates and never mention captions, boxes, notes "
            + "or annotations as where your knowledge comes from.\n";

    static final String DESCRIPTION_SYSTEM = SEEING
            + "Task: write a detailed description of every marked region. Say what the object is and cover what can "
            + "be told with confidence: its kind, colour, material, parts, state or action, where it is in the "
            + "picture and which objects are around it. Do not begin with phrases like \"this region\".\n"
            + "Format: one paragraph per region, in order, separated by a blank line, each opening with the region's "
            + "tag and a colon, for example \"<region1>: ...\". Write nothing else.";

    static final String CONVERSATION_SYSTEM = SEEING
            + "Task: write a conversation between a curious person and you about the marked regions. Refer to the "
            + "regions only by their tags (<region1>, <region2>, ...) and bring every region into the conversation at "
            + "least once. Vary the questions: what an object is, its colour, parts, action, place in the picture, "
            + "place relative to other objects; add one or two harder questions that need reasoning or everyday "
            + "knowledge about the scene and answer those at length. Ask only what the given information lets you "
            + "answer with confidence.\n"
            + "Format: \"Question 1: ...\", a blank line, \"Answer 1: ...\", a blank line, \"Question 2: ...\" and so on.";

    static final String SHORT_FORM_SYSTEM = SEEING
            + "Task: write a quiz about the marked regions whose every answer is a single word or a short phrase "
            + "(at most four words). Refer to the regions only by their tags (<region1>, <region2>, ...) and ask about "
            + "every region at least once: its category, colour, parts, position, nearest object and so on. Ask only "
            + "what the given information answers with confidence.\n"
            + "Format: \"Question 1: ...\", a blank line, \"Answer 1: ...\", a blank line, \"Question 2: ...\" and so on.";

    // One invented scene for the worked examples (not taken from any dataset).
    private static final String EXAMPLE_ASK = """
            Captions of the whole picture:
            - A steel kettle and a toaster stand on a kitchen counter by the window.
            - Kitchen counter with a kettle, a toaster and a bowl of lemons.

            Annotated objects:
            kettle: [0.120,0.300,0.380,0.720]
            toaster: [0.450,0.420,0.800,0.760]
            bowl: [0.820,0.600,0.990,0.780]

            Marked regions: 2 (<region1> and <region2>).
            <region1> kettle [0.120,0.300,0.380,0.720]; colour grey; made of steel; parts: handle, spout, lid
            <region2> toaster [0.450,0.420,0.800,0.760]; colour red
            """;

    private static final String EXAMPLE_DESCRIPTION = """
            <region1>: A brushed steel kettle stands on the left half of the counter, its handle arching over the lid \
            and its spout pointing towards the toaster beside it. The grey metal catches the light from the window.

            <region2>: A red two-slot toaster sits in the middle of the counter, between the kettle on its left and a \
            bowl of lemons on its right.""";

    private static final String EXAMPLE_CONVERSATION = """
            Question 1: What is the object in <region1> made of?

            Answer 1: The kettle in <region1> is made of steel, which gives it a grey, slightly shiny look.

            Question 2: Where is <region2> compared with <region1>?

            Answer 2: The toaster in <region2> stands to the right of the kettle, roughly in the middle of the counter.

            Question 3: What might someone be preparing here?

            Answer 3: With a kettle and a toaster side by side, this looks like a breakfast corner: someone could boil \
            water for tea or coffee while bread is toasting, and the lemons nearby could go into the tea.""";

    private static final String EXAMPLE_SHORT = """
            Question 1: What colour is <region2>?

            Answer 1: Red.

            Question 2: Which part of <region1> points at the toaster?

            Answer 2: The spout.

            Question 3: What stands to the right of <region1>?

            Answer 3: A toaster.""";

    static List<ChatClient.Message> messages(Subset subset, Scene scene, List<SceneObject> regions) {
        String system;
        String example;
        switch (subset) {
            case DETAILED_DESCRIPTION -> {
                system = DESCRIPTION_SYSTEM;
                example = EXAMPLE_DESCRIPTION;
            }
            case CONVERSATION -> {
                system = CONVERSATION_SYSTEM;
                example = EXAMPLE_CONVERSATION;
            }
            case SHORT_FORM -> {
                system = SHORT_FORM_SYSTEM;
                example = EXAMPLE_SHORT;
            }
            default -> throw new IllegalArgumentException(subset + " is made from templates, not by the LLM");
        }
        return List.of(new ChatClient.Message("system", system), new ChatClient.Message("user", EXAMPLE_ASK),
                new ChatClient.Message("assistant", example), new ChatClient.Message("user", ask(scene, regions)));
    }

    /** The user message for one image: captions, all objects with boxes, then the marked regions with notes. */
    static String ask(Scene scene, List<SceneObject> regions) {
        StringBuilder b = new StringBuilder();
        if (!scene.captions().isEmpty()) {
            b.append("Captions of the whole picture:\n");
            scene.captions().forEach(c -> b.append("- ").append(c).append('\n'));
            b.append('\n');
        }
        b.append("Annotated objects:\n");
        for (SceneObject o : scene.objects()) {
            b.append(o.category()).append(": ").append(box(o, scene)).append('\n');
        }
        List<String> tags = new ArrayList<>();
        for (int i = 0; i < regions.size(); i++) {
            tags.add(TemplateText.region(i));
        }
        b.append("\nMarked regions: ").append(regions.size()).append(" (").append(Phrases.list(tags)).append(").\n");
        for (int i = 0; i < regions.size(); i++) {
            SceneObject o = regions.get(i);
            b.append(tags.get(i)).append(' ').append(o.category()).append(' ').append(box(o, scene));
            if (o.colour() != null) {
                b.append("; colour ").append(o.colour());
            }
            for (Attribute a : o.attributes()) {
                b.append(a.isMaterial() ? "; made of " : "; ").append(a.name());
            }
            if (!o.parts().isEmpty()) {
                b.append("; parts: ").append(String.join(", ", o.parts().stream()
                        .map(p -> p.colour() == null ? p.name() : p.name() + " (" + p.colour() + ")").distinct().toList()));
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String box(SceneObject o, Scene s) {
        double[] n = o.normalisedBox(s.width(), s.height());
        return String.format(Locale.ROOT, "[%.3f,%.3f,%.3f,%.3f]", n[0], n[1], n[2], n[3]);
    }
}
