package osprey4j.model;

import java.util.Arrays;
import java.util.function.Function;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.core.prompt.ChatTemplate;

/**
 * When to stop generating, and how to clean up the answer, as the reference does.
 *
 * <p>Generation stops when the last token is the EOS id ({@code generate}'s own check) or, as Osprey's
 * {@code KeywordsStoppingCriteria} does when a script passes it, when the stop string ({@code </s>} for
 * osprey_v1) shows up: either as the stop string's own token ids at the end of the output, or in the text of the
 * last (up to) three generated tokens decoded with special tokens skipped, which catches a model spelling
 * {@code </s>} out as ordinary pieces. The answer is then {@link #cleanAnswer cleaned} like the eval scripts do.
 */
public final class StopCondition {
    /** How many trailing tokens the text check decodes (the reference's {@code min(new, 3)}). */
    private static final int TEXT_WINDOW = 3;

    private final int eosId;
    private final String stopString;
    private final int[] stopIds;
    private final Function<int[], String> decode;

    /**
     * @param eosId      the end-of-sequence id
     * @param stopString the text that ends an answer (the chat template's {@code sep2}, {@code </s>})
     * @param stopIds    the stop string's ids without BOS (for {@code </s>}: just the EOS id)
     * @param decode     ids to text with special tokens skipped ({@code tokenizer.decode(ids, true)})
     */
    public StopCondition(int eosId, String stopString, int[] stopIds, Function<int[], String> decode) {
        if (stopString.isEmpty() || stopIds.length == 0) {
            throw new IllegalArgumentException("empty stop string");
        }
        this.eosId = eosId;
        this.stopString = stopString;
        this.stopIds = stopIds.clone();
        this.decode = decode;
    }

    /** The reference's stop rule for a chat template on a tokenizer. */
    public static StopCondition of(Tokenizer tokenizer, ChatTemplate template) {
        String stop = template.stopString();
        int[] ids = tokenizer.encode(stop, true);
        if (ids.length > 1 && ids[0] == tokenizer.bosId()) {
            ids = Arrays.copyOfRange(ids, 1, ids.length);
        }
        return new StopCondition(tokenizer.eosId(), stop, ids, tokenizer::decode);
    }

    public String stopString() {
        return stopString;
    }

    /**
     * Whether to stop after {@code generated} (the ids generated so far, prompt excluded; the last one is the
     * newest).
     */
    public boolean shouldStop(int[] generated, int count) {
        if (count <= 0) {
            return false;
        }
        if (generated[count - 1] == eosId) {
            return true;
        }
        if (count >= stopIds.length
                && Arrays.equals(generated, count - stopIds.length, count, stopIds, 0, stopIds.length)) {
            return true;
        }
        int from = Math.max(0, count - TEXT_WINDOW);
        return decode.apply(Arrays.copyOfRange(generated, from, count)).contains(stopString);
    }

    /** {@link #shouldStop(int[], int)} over the whole array. */
    public boolean shouldStop(int[] generated) {
        return shouldStop(generated, generated.length);
    }

    /**
     * The eval scripts' post-processing of the decoded answer: strip, drop a trailing stop string, strip again.
     */
    public String cleanAnswer(String decoded) {
        String s = decoded.strip();
        if (s.endsWith(stopString)) {
            s = s.substring(0, s.length() - stopString.length());
        }
        return s.strip();
    }
}
