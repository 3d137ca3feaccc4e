package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.prompt.ChatTemplate;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.model.tokenizer.TokenizerFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Osprey's prompt ids ({@code tokenizer_image_token}) against the Rust tokenizer the reference runs. */
class OspreyTokensTest {
    static HuggingFaceTokenizer oracle;
    static Tokenizer tokenizer;

    @BeforeAll
    static void setUp() {
        oracle = TokenizerFixtures.oracle();
        tokenizer = OspreyTokens.loadTokenizer(TokenizerFixtures.dir(), Tokenizer.Mode.FAST);
    }

    @AfterAll
    static void tearDown() {
        oracle.close();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
    }

    @Test
    void multimodalPromptIsSplitAtTheImageLikeTokenizerImageToken() {
        List<String> prompts = new ArrayList<>(List.of(
                ChatTemplate.OSPREY_V1.prompt("<image>\nThis provides an overview of the picture.\n"
                        + "Can you give me a detailed description of <mask><pos>?"),
                "<image>", "no image at all", "a<image>b<image>", "<image> two <image>\nimages"));
        for (String prompt : prompts) {
            // The reference: tokenizer(chunk).input_ids per chunk, BOS kept on the first only, -200 between.
            List<Integer> expected = new ArrayList<>();
            String[] chunks = OspreyTokens.splitLikePython(prompt, "<image>").toArray(String[]::new);
            for (int c = 0; c < chunks.length; c++) {
                if (c > 0) {
                    expected.add(OspreyTokens.IMAGE_TOKEN_ID);
                }
                int[] ids = TokenizerFixtures.oracleIds(oracle, chunks[c], true);
                for (int i = 1; i < ids.length; i++) {
                    expected.add(ids[i]);
                }
                if (c == 0) {
                    expected.add(0, ids[0]);
                }
            }
            assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(), OspreyTokens.encodePrompt(tokenizer, prompt),
                    () -> quote(prompt));
        }
    }
}
