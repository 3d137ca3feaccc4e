package osprey4j.model;

import java.util.Arrays;
import osprey4j.model.tokenizer.StreamDecoder;
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
     * Generates from {@code firstLogits} (the prefill's last position). Each step's text is the decode of all
     * generated ids so far, exactly as the final answer is, kept up to date by a {@link StreamDecoder} (work per
     * step does not grow with the answer), and only the part that can no longer change is passed to the listener
     * (see {@link TokenListener}).
     */
    Result run(float[] firstLogits, Step step, TokenChooser chooser, int maxNewTokens, TokenListener listener) {
        int[] tokens = new int[Math.min(maxNewTokens, 256)];
        int n = 0;
        StreamDecoder decoder = tokenizer.streamDecoder(true);
        Stream stream = new Stream();
        String answer = null;
        float[] logits = firstLogits;
        boolean stopped = false;
        while (!stopped) {
            int id = chooser.next(logits);
            if (n == tokens.length) {
                tokens = Arrays.copyOf(tokens, Math.min(maxNewTokens, tokens.length * 2));
            }
            tokens[n++] = id;
            stopped = stop.shouldStop(tokens, n) || n >= maxNewTokens;
            decoder.add(id);
            String delta;
            if (stopped) {
                answer = finalText(decoder.text().toString());
                delta = stream.finish(answer);
            } else {
                delta = stream.advance(decoder.text(), decoder.finalLength());
            }
            listener.onToken(id, delta);
            if (!stopped && listener.stopRequested()) {
                stopped = true;
                answer = finalText(decoder.text().toString());
            }
            if (!stopped) {
                logits = step.forward(id);
            }
        }
        return new Result(answer, Arrays.copyOf(tokens, n));
    }

    /**
     * What has been streamed: {@code emitted} characters of the text with its leading whitespace stripped. The
     * text so far is {@code raw}; the part of it the final answer will start with whatever comes next is its
     * leading whitespace dropped, and held back at the end are whitespace (the final answer strips it), a
     * trailing U+FFFD (an incomplete multi-byte character may still complete) and the stop string or any start
     * of it (an end-of-sequence right after it would drop it from the answer).
     */
    private final class Stream {
        private int emitted;
        /** {@code raw[0, lead)} is whitespace and final, so every later text starts with it too. */
        private int lead;

        /** The new stable text after a step, given the text so far and how much of it no later id changes. */
        String advance(CharSequence raw, int finalLength) {
            int start = lead;
            while (start < raw.length() && Character.isWhitespace(raw.charAt(start))) {
                start++;
            }
            lead = Math.max(lead, Math.min(start, finalLength));
            int length = raw.length() - start;
            int end = length - longestSuffixStartingStop(raw, start);
            // Below `emitted` nothing new can come out, so the scan stops there.
            while (end > emitted && isHeldBack(raw.charAt(start + end - 1))) {
                end--;
            }
            if (end <= emitted) {
                return "";
            }
            String delta = raw.subSequence(start + emitted, start + end).toString();
            emitted = end;
            return delta;
        }

        /** The rest of the final answer, after the answer is complete. */
        String finish(String finalText) {
            String delta = finalText.length() > emitted ? finalText.substring(emitted) : "";
            emitted = Math.max(emitted, finalText.length());
            return delta;
        }
    }

    private static boolean isHeldBack(char c) {
        return Character.isWhitespace(c) || c == '\uFFFD';
    }

    /** The reference's post-processing: strip, drop a trailing stop string, strip again. */
    String finalText(String decoded) {
        return stop.cleanAnswer(decoded);
    }

    /** The longest k such that the last k characters of {@code raw[start..]} are the first k of the stop string. */
    private int longestSuffixStartingStop(CharSequence raw, int start) {
        int length = raw.length() - start;
        for (int k = Math.min(stopString.length(), length); k > 0; k--) {
            if (regionMatches(raw, raw.length() - k, stopString, k)) {
                return k;
            }
        }
        return 0;
    }

    private static boolean regionMatches(CharSequence raw, int from, String stop, int k) {
        for (int i = 0; i < k; i++) {
            if (raw.charAt(from + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
