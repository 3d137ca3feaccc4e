package osprey4j.core.prompt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules of {@link ConversationPrompt} (the reference's ids are tested in osprey-model's ChatTest). */
class ConversationPromptTest {
    @Test
    void regionsAreListedOnceAndLaterOnesIntroducedAtTheirFirstMention() {
        ConversationPrompt.Built b = ConversationPrompt.build(ChatTemplate.OSPREY_V1, List.of(
                new ConversationPrompt.Turn("What is <region2>?", "A cup.", 2),
                new ConversationPrompt.Turn("And <region4> next to <region3> and <region4>?", "Plates.", 4),
                new ConversationPrompt.Turn("<region3>?", null, 4)));
        assertEquals(List.of(Preambles.IMAGE + "Ther are 2 part regions in the picture: region1<mask><pos>,"
                        + "region2<mask><pos>. What is region2?",
                "And region4<mask><pos> next to region3<mask><pos> and region4?", "region3?"), b.userMessages());
        assertArrayEquals(new int[] {0, 1, 3, 2}, b.maskOrder());
        assertEquals(ChatTemplate.OSPREY_V1.system() + " USER: " + b.userMessages().get(0) + " ASSISTANT: A cup.</s>"
                + "USER: " + b.userMessages().get(1) + " ASSISTANT: Plates.</s>USER: region3? ASSISTANT:", b.text());
    }

    @Test
    void referencesBeyondTheRegionsOfTheirTurnAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConversationPrompt.check("Is <region3> round?", 2));
        assertEquals("the question refers to <region3> but there are 2 regions", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConversationPrompt.check("<region0>", 2));
        assertThrows(IllegalArgumentException.class, () -> ConversationPrompt.build(ChatTemplate.OSPREY_V1,
                List.of(new ConversationPrompt.Turn("<region2>", "x", 1), new ConversationPrompt.Turn("y", null, 2))));
        assertThrows(IllegalArgumentException.class, () -> ConversationPrompt.build(ChatTemplate.OSPREY_V1,
                List.of(new ConversationPrompt.Turn("a", null, 0), new ConversationPrompt.Turn("b", null, 0))));
    }
}
