package osprey4j.model;

import java.util.Arrays;
import osprey4j.model.tokenizer.Tokenizer;

/**
 * The generation loop after the prompt has been prefilled: choose a token, report it, feed it back, until the
 * {@link StopCondition} says stop or the token budget is spent. Independent of the model: the LLM step and the
 * token choice come in as functions.
 *
 * <p>Stopping follows the reference: transformers' {@code generate} stops at {@code eos_token_id}; the
 * reference's {@code KeywordsStoppingCriteria} (used by some of its evaluation scripts) also stops when the
 * template's stop string {@code </s>} shows up spelled out in ordinary tokens. The answer is cleaned as the
 * evaluation scripts clean it ({@link StopCondition#cleanAnswer}).
 */
final class Generation {
    /** One LLM step: the logits after feeding {@code tokenId} at the next position. */
    @FunctionalInterface
    interface Step {
        float[] forward(int tokenId);
    }

    /** Picks the next token from logits (greedy or sampled). */
    @FunctionalInterface
    interface TokenChooser {
        int next(float[] logits);
    }

    /** What the loop produced. */
    record Result(String text, int[] tokens) {
    }

    private final Tokenizer tokenizer;
    private final StopCondition stop;
    private final String stopString;

    Generation(Tokenizer tokenizer, StopCondition stop) {
        this.tokenizer = tokenizer;
        this.stop = stop;
        this.stopString = stop.stopString();
    }

    /**
     * Generates from {@code firstLogits} (the prefill's last position). Each step's text is decoded from all
     * generated ids so far, exactly as the final answer is, and only the part that can no longer change is
     * passed to the listener (see {@link TokenListener}).
     */
    Result run(float[] firstLogits, Step step, TokenChooser chooser, int maxNewTokens, TokenListener listener) {
        int[] tokens = new int[Math.min(maxNewTokens, 256)];
        int n = 0;
        int emitted = 0;
        float[] logits = firstLogits;
        boolean stopped = false;
        while (!stopped) {
            int id = chooser.next(logits);
            if (n == tokens.length) {
                tokens = Arrays.copyOf(tokens, Math.min(maxNewTokens, tokens.length * 2));
            }
            tokens[n++] = id;
            stopped = stop.shouldStop(tokens, n) || n >= maxNewTokens;
            String raw = tokenizer.decode(Arrays.copyOf(tokens, n));
            String stable = stopped ? finalText(raw) : stablePrefix(raw);
            String delta = stable.length() > emitted ? stable.substring(emitted) : "";
            emitted = Math.max(emitted, stable.length());
            listener.onToken(id, delta);
            if (!stopped) {
                logits = step.forward(id);
            }
        }
        int[] generated = Arrays.copyOf(tokens, n);
        return new Result(finalText(tokenizer.decode(generated)), generated);
    }

    /** The reference's post-processing: strip, drop a trailing stop string, strip again. */
    String finalText(String decoded) {
        return stop.cleanAnswer(decoded);
    }

    /**
     * The part of the text so far that the final answer will start with whatever comes next: leading
     * whitespace dropped, and held back at the end are whitespace (the final answer strips it), a trailing
     * U+FFFD (an incomplete multi-byte character may still complete) and the stop string or any start of it
     * (an end-of-sequence right after it would drop it from the answer).
     */
    String stablePrefix(String raw) {
        String s = raw.stripLeading();
        int end = s.length() - longestSuffixStartingStop(s);
        while (end > 0 && (Character.isWhitespace(s.charAt(end - 1)) || s.charAt(end - 1) == '\uFFFD')) {
            end--;
        }
        return s.substring(0, end);
    }

    private int longestSuffixStartingStop(String s) {
        // The longest k such that the last k characters are the first k of the stop string.
        for (int k = Math.min(stopString.length(), s.length()); k > 0; k--) {
            if (s.regionMatches(s.length() - k, stopString, 0, k)) {
                return k;
            }
        }
        return 0;
    }
}
