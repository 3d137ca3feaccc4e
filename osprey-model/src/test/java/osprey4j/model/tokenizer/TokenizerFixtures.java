package osprey4j.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** The committed tokenizer fixtures (see src/test/resources/tokenizer/README.md) and the Rust oracle over them. */
public final class TokenizerFixtures {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The tokens the fixture script adds after loading (Osprey's region tokens, as test data). */
    public static final List<String> ADDED_TOKENS = List.of("<mask>", "<pos>");

    private TokenizerFixtures() {
    }

    public static Path dir() {
        try {
            return Path.of(TokenizerFixtures.class.getResource("/tokenizer/tokenizer.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A copy of the fixture directory without tokenizer.json, so loading must convert tokenizer.model. */
    static Path modelOnlyDir(Path tmp) throws IOException {
        for (String name : List.of("tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                "added_tokens.json")) {
            Files.copy(dir().resolve(name), tmp.resolve(name));
        }
        return tmp;
    }

    /** Hugging Face's Rust tokenizers (via DJL's binding) on the fixture tokenizer.json. */
    public static HuggingFaceTokenizer oracle() {
        return oracle(dir().resolve("tokenizer.json"));
    }

    /** The Rust tokenizer of a tokenizer.json, without DJL's default truncation to 512 tokens. */
    static HuggingFaceTokenizer oracle(Path tokenizerJson) {
        try {
            return HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson).optTruncation(false)
                    .optPadding(false).build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] oracleIds(HuggingFaceTokenizer oracle, String text, boolean addSpecialTokens) {
        long[] ids = oracle.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    public static long[] longs(int[] ids) {
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = ids[i];
        }
        return out;
    }

    static List<String> trickyStrings() {
        List<String> out = new ArrayList<>();
        readJson("tricky_strings.json").forEach(n -> out.add(n.asText()));
        return out;
    }

    static JsonNode readJson(String name) {
        try {
            return JSON.readTree(dir().resolve(name).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Random text over an alphabet chosen to stress spaces, digits, byte fallback and added tokens. */
    static String randomText(Random rng) {
        String[] atoms = {"a", "b", "e", "i", "o", "n", "s", "t", "r", "h", "l", "T", "W", "Z", "q", "x",
                "0", "1", "2", "5", "9", " ", " ", " ", " ", "  ", "\n", "\t", "\r\n", ".", ",", "!", "?", "'", "-",
                "(", ")", "<", ">", "/", "é", "ü", "ç", "ñ", "ß", "Ω", "д", "中", "文", "狗", "語", "😀", "👍🏽",
                "\u2581", "\u00a0", "\u200b", "e\u0301", "<mask>", "<pos>", "<s>", "</s>", "<unk>", "<image>",
                "region", "the ", "ing ", "mask", "pos"};
        StringBuilder sb = new StringBuilder();
        int n = rng.nextInt(30);
        for (int i = 0; i < n; i++) {
            sb.append(atoms[rng.nextInt(atoms.length)]);
        }
        return sb.toString();
    }
}
