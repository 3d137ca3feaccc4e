package osprey4j.model;

import java.util.Arrays;

/**
 * The generation loop after the prompt has been prefilled: choose a token, report it, feed it back, until the
 * end-of-sequence id, the stop string, or the token budget. Independent of the model: the LLM step and the
 * token choice come in as functions.
 *
 * <p>Stopping follows the reference: transformers' {@code generate} stops at {@code eos_token_id}; the
 * reference's {@code KeywordsStoppingCriteria} (used by some of its evaluation scripts) also stops when the
 * decoded text contains the template's stop string {@code </s>} spelled out in ordinary tokens.
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
    private final int eosId;
    private final String stopString;

    Generation(Tokenizer tokenizer, int eosId, String stopString) {
        this.tokenizer = tokenizer;
        this.eosId = eosId;
        this.stopString = stopString;
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
            String raw = tokenizer.decode(Arrays.copyOf(tokens, n));
            stopped = id == eosId || raw.endsWith(stopString) || n >= maxNewTokens;
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
        String s = decoded.strip();
        if (s.endsWith(stopString)) {
            s = s.substring(0, s.length() - stopString.length());
        }
        return s.strip();
    }

    /**
     * The part of the text so far that the final answer will start with whatever comes next: leading
     * whitespace dropped, and held back at the end are whitespace (the final answer strips it), a trailing
     * U+FFFD (an incomplete multi-byte character may still complete) and any start of the stop string.
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
        for (int k = Math.min(stopString.length() - 1, s.length()); k > 0; k--) {
            if (s.regionMatches(s.length() - k, stopString, 0, k)) {
                return k;
            }
        }
        return 0;
    }
}
