package osprey4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.data.datasets.Turn;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;

/**
 * Ids, labels and collated batches against the reference's own {@code preprocess_multimodal},
 * {@code preprocess_v1} and {@code DataCollatorForDetDataset}, run on the parity model's fast tokenizer
 * (tools/fixtures/train/make_preprocess_fixtures.py; README next to the fixture).
 */
class PreprocessParityTest {
    static final Path MODEL = Path.of("..", "osprey-model", "src", "test", "resources", "parity", "model");
    static JsonNode fixture;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = PreprocessParityTest.class.getResourceAsStream("/preprocess/preprocess_cases.json")) {
            fixture = new ObjectMapper().readTree(in);
        }
        tokenizer = OspreyTokens.loadTokenizer(MODEL, Tokenizer.Mode.FAST);
    }

    static List<Turn> turns(JsonNode array) {
        List<Turn> out = new ArrayList<>();
        for (JsonNode t : array) {
            out.add(new Turn(t.get("from").asText(), t.get("value").asText()));
        }
        return out;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static Preprocessor.Tokenized run(JsonNode c) {
        Preprocessor p = new Preprocessor(tokenizer, Conversation.VICUNA_V1, c.get("model_max_length").asInt(),
                c.get("has_image").asBoolean());
        return p.preprocess(turns(c.get("conversation")));
    }

    @Test
    void preprocessMultimodalMatchesTheReference() {
        for (JsonNode c : fixture.get("cases")) {
            assertEquals(turns(c.get("multimodal")), Preprocessor.multimodal(turns(c.get("conversation"))),
                    c.get("name").asText());
        }
    }

    @Test
    void idsAndLabelsMatchTheReference() {
        int mismatches = 0;
        for (JsonNode c : fixture.get("cases")) {
            String name = c.get("name").asText();
            Preprocessor.Tokenized t = run(c);
            assertArrayEquals(ints(c.get("input_ids")), t.inputIds(), name + ": ids");
            assertArrayEquals(ints(c.get("labels")), t.labels(), name + ": labels");
            assertEquals(c.get("mismatch_warning").asBoolean(), t.mismatch(), name + ": mismatch");
            mismatches += t.mismatch() ? 1 : 0;
        }
        assertTrue(mismatches >= 3, "the fixture exercises the mismatch rule");
        assertEquals(21, fixture.get("cases").size());
    }

    @Test
    void collatedBatchesMatchTheReference() {
        List<TrainingExample> examples = new ArrayList<>();
        for (JsonNode c : fixture.get("cases")) {
            Preprocessor.Tokenized t = run(c);
            examples.add(new TrainingExample(c.get("name").asText(), t.inputIds(), t.labels(), null, List.of(),
                    t.mismatch()));
        }
        Collator collator = new Collator(Preprocessor.padId(tokenizer));
        for (JsonNode b : fixture.get("batches")) {
            List<TrainingExample> group = new ArrayList<>();
            for (JsonNode i : b.get("cases")) {
                group.add(examples.get(i.asInt()));
            }
            Collator.Batch batch = collator.collate(group);
            for (int r = 0; r < group.size(); r++) {
                assertArrayEquals(ints(b.get("input_ids").get(r)), batch.inputIds()[r]);
                assertArrayEquals(ints(b.get("labels").get(r)), batch.labels()[r]);
                int[] attention = ints(b.get("attention_mask").get(r));
                for (int t = 0; t < attention.length; t++) {
                    assertEquals(attention[t] == 1, batch.attentionMask()[r][t]);
                }
            }
        }
    }
}
