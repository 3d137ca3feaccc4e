package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.core.prompt.ChatTemplate;

class StopConditionTest {
    /** A toy vocabulary: each id decodes to one fixed string; 2 is EOS (decoded as nothing, it is special). */
    static final Map<Integer, String> PIECES = Map.of(2, "", 10, "A", 11, " cat", 12, "</", 13, "s", 14, ">", 15, ".");
    static final Function<int[], String> DECODE = ids -> {
        StringBuilder b = new StringBuilder();
        for (int id : ids) {
            b.append(PIECES.get(id));
        }
        return b.toString();
    };

    @Test
    void stopsAtEosAndAtTheStopStringSpelledOut() {
        StopCondition stop = new StopCondition(2, "</s>", new int[] {2}, DECODE);
        assertFalse(stop.shouldStop(new int[0]));
        assertFalse(stop.shouldStop(new int[] {10, 11}));
        assertTrue(stop.shouldStop(new int[] {10, 11, 2}));
        assertFalse(stop.shouldStop(new int[] {10, 11, 12, 13}));
        assertTrue(stop.shouldStop(new int[] {10, 11, 12, 13, 14}));
        // the text check looks at the last three tokens only, as the reference's offset = min(new, 3)
        assertTrue(stop.shouldStop(new int[] {15, 12, 13, 14}));
        assertFalse(stop.shouldStop(new int[] {12, 13, 14, 15}));
        // count limits what has been generated so far
        assertFalse(stop.shouldStop(new int[] {10, 11, 2}, 2));
    }

    @Test
    void ospreyV1OnTheParityTokenizerStopsAtEos() {
        Tokenizer tokenizer = OspreyTokens.loadTokenizer(Path.of("src/test/resources/parity/model"), Tokenizer.Mode.FAST);
        StopCondition stop = StopCondition.of(tokenizer, ChatTemplate.OSPREY_V1);
        assertEquals("</s>", stop.stopString());
        int eos = tokenizer.eosId();
        assertTrue(stop.shouldStop(new int[] {5, 6, eos}));
        assertFalse(stop.shouldStop(new int[] {5, 6, 7}));
        assertArrayEquals(new int[] {eos}, trimmedIds(tokenizer));
    }

    private static int[] trimmedIds(Tokenizer tokenizer) {
        int[] ids = tokenizer.encode("</s>", true);
        return ids.length > 1 && ids[0] == tokenizer.bosId() ? java.util.Arrays.copyOfRange(ids, 1, ids.length) : ids;
    }

    @Test
    void cleansAnswersLikeTheEvalScripts() {
        StopCondition stop = new StopCondition(2, "</s>", new int[] {2}, DECODE);
        assertEquals("A cat.", stop.cleanAnswer("  A cat. </s> "));
        assertEquals("A cat.", stop.cleanAnswer("A cat."));
        assertEquals("</s> A cat.", stop.cleanAnswer("</s> A cat."));
    }
}
