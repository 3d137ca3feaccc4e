package osprey4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Issue 8: runs of whitespace on checkpoints whose tokenizer.model has whitespace-only pieces ({@code ▁▁},
 * {@code ▁▁▁▁}...). The fast tokenizer has no whitespace pre-splitting, so its BPE merges whitespace runs with
 * the converter's merge ranks. Expected ids: the Rust tokenizers 0.13 core (the reference's) on a tokenizer.json
 * built with transformers 4.31's own SentencePieceExtractor (whitespace_ids.json), and the Rust library through
 * DJL on thousands of random whitespace-heavy strings. Our tokenizer is loaded both from tokenizer.json and from
 * tokenizer.model alone (converted in Java).
 */
class WhitespaceRunsTest {
    private static final List<String> FILES = List.of("tokenizer.model", "tokenizer_config.json",
            "special_tokens_map.json", "added_tokens.json");

    /** The fixture directory {@code name} with a plain tokenizer.json, and a copy without it. */
    private static Path[] dirs(String name, Path tmp) throws IOException {
        Path src = TokenizerFixtures.dir().resolveSibling(name);
        Path withJson = Files.createDirectories(tmp.resolve("json"));
        Path modelOnly = Files.createDirectories(tmp.resolve("model"));
        for (String f : FILES) {
            Files.copy(src.resolve(f), withJson.resolve(f));
            Files.copy(src.resolve(f), modelOnly.resolve(f));
        }
        if (Files.exists(src.resolve("tokenizer.json.gz"))) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(src.resolve("tokenizer.json.gz")))) {
                Files.copy(in, withJson.resolve("tokenizer.json"));
            }
        } else {
            Files.copy(src.resolve("tokenizer.json"), withJson.resolve("tokenizer.json"));
        }
        Files.copy(src.resolve("whitespace_ids.json"), withJson.resolve("whitespace_ids.json"));
        return new Path[] {withJson, modelOnly};
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenizer", "tokenizer-32k", "tokenizer-nows"})
    void whitespaceRunsEncodeLikeTheReference(String fixture, @TempDir Path tmp) throws IOException {
        Path[] dirs = dirs(fixture, tmp);
        Tokenizer fromJson = Tokenizer.load(dirs[0], Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
        Tokenizer fromModel = Tokenizer.load(dirs[1], Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
        try (HuggingFaceTokenizer oracle = TokenizerFixtures.oracle(dirs[0].resolve("tokenizer.json"))) {
            JsonNode cases = TokenizerFixtures.JSON.readTree(dirs[0].resolve("whitespace_ids.json").toFile());
            assertTrue(cases.size() > 400, "whitespace cases");
            for (JsonNode c : cases) {
                String text = c.path("text").asText();
                int[] expected = new int[c.path("ids").size()];
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = c.path("ids").path(i).asInt();
                }
                // The Rust library DJL bundles agrees with the reference's 0.13 core on these.
                assertArrayEquals(expected, TokenizerFixtures.oracleIds(oracle, text, true), () -> "djl " + quote(text));
                check(expected, fromJson, fromModel, text);
            }
            Random rng = new Random(fixture.hashCode());
            for (int i = 0; i < 4000; i++) {
                String text = randomWhitespaceText(rng);
                check(TokenizerFixtures.oracleIds(oracle, text, true), fromJson, fromModel, text);
            }
        }
    }

    private static void check(int[] expected, Tokenizer fromJson, Tokenizer fromModel, String text) {
        assertArrayEquals(expected, fromJson.encode(text), () -> "tokenizer.json, " + quote(text)
                + "\n expected " + fromJson.pieces(expected) + "\n actual   " + fromJson.pieces(fromJson.encode(text)));
        assertArrayEquals(expected, fromModel.encode(text), () -> "tokenizer.model, " + quote(text)
                + "\n expected " + fromModel.pieces(expected) + "\n actual   " + fromModel.pieces(fromModel.encode(text)));
    }

    /** The example: after {@code <pos>}, " Which" is normalised to "▁▁Which" and "▁▁" merges first. */
    @Test
    void doubleSpaceAfterAnAddedTokenIsOnePiece(@TempDir Path tmp) throws IOException {
        Tokenizer t = Tokenizer.load(dirs("tokenizer-32k", tmp)[1], Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
        List<String> pieces = t.pieces(t.encode("<pos> Which", false));
        assertEquals("<pos>", pieces.get(0));
        assertEquals("\u2581\u2581", pieces.get(1), pieces.toString());
        // The slow tokenizer is SentencePiece's own and strips the space after <pos>: unchanged by issue 8.
        Tokenizer slow = t.withMode(Tokenizer.Mode.SLOW);
        assertEquals("<pos>", slow.pieces(slow.encode("<pos> Which", false)).get(0));
        assertTrue(!slow.pieces(slow.encode("<pos> Which", false)).get(1).startsWith("\u2581\u2581"));
    }

    @Test
    void aUnigramModelIsRefusedAsTheConverterRefusesIt() {
        Path dir = TokenizerFixtures.dir().resolveSibling("tokenizer-unigram");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tokenizer.load(dir, Tokenizer.Mode.FAST));
        assertTrue(e.getMessage().contains("UNIGRAM") && e.getMessage().contains("only BPE"), e.getMessage());
    }

    /** Whitespace-heavy text: runs of 1-8 spaces, tabs, newlines, next to words and the added tokens. */
    static String randomWhitespaceText(Random rng) {
        String[] atoms = {" ", "  ", "   ", "    ", "     ", "      ", "       ", "        ", " ", "  ", "\t", "\n",
                " \t", "\t ", "\r\n", " \n ", "a", "Which", "the", "x", "1", "é", "中", "😀", "\u2581", "\u00a0",
                "<mask>", "<pos>", "<mask><pos>", "</s>", "<s>", ",", "?", "def", "return", "."};
        StringBuilder sb = new StringBuilder();
        int n = 1 + rng.nextInt(20);
        for (int i = 0; i < n; i++) {
            sb.append(atoms[rng.nextInt(atoms.length)]);
        }
        return sb.toString();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
    }
}
