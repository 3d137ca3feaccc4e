package osprey4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.StreamSupport;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same checks at LLaMA's scale: a 32000-piece SentencePiece BPE model (about 57000 merges, long
 * whitespace-run pieces), against the Rust tokenizers library and against Python sentencepiece's ids.
 */
class LargeVocabularyTest {
    private static Path fixtureDir(Path tmp) throws IOException {
        Path src = TokenizerFixtures.dir().resolveSibling("tokenizer-32k");
        for (String name : List.of("tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                "added_tokens.json")) {
            Files.copy(src.resolve(name), tmp.resolve(name));
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(src.resolve("tokenizer.json.gz")))) {
            Files.copy(in, tmp.resolve("tokenizer.json"));
        }
        return tmp;
    }

    @Test
    void fastModeMatchesTheRustTokenizer(@TempDir Path tmp, @TempDir Path modelOnly) throws IOException {
        Path dir = fixtureDir(tmp);
        for (String name : List.of("tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                "added_tokens.json")) {
            Files.copy(dir.resolve(name), modelOnly.resolve(name));
        }
        Tokenizer fromJson = Tokenizer.load(dir, Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
        Tokenizer fromModel = Tokenizer.load(modelOnly, Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
        assertEquals(32002, fromJson.size());
        List<String> texts = new ArrayList<>(TokenizerFixtures.trickyStrings());
        Random rng = new Random(32000);
        for (int i = 0; i < 1000; i++) {
            texts.add(TokenizerFixtures.randomText(rng));
        }
        // Longer prose with markdown tables: well past DJL's default 512-token truncation, which is disabled.
        texts.add(Files.readString(TokenizerFixtures.dir().resolve("README.md")));
        try (HuggingFaceTokenizer oracle = TokenizerFixtures.oracle(dir.resolve("tokenizer.json"))) {
            for (String text : texts) {
                int[] expected = TokenizerFixtures.oracleIds(oracle, text, true);
                assertArrayEquals(expected, fromJson.encode(text), () -> "tokenizer.json: \"" + text + "\"");
                assertArrayEquals(expected, fromModel.encode(text), () -> "tokenizer.model: \"" + text + "\"");
                assertEquals(oracle.decode(TokenizerFixtures.longs(expected), true), fromJson.decode(expected));
            }
        }
    }

    @Test
    void slowModesMatchPythonSentencepiece(@TempDir Path tmp) throws IOException {
        Path dir = fixtureDir(tmp);
        Tokenizer legacy = Tokenizer.load(dir, Tokenizer.Mode.SLOW_LEGACY, TokenizerFixtures.ADDED_TOKENS);
        Tokenizer nonLegacy = legacy.withMode(Tokenizer.Mode.SLOW);
        JsonNode cases = TokenizerFixtures.JSON.readTree(
                TokenizerFixtures.dir().resolveSibling("tokenizer-32k").resolve("slow_ids.json").toFile());
        for (JsonNode c : cases) {
            String text = c.path("text").asText();
            IntList spm = new IntList();
            legacy.sentencePieceEncode(text, spm);
            assertArrayEquals(ints(c.path("spm")), spm.toArray(), () -> "spm: \"" + text + "\"");
            assertArrayEquals(ints(c.path("legacy")), legacy.encode(text, false), () -> "legacy: \"" + text + "\"");
            assertArrayEquals(ints(c.path("non_legacy")), nonLegacy.encode(text, false), () -> "slow: \"" + text + "\"");
        }
    }

    private static int[] ints(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }
}
