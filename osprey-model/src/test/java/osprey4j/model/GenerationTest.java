package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.core.prompt.ChatTemplate;

/** The generation loop's stopping and streaming, with scripted "logits" that pick a given token sequence. */
class GenerationTest {
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = OspreyTokens.loadTokenizer(FacadeFixtures.modelDir(), Tokenizer.Mode.FAST);
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

    @Test
    void aListenerCanEndTheAnswerAfterAnyToken() {
        int[] words = ids(" A red car and a blue van.");
        int[] script = concat(words, new int[] {tokenizer.eosId(), 5});
        List<Integer> fed = new ArrayList<>();
        StringBuilder streamed = new StringBuilder();
        int[] heard = {0};
        Generation g = new Generation(tokenizer, StopCondition.of(tokenizer, ChatTemplate.OSPREY_V1));
        int[] step = {0};
        Generation.Result r = g.run(new float[] {script[0]}, id -> {
            fed.add(id);
            return new float[] {script[++step[0]]};
        }, l -> (int) l[0], 100, new TokenListener() {
            @Override
            public void onToken(int tokenId, String text) {
                heard[0]++;
                streamed.append(text);
            }

            @Override
            public boolean stopRequested() {
                return heard[0] == 3;
            }
        });
        assertEquals(3, r.tokens().length, "ends right after the third token");
        assertEquals(2, fed.size(), "the last token is not fed back");
        assertEquals(tokenizer.decode(java.util.Arrays.copyOf(words, 3), true).strip(), r.text());
        assertEquals(true, r.text().startsWith(streamed.toString()), "what was streamed starts the answer");
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

    /**
     * Streaming is incremental now; its deltas must be those of the former loop, which decoded all generated ids
     * again at every step ({@link #formerDeltas}), for any ids: random sequences with byte pieces (complete, cut
     * and broken multi-byte UTF-8), spaces, newlines, pieces of the stop string, EOS.
     */
    @Test
    void streamedDeltasEqualThoseOfTheFullDecodeEachStep() {
        StopCondition stop = StopCondition.of(tokenizer, ChatTemplate.OSPREY_V1);
        java.util.Random rng = new java.util.Random(42);
        int[] stopPieces = spelledStop();
        for (int s = 0; s < 2000; s++) {
            List<Integer> script = new ArrayList<>();
            int length = 1 + rng.nextInt(30);
            while (script.size() < length) {
                switch (rng.nextInt(6)) {
                    case 0 -> script.add(byteId(rng.nextInt(256)));
                    case 1 -> {
                        String ch = List.of("é", "文", "😀", "☃", "\n", " ", "\t").get(rng.nextInt(7));
                        byte[] bytes = ch.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                        int keep = rng.nextInt(4) == 0 ? 1 + rng.nextInt(bytes.length) : bytes.length;
                        for (int i = 0; i < keep; i++) {
                            script.add(byteId(bytes[i] & 0xff));
                        }
                    }
                    case 2 -> script.add(stopPieces[rng.nextInt(stopPieces.length)]);
                    case 3 -> script.add(rng.nextInt(20) == 0 ? tokenizer.eosId() : rng.nextInt(tokenizer.size()));
                    default -> {
                        for (int id : ids(List.of(" A", " red", "  ", " car.", "\n", " ", "ok", " \t ", "</")
                                .get(rng.nextInt(9)))) {
                            script.add(id);
                        }
                    }
                }
            }
            int[] ids = script.stream().mapToInt(Integer::intValue).toArray();
            int[] padded = java.util.Arrays.copyOf(ids, ids.length + 1); // the chooser reads one step ahead
            int maxNew = ids.length;
            List<String> expected = new ArrayList<>();
            String expectedText = formerDeltas(stop, ids, maxNew, expected);
            List<String> deltas = new ArrayList<>();
            float[][] logits = new float[padded.length][];
            for (int i = 0; i < padded.length; i++) {
                logits[i] = new float[] {padded[i]};
            }
            int[] step = {0};
            Generation.Result r = new Generation(tokenizer, stop).run(logits[0], id -> logits[++step[0]],
                    l -> (int) l[0], maxNew, (id, text) -> deltas.add(text));
            assertEquals(expected, deltas, () -> "pieces " + tokenizer.pieces(ids));
            assertEquals(expectedText, r.text());
        }
    }

    private static int byteId(int b) {
        return tokenizer.tokenId(String.format("<0x%02X>", b)).orElseThrow();
    }

    /** The former loop's deltas: the whole decode at each step, then its stable prefix; returns the answer. */
    private static String formerDeltas(StopCondition stop, int[] ids, int maxNew, List<String> deltas) {
        int emitted = 0;
        for (int n = 1; n <= ids.length; n++) {
            int[] tokens = java.util.Arrays.copyOf(ids, n);
            boolean stopped = stop.shouldStop(tokens, n) || n >= maxNew;
            String raw = tokenizer.decode(tokens);
            String stable = stopped ? stop.cleanAnswer(raw) : formerStablePrefix(raw, stop.stopString());
            deltas.add(stable.length() > emitted ? stable.substring(emitted) : "");
            emitted = Math.max(emitted, stable.length());
            if (stopped) {
                return stop.cleanAnswer(raw);
            }
        }
        throw new IllegalStateException("the script ended before the loop stopped");
    }

    private static String formerStablePrefix(String raw, String stopString) {
        String s = raw.stripLeading();
        int k = Math.min(stopString.length(), s.length());
        while (k > 0 && !s.regionMatches(s.length() - k, stopString, 0, k)) {
            k--;
        }
        int end = s.length() - k;
        while (end > 0 && (Character.isWhitespace(s.charAt(end - 1)) || s.charAt(end - 1) == '\uFFFD')) {
            end--;
        }
        return s.substring(0, end);
    }
}
