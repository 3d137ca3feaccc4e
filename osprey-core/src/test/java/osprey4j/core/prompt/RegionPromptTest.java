package osprey4j.core.prompt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RegionPromptTest {
    @Test
    void regionReferencesBecomeMaskPosPairsInOrderOfMention() {
        RegionPrompt.Question q = RegionPrompt.resolve("Is <region2> left of <region1>? Describe <region2>.", 2);
        assertEquals("Is <mask><pos> left of <mask><pos>? Describe <mask><pos>.", q.text());
        assertArrayEquals(new int[] {1, 0, 1}, q.maskOrder());
    }

    @Test
    void rawMaskPosPairsAreTakenInOrder() {
        RegionPrompt.Question q = RegionPrompt.resolve("What is <mask><pos> next to <mask><pos>?", 2);
        assertEquals("What is <mask><pos> next to <mask><pos>?", q.text());
        assertArrayEquals(new int[] {0, 1}, q.maskOrder());
        assertArrayEquals(new int[0], RegionPrompt.resolve("What is in the picture?", 0).maskOrder());
    }

    @Test
    void regionCountMustMatchTheMasks() {
        var e = assertThrows(IllegalArgumentException.class, () -> RegionPrompt.resolve("What is <region3>?", 2));
        assertTrue(e.getMessage().contains("<region3>"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RegionPrompt.resolve("What is <region1>?", 2));
        assertTrue(e.getMessage().contains("mask 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RegionPrompt.resolve("What is this?", 1));
        assertThrows(IllegalArgumentException.class, () -> RegionPrompt.resolve("<mask><pos> and <mask><pos>", 1));
        assertThrows(IllegalArgumentException.class, () -> RegionPrompt.resolve("<region1> and <mask><pos>", 2));
        assertThrows(IllegalArgumentException.class, () -> RegionPrompt.resolve("<region0>", 1));
        assertThrows(IllegalArgumentException.class, () -> RegionPrompt.resolve("<mask> alone", 1));
    }

    @Test
    void preamblesAreTheReferenceStrings() {
        // osprey/datasets/osprey_724k.py: begin_str and the region list (spelled "Ther are" there).
        assertEquals("<image>\nThis provides an overview of the picture.\nWhat is <mask><pos>?",
                RegionPrompt.firstUserMessage("What is <mask><pos>?"));
        assertEquals("<image> verbatim", RegionPrompt.firstUserMessage("<image> verbatim"));
        assertEquals("Ther are 1 part region in the picture: region1<mask><pos>. ", Preambles.regionList(1));
        assertEquals("Ther are 3 part regions in the picture: region1<mask><pos>,region2<mask><pos>,"
                + "region3<mask><pos>. ", Preambles.regionList(3));
    }
}
