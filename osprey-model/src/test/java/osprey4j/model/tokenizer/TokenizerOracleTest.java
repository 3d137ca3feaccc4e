package osprey4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.prompt.ChatTemplate;

/**
 * Our fast-mode tokenizer against Hugging Face's Rust tokenizers (the library the reference runs) on the same
 * tokenizer.json, id for id, and the same decodes. Both loading paths are checked: tokenizer.json, and
 * tokenizer.model converted in Java the way transformers 4.31 converts it.
 */
class TokenizerOracleTest {
    static HuggingFaceTokenizer oracle;
    static Tokenizer fromJson;

    @TempDir
    static Path tmp;
    static Tokenizer fromModel;

    @BeforeAll
    static void setUp() throws IOException {
        oracle = TokenizerFixtures.oracle();
        fromJson = Tokenizer.load(TokenizerFixtures.dir(), Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
        fromModel = Tokenizer.load(TokenizerFixtures.modelOnlyDir(tmp), Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
    }

    @AfterAll
    static void tearDown() {
        oracle.close();
    }

    private static void assertSameIds(String text) {
        int[] expected = TokenizerFixtures.oracleIds(oracle, text, true);
        assertArrayEquals(expected, fromJson.encode(text), () -> "tokenizer.json path, text " + quote(text)
                + "\n expected " + fromJson.pieces(expected) + "\n actual   " + fromJson.pieces(fromJson.encode(text)));
        assertArrayEquals(expected, fromModel.encode(text), () -> "tokenizer.model path, text " + quote(text)
                + "\n expected " + fromModel.pieces(expected) + "\n actual   " + fromModel.pieces(fromModel.encode(text)));
        int[] noSpecial = TokenizerFixtures.oracleIds(oracle, text, false);
        assertArrayEquals(noSpecial, fromJson.encode(text, false), () -> "without special tokens: " + quote(text));
    }

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
    }

    @Test
    void trickyStringsEncodeLikeTheRustTokenizer() {
        for (String text : TokenizerFixtures.trickyStrings()) {
            assertSameIds(text);
        }
    }

    @Test
    void randomStringsEncodeLikeTheRustTokenizer() {
        Random rng = new Random(20241124);
        for (int i = 0; i < 3000; i++) {
            assertSameIds(TokenizerFixtures.randomText(rng));
        }
    }

    @Test
    void decodingMatchesTheRustTokenizer() {
        Random rng = new Random(5);
        List<int[]> sequences = new ArrayList<>();
        for (String text : TokenizerFixtures.trickyStrings()) {
            sequences.add(fromJson.encode(text));
        }
        for (int i = 0; i < 500; i++) {
            sequences.add(fromJson.encode(TokenizerFixtures.randomText(rng)));
        }
        // Arbitrary ids too: byte tokens in invalid UTF-8 runs, specials in odd places.
        for (int i = 0; i < 500; i++) {
            int[] ids = new int[rng.nextInt(12)];
            for (int k = 0; k < ids.length; k++) {
                ids[k] = rng.nextInt(4) == 0 ? 3 + rng.nextInt(256) : rng.nextInt(fromJson.size());
            }
            sequences.add(ids);
        }
        for (int[] ids : sequences) {
            for (boolean skip : new boolean[] {true, false}) {
                assertEquals(oracle.decode(TokenizerFixtures.longs(ids), skip), fromJson.decode(ids, skip),
                        () -> "decode of " + Arrays.toString(ids) + " skip=" + skip);
                assertEquals(oracle.decode(TokenizerFixtures.longs(ids), skip), fromModel.decode(ids, skip));
            }
        }
    }

    @Test
    void streamingDecodeConcatenatesToTheWholeDecode() {
        Random rng = new Random(11);
        List<String> texts = new ArrayList<>(TokenizerFixtures.trickyStrings());
        for (int i = 0; i < 300; i++) {
            texts.add(TokenizerFixtures.randomText(rng));
        }
        for (String text : texts) {
            int[] ids = fromJson.encode(text);
            StreamDecoder stream = fromJson.streamDecoder(true);
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                sb.append(stream.next(id));
            }
            sb.append(stream.flush());
            assertEquals(oracle.decode(TokenizerFixtures.longs(ids), true), sb.toString(), () -> quote(text));
        }
    }

    @Test
    void streamingHoldsBackIncompleteUtf8() {
        // '文' is not in the fixture vocabulary: it is encoded as its three UTF-8 bytes.
        int[] ids = fromJson.encode("文", false);
        assertEquals("[▁, <0xE6>, <0x96>, <0x87>]", fromJson.pieces(ids).toString());
        StreamDecoder stream = fromJson.streamDecoder(true);
        assertEquals("", stream.next(ids[0]));   // the leading space is stripped, as in the whole decode
        assertEquals("", stream.next(ids[1]));
        assertEquals("", stream.next(ids[2]));
        // Complete, but a further byte could still make the run invalid (then every byte becomes U+FFFD).
        assertEquals("", stream.next(ids[3]));
        assertEquals("文", stream.text().toString());
        assertEquals("文", stream.next(fromJson.tokenId("a").orElseThrow()).substring(0, 1));
        StreamDecoder broken = fromJson.streamDecoder(true);
        for (int id : ids) {
            broken.next(id);
        }
        broken.next(ids[1]);
        assertEquals(oracle.decode(new long[] {ids[0], ids[1], ids[2], ids[3], ids[1]}, true), broken.flush());
        assertEquals("\uFFFD".repeat(4), oracle.decode(new long[] {ids[1], ids[2], ids[3], ids[1]}, true));
        // An unfinished sequence comes out as replacement characters at the end.
        StreamDecoder cut = fromJson.streamDecoder(true);
        cut.next(ids[1]);
        cut.next(ids[2]);
        assertEquals("\uFFFD\uFFFD", cut.flush());
        assertEquals(oracle.decode(new long[] {ids[1], ids[2]}, true), "\uFFFD\uFFFD");
    }
}
