package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.core.prompt.ChatTemplate;
import osprey4j.core.prompt.QuestionPrompt;

/** The prompt text and ids the facade builds, against what the reference built for the parity cases. */
class QuestionPromptTest {
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = OspreyTokens.loadTokenizer(FacadeFixtures.modelDir(), Tokenizer.Mode.FAST);
    }

    /**
     * Each case's question as a user of 'osprey ask' writes it: the dataset path (A, D) is the bare question,
     * which gets the standard preamble; the demo (B) and eval (C) paths wrote their own opening, so the question
     * carries its <image> and is taken verbatim.
     */
    private static String askedQuestion(JsonNode c) {
        String path = c.path("prompt_path").asText();
        return path.equals("dataset") ? c.path("question").asText() : c.path("message").asText();
    }

    @ParameterizedTest
    @ValueSource(strings = {"A", "B", "C", "D"})
    void promptTextAndIdsMatchTheReference(String name) {
        JsonNode c = FacadeFixtures.testCase(name);
        int masks = c.path("masks").size();
        QuestionPrompt p = QuestionPrompt.of(ChatTemplate.OSPREY_V1, askedQuestion(c), masks);
        assertEquals(c.path("prompt").asText(), p.text());
        assertArrayEquals(FacadeFixtures.ints(c.path("input_ids")), OspreyTokens.encodePrompt(tokenizer, p.text()));
        int[] identity = new int[masks];
        for (int i = 0; i < masks; i++) {
            identity[i] = i;
        }
        assertArrayEquals(identity, p.maskOrder());
    }

    @Test
    void regionReferencesGiveTheSameIdsAsRawMaskPos() {
        JsonNode c = FacadeFixtures.testCase("A");
        String withRegions = "What is the relationship between region1<region1> and region2<region2>?";
        QuestionPrompt p = QuestionPrompt.of(ChatTemplate.OSPREY_V1, withRegions, 2);
        assertArrayEquals(FacadeFixtures.ints(c.path("input_ids")), OspreyTokens.encodePrompt(tokenizer, p.text()));
    }

    @Test
    void regionsInAnotherOrderReorderTheMasks() {
        QuestionPrompt p = QuestionPrompt.of(ChatTemplate.OSPREY_V1, "Is <region2> left of <region1>?", 2);
        assertArrayEquals(new int[] {1, 0}, p.maskOrder());
        assertTrue(p.text().contains("Is <mask><pos> left of <mask><pos>?"));
    }

    @Test
    void regionCountMismatchIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QuestionPrompt.of(ChatTemplate.OSPREY_V1, "What is <region1> and <region3>?", 2));
        assertTrue(e.getMessage().contains("<region3>"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QuestionPrompt.of(ChatTemplate.OSPREY_V1, "What is <mask><pos>?", 2));
        assertTrue(e.getMessage().contains("2 masks"), e.getMessage());
    }
}
