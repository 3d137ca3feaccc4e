package osprey4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The incremental decoder against the whole decode: after every id its text is {@code decode(ids so far)}, its
 * final part never changes, and what {@code next} returns plus {@code flush} is {@code decode(all ids)}. Random
 * id sequences mix byte pieces (complete, cut and broken multi-byte UTF-8), pieces with '▁', added and special
 * tokens.
 */
class StreamDecoderTest {
    @Test
    void matchesTheWholeDecodeOnRandomIds() {
        Tokenizer t = Tokenizer.load(TokenizerFixtures.dir(), Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
        check(t, new Random(7), 1500);
    }

    /** With clean_up_tokenization_spaces, " ." and the like change text already decoded. */
    @Test
    void matchesTheWholeDecodeWithCleanUpSpaces(@TempDir Path tmp) throws IOException {
        copyFixture(tmp);
        ObjectNode config = (ObjectNode) TokenizerFixtures.readJson("tokenizer_config.json");
        config.put("clean_up_tokenization_spaces", true);
        TokenizerFixtures.JSON.writeValue(tmp.resolve("tokenizer_config.json").toFile(), config);
        Tokenizer t = Tokenizer.load(tmp, Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
        assertEquals("don't.", t.decode(t.encode("do n't .", false)));
        check(t, new Random(8), 1500);
    }

    /** A decoder whose output is not prefix-stable (Strip of two leading spaces after Fuse) is decoded whole. */
    @Test
    void matchesTheWholeDecodeWithAnUnstableDecoder(@TempDir Path tmp) throws IOException {
        copyFixture(tmp);
        ObjectNode root = (ObjectNode) TokenizerFixtures.readJson("tokenizer.json");
        ObjectNode strip = (ObjectNode) root.path("decoder").path("decoders").path(3);
        assertEquals("Strip", strip.path("type").asText());
        strip.put("start", 2);
        TokenizerFixtures.JSON.writeValue(tmp.resolve("tokenizer.json").toFile(), root);
        Tokenizer t = Tokenizer.load(tmp, Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
        check(t, new Random(9), 300);
    }

    private static void copyFixture(Path tmp) throws IOException {
        for (String f : List.of("tokenizer.json", "tokenizer.model", "tokenizer_config.json",
                "special_tokens_map.json", "added_tokens.json")) {
            Files.copy(TokenizerFixtures.dir().resolve(f), tmp.resolve(f));
        }
    }

    private static void check(Tokenizer t, Random rng, int sequences) {
        int[] pool = interestingIds(t);
        for (int s = 0; s < sequences; s++) {
            int[] ids = randomIds(t, pool, rng);
            for (boolean skip : new boolean[] {true, false}) {
                StreamDecoder stream = t.streamDecoder(skip);
                StringBuilder streamed = new StringBuilder();
                String finalBefore = "";
                for (int n = 1; n <= ids.length; n++) {
                    streamed.append(stream.next(ids[n - 1]));
                    String expected = t.decode(Arrays.copyOf(ids, n), skip);
                    String text = stream.text().toString();
                    int[] prefix = Arrays.copyOf(ids, n);
                    assertEquals(expected, text, () -> "text after " + t.pieces(prefix));
                    assertTrue(text.startsWith(finalBefore), () -> "final text changed: " + t.pieces(prefix));
                    assertTrue(text.startsWith(streamed.toString()), () -> "streamed " + t.pieces(prefix));
                    finalBefore = text.substring(0, stream.finalLength());
                    assertEquals(streamed.toString(), finalBefore);
                }
                streamed.append(stream.flush());
                assertEquals(t.decode(ids, skip), streamed.toString(), () -> "streamed " + t.pieces(ids));
            }
        }
    }

    /** Pieces that make decoding interesting: spaces, punctuation the clean-up rules touch, added tokens. */
    private static int[] interestingIds(Tokenizer t) {
        List<Integer> out = new ArrayList<>();
        for (String p : List.of("\u2581", "\u2581\u2581", ".", ",", "?", "!", "'", "\u2581'", "\u2581.", "n", "t",
                "s", "m", "re", "ve", "\u2581n", "a", "\u2581a", "<s>", "</s>", "<unk>", "<mask>", "<pos>")) {
            t.tokenId(p).ifPresent(out::add);
        }
        assertFalse(out.isEmpty());
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int[] randomIds(Tokenizer t, int[] pool, Random rng) {
        List<Integer> ids = new ArrayList<>();
        int n = rng.nextInt(25);
        while (ids.size() < n) {
            switch (rng.nextInt(5)) {
                case 0 -> ids.add(pool[rng.nextInt(pool.length)]);
                case 1 -> ids.add(rng.nextInt(t.size()));
                case 2 -> ids.add(3 + rng.nextInt(256)); // any byte piece
                case 3 -> { // a multi-byte character as bytes, sometimes cut short
                    String ch = new String(Character.toChars(
                            List.of(0xE9, 0x6587, 0x1F600, 0x4E2D, 0x3B1).get(rng.nextInt(5))));
                    byte[] bytes = ch.getBytes(StandardCharsets.UTF_8);
                    int keep = rng.nextInt(4) == 0 ? 1 + rng.nextInt(bytes.length) : bytes.length;
                    for (int i = 0; i < keep; i++) {
                        ids.add(t.tokenId(String.format("<0x%02X>", bytes[i] & 0xff)).orElseThrow());
                    }
                }
                default -> {
                    for (int id : t.encode(TokenizerFixtures.randomText(rng), false)) {
                        ids.add(id);
                    }
                }
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
