package osprey4j.data.instruct;

import org.junit.jupiter.api.Test;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.datasets.Turn;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reply validation, and the prompt that asks for the replies. */
class ReplyParserTest {
    @Test
    void descriptionsInAnyOrderMultiLineAndBold() throws Exception {
        String reply = "**<region2>**: A cup\non the right.\n\n<region1>: A red mug.";
        assertEquals(List.of("<region1>: A red mug.", "<region2>: A cup on the right."),
                ReplyParser.descriptions(reply, 2));
    }

    @Test
    void descriptionsMissingExtraOrDuplicatedRegionsAreRejected() {
        assertThrows(ReplyParser.InvalidReply.class, () -> ReplyParser.descriptions("<region1>: A mug.", 2));
        assertThrows(ReplyParser.InvalidReply.class,
                () -> ReplyParser.descriptions("<region1>: A mug.\n\n<region3>: A cup.", 2));
        assertThrows(ReplyParser.InvalidReply.class,
                () -> ReplyParser.descriptions("<region1>: A mug.\n\n<region1>: A cup.", 1));
        assertThrows(ReplyParser.InvalidReply.class, () -> ReplyParser.descriptions("<region1>:   \n", 1));
        assertThrows(ReplyParser.InvalidReply.class, () -> ReplyParser.descriptions("Sure! Here you go.", 1));
    }

    @Test
    void conversations() throws Exception {
        String reply = "Question 1: What is <region1>?\n\nAnswer 1: A mug.\n\nQuestion 2: And <region2>?\n\n"
                + "Answer 2: A cup, to the right\nof the mug.";
        List<Turn> turns = ReplyParser.conversation(reply, 2, false);
        assertEquals(4, turns.size());
        assertEquals(Turn.gpt("A cup, to the right\nof the mug."), turns.get(3));
        assertEquals(Turn.human("What is <region1>?"), turns.get(0));
        // region 2 never mentioned
        assertThrows(ReplyParser.InvalidReply.class, () -> ReplyParser.conversation(
                "Question 1: What is <region1>?\nAnswer 1: A mug.", 2, false));
        // a question without answer, and answers out of turn
        assertThrows(ReplyParser.InvalidReply.class, () -> ReplyParser.conversation(
                "Question 1: What is <region1>?", 1, false));
        assertThrows(ReplyParser.InvalidReply.class, () -> ReplyParser.conversation(
                "Answer 1: A mug.\nQuestion 1: What is <region1>?", 1, false));
        // short form wants short answers
        assertThrows(ReplyParser.InvalidReply.class, () -> ReplyParser.conversation(
                "Question 1: What is <region1>?\nAnswer 1: It is a large mug standing on the kitchen table.", 1, true));
        assertEquals(2, ReplyParser.conversation("Question 1: What is <region1>?\nAnswer 1: Mug.", 1, true).size());
    }

    @Test
    void promptCarriesCaptionsBoxesAndRegionNotes(@TempDir Path tmp) throws Exception {
        Path world = WorldFiles.write(tmp.resolve("world"), 0);
        SceneReader reader = SceneReader.open(SceneReader.Inputs.directory(world, null), ReadReport.strict());
        Scene scene;
        try (var s = reader.scenes()) {
            scene = s.findFirst().orElseThrow();
        }
        List<ChatClient.Message> messages = LlmPrompts.messages(Subset.DETAILED_DESCRIPTION, scene, scene.objects());
        assertEquals(List.of("system", "user", "assistant", "user"), messages.stream().map(ChatClient.Message::role)
                .toList());
        String ask = messages.get(3).content();
        assertTrue(ask.contains("- A red mug and a cup next to a plate."), ask);
        // the mug's box (5, 5, 20, 20) in a 100 x 80 image, as [x1, y1, x2, y2] fractions
        assertTrue(ask.contains("<region1> mug [0.050,0.063,0.250,0.313]; colour red; made of ceramic; "
                + "parts: handle (blue), rim"), ask);
        assertTrue(ask.contains("Marked regions: 3 (<region1>, <region2> and <region3>)."), ask);
        assertTrue(ask.contains("<region2> cup [0.700,0.625,0.950,0.938]; colour green"), ask);
        // the worked example's reply passes our own validation
        assertEquals(2, ReplyParser.descriptions(messages.get(2).content(), 2).size());
        for (Subset s : List.of(Subset.CONVERSATION, Subset.SHORT_FORM)) {
            List<ChatClient.Message> m = LlmPrompts.messages(s, scene, scene.objects());
            ReplyParser.conversation(m.get(2).content(), 2, s == Subset.SHORT_FORM);
        }
    }
}
