package osprey4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * The slow modes against ids made by Python's sentencepiece (slow_ids.json, see the fixtures README): the plain
 * SentencePiece encoding of each text, and transformers' slow LlamaTokenizer split/strip rules around it in
 * legacy and non-legacy form.
 */
class SlowTokenizerTest {
    private static final JsonNode CASES = TokenizerFixtures.readJson("slow_ids.json");

    private static int[] ints(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    @Test
    void sentencePieceBpeMatchesPythonSentencepiece() {
        Tokenizer tok = Tokenizer.load(TokenizerFixtures.dir(), Tokenizer.Mode.SLOW_LEGACY, TokenizerFixtures.ADDED_TOKENS);
        for (JsonNode c : CASES) {
            String text = c.path("text").asText();
            IntList out = new IntList();
            tok.sentencePieceEncode(text, out);
            assertArrayEquals(ints(c.path("spm")), out.toArray(), () -> "spm encode of \"" + text + "\"");
        }
    }

    @Test
    void legacySlowModeMatchesTheFixtures() {
        Tokenizer tok = Tokenizer.load(TokenizerFixtures.dir(), Tokenizer.Mode.SLOW_LEGACY, TokenizerFixtures.ADDED_TOKENS);
        for (JsonNode c : CASES) {
            String text = c.path("text").asText();
            assertArrayEquals(ints(c.path("legacy")), tok.encode(text, false), () -> "\"" + text + "\" got "
                    + tok.pieces(tok.encode(text, false)));
        }
    }

    @Test
    void nonLegacySlowModeMatchesTheFixtures() {
        Tokenizer tok = Tokenizer.load(TokenizerFixtures.dir(), Tokenizer.Mode.SLOW, TokenizerFixtures.ADDED_TOKENS);
        for (JsonNode c : CASES) {
            String text = c.path("text").asText();
            assertArrayEquals(ints(c.path("non_legacy")), tok.encode(text, false), () -> "\"" + text + "\" got "
                    + tok.pieces(tok.encode(text, false)));
        }
    }

    @Test
    void slowModeDiffersFromFastAroundAddedTokens() {
        // The reason fast is the default: the model was trained on the fast tokenizer's ids, which keep the
        // space before <mask> and give the text after <pos> its own '▁'.
        Tokenizer fast = Tokenizer.load(TokenizerFixtures.dir(), Tokenizer.Mode.FAST, TokenizerFixtures.ADDED_TOKENS);
        Tokenizer slow = fast.withMode(Tokenizer.Mode.SLOW_LEGACY);
        String text = "of <mask><pos>, please";
        assertEquals("[▁of, ▁, <mask>, <pos>, ▁, ,, ▁p, le, ase]", fast.pieces(fast.encode(text, false)).toString());
        assertEquals("[▁of, <mask>, <pos>, ▁, ,, ▁p, le, ase]", slow.pieces(slow.encode(text, false)).toString());
    }
}
