package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.core.prompt.ChatTemplate;

/** The generation loop's stopping and streaming, with scripted "logits" that pick a given token sequence. */
class GenerationTest {
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = Tokenizer.loadForOsprey(FacadeFixtures.modelDir(), Tokenizer.Mode.FAST);
    }

    /** Runs the loop over a script of ids: step k's "logits" name the k-th id, the chooser reads it back. */
    private static Generation.Result run(int[] script, int maxNewTokens, StringBuilder streamed, List<Integer> fed) {
        return run(StopCondition.of(tokenizer, ChatTemplate.OSPREY_V1), script, maxNewTokens, streamed, fed);
    }

    private static Generation.Result run(StopCondition stop, int[] script, int maxNewTokens, StringBuilder streamed,
                                         List<Integer> fed) {
        float[][] logits = new float[script.length][];
        for (int i = 0; i < script.length; i++) {
            logits[i] = new float[] {script[i]};
        }
        int[] step = {0};
        Generation g = new Generation(tokenizer, stop);
        return g.run(logits[0], id -> {
            fed.add(id);
            return logits[++step[0]];
        }, l -> (int) l[0], maxNewTokens, (id, text) -> streamed.append(text));
    }

    private static int[] ids(String text) {
        return tokenizer.encode(text, false);
    }

    /**
     * "</s>" spelled as its four byte-fallback pieces. (Encoding the text "</s>" gives the EOS token itself,
     * because the checkpoint's tokenizer matches special tokens before normalisation.)
     */
    private static int[] spelledStop() {
        return "</s>".chars().map(c -> tokenizer.tokenId(String.format("<0x%02X>", c)).orElseThrow()).toArray();
    }

    private static int[] concat(int[]... parts) {
        return java.util.Arrays.stream(parts).flatMapToInt(java.util.Arrays::stream).toArray();
    }

    @Test
    void stopsAtEosAndStreamsExactlyTheAnswer() {
        int[] words = ids(" A red car.");
        int[] script = new int[words.length + 2];
        System.arraycopy(words, 0, script, 0, words.length);
        script[words.length] = tokenizer.eosId();
        script[words.length + 1] = 5; // never reached
        StringBuilder streamed = new StringBuilder();
        List<Integer> fed = new ArrayList<>();
        Generation.Result r = run(script, 100, streamed, fed);
        assertEquals("A red car.", r.text());
        assertEquals(r.text(), streamed.toString());
        assertEquals(words.length + 1, r.tokens().length);
        assertEquals(tokenizer.eosId(), r.tokens()[words.length]);
        assertEquals(words.length, fed.size(), "the EOS is not fed back");
    }

    /**
     * The reference's KeywordsStoppingCriteria looks for "</s>" in the last three generated tokens only; with this
     * vocabulary "</s>" takes four byte pieces, so, as in the reference, generation goes on and the text stays.
     */
    @Test
    void aStopStringSpelledInFourPiecesDoesNotStopAsInTheReference() {
        int[] script = concat(ids(" A dog"), spelledStop(), ids("more"), new int[] {tokenizer.eosId()});
        StringBuilder streamed = new StringBuilder();
        Generation.Result r = run(script, 100, streamed, new ArrayList<>());
        assertEquals("A dog</s> more", r.text());
        assertEquals(r.text(), streamed.toString());
    }

    /** The answer is cleaned of a trailing "</s>" when EOS follows it, and nothing of it was streamed. */
    @Test
    void aStopStringRightBeforeEosIsDroppedAndNeverStreamed() {
        int[] script = concat(ids(" A dog"), spelledStop(), new int[] {tokenizer.eosId()});
        StringBuilder streamed = new StringBuilder();
        Generation.Result r = run(script, 100, streamed, new ArrayList<>());
        assertEquals("A dog", r.text());
        assertEquals(r.text(), streamed.toString());
    }

    /** A stop rule whose stop ids are the spelled-out pieces: generation stops there and drops the stop string. */
    @Test
    void stopsAtTheStopIdsAndDropsTheStopString() {
        int[] stopIds = spelledStop();
        StopCondition stop = new StopCondition(tokenizer.eosId(), "</s>", stopIds, tokenizer::decode);
        int[] words = concat(ids(" A dog"), stopIds, ids("more"));
        StringBuilder streamed = new StringBuilder();
        List<Integer> fed = new ArrayList<>();
        Generation.Result r = run(stop, words, 100, streamed, fed);
        assertEquals("A dog", r.text());
        assertEquals(r.text(), streamed.toString(), "no part of </s> was streamed");
        assertEquals("A dog</s>", tokenizer.decode(r.tokens()).strip());
        assertEquals(r.tokens().length - 1, fed.size());
    }

    @Test
    void stopsAtTheTokenBudget() {
        int[] words = ids(" one two three four five six");
        StringBuilder streamed = new StringBuilder();
        List<Integer> fed = new ArrayList<>();
        Generation.Result r = run(words, 3, streamed, fed);
        assertEquals(3, r.tokens().length);
        assertArrayEquals(java.util.Arrays.copyOf(words, 3), r.tokens());
        assertEquals(tokenizer.decode(r.tokens()).strip(), r.text());
        assertEquals(r.text(), streamed.toString());
        assertEquals(2, fed.size(), "the last token is not fed back");
    }

    @Test
    void multiByteCharactersAreStreamedWhole() {
        int[] words = ids(" café ☃ ok");
        int[] script = java.util.Arrays.copyOf(words, words.length + 1);
        script[words.length] = tokenizer.eosId();
        List<String> deltas = new ArrayList<>();
        Generation g = new Generation(tokenizer, StopCondition.of(tokenizer, ChatTemplate.OSPREY_V1));
        float[][] logits = new float[script.length][];
        for (int i = 0; i < script.length; i++) {
            logits[i] = new float[] {script[i]};
        }
        int[] step = {0};
        Generation.Result r = g.run(logits[0], id -> logits[++step[0]], l -> (int) l[0], 100,
                (id, text) -> deltas.add(text));
        assertEquals("café ☃ ok", r.text());
        assertEquals(r.text(), String.join("", deltas));
        for (String d : deltas) {
            assertEquals(-1, d.indexOf('\uFFFD'), "no replacement character was streamed: " + deltas);
        }
    }
}
