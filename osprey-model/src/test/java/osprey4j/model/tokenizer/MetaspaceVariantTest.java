package osprey4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Later transformers versions convert LLaMA with {@code legacy=False} differently: no normaliser, a Metaspace
 * pre-tokenizer that prepends '▁' only at the start of the text. A checkpoint saved by them ships such a
 * tokenizer.json; this checks that we read it like the Rust library does.
 */
class MetaspaceVariantTest {
    @Test
    void metaspaceTokenizerJsonMatchesTheRustTokenizer(@TempDir Path tmp) throws IOException {
        ObjectNode root = (ObjectNode) TokenizerFixtures.readJson("tokenizer.json");
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", "first").put("split", false);
        Path json = tmp.resolve("tokenizer.json");
        TokenizerFixtures.JSON.writeValue(json.toFile(), root);
        Files.copy(TokenizerFixtures.dir().resolve("tokenizer_config.json"), tmp.resolve("tokenizer_config.json"));

        Tokenizer ours = Tokenizer.load(tmp);
        List<String> texts = new ArrayList<>(TokenizerFixtures.trickyStrings());
        Random rng = new Random(3);
        for (int i = 0; i < 1000; i++) {
            texts.add(TokenizerFixtures.randomText(rng));
        }
        try (HuggingFaceTokenizer oracle = TokenizerFixtures.oracle(json)) {
            for (String text : texts) {
                int[] expected = TokenizerFixtures.oracleIds(oracle, text, true);
                assertArrayEquals(expected, ours.encode(text), () -> "\"" + text + "\"\n expected "
                        + ours.pieces(expected) + "\n actual   " + ours.pieces(ours.encode(text)));
                assertEquals(oracle.decode(TokenizerFixtures.longs(expected), true), ours.decode(expected));
            }
        }
    }
}
