package osprey4j.model;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from the LLM's logits as Hugging Face's {@code generate} (transformers 4.31) does with
 * {@code num_beams=1}: greedy search takes the argmax; sampling applies the logits warpers in generate's order
 * (temperature, then top-k, then top-p, each keeping at least one token), takes the softmax and draws one token.
 *
 * <p>The draw uses a {@link SplittableRandom} seeded from the config: a seed gives the same tokens on every run
 * and machine, but not torch's tokens (its generator is not reproduced).
 *
 * <p>Osprey's own demo and evaluation scripts sample with {@code temperature=0.2} and leave top-k and top-p at
 * transformers' defaults, 50 and 1.0: {@link GenerationOptions#reference()}. The sampler uses every field of the
 * options but {@code maxNewTokens}, which is the generation loop's.
 *
 * <p>Not thread-safe: one sampler per generation.
 */
public final class Sampler {
    private final GenerationOptions config;
    private final SplittableRandom random;
    /** 1 - top_p as transformers compares it: the user's decimal in double, then float (torch's scalar cast). */
    private final float topPCutoff;

    public Sampler(GenerationOptions config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
        // The float topP stands for a decimal the user typed (0.9f for 0.9); Python computes 1 - 0.9 in double.
        this.topPCutoff = (float) (1.0 - Double.parseDouble(Float.toString(config.topP())));
    }

    public GenerationOptions config() {
        return config;
    }

    /**
     * The next token id.
     *
     * @throws IllegalArgumentException for empty logits or logits containing NaN
     */
    public int next(float[] logits) {
        checkLogits(logits);
        if (config.greedy()) {
            return argmax(logits);
        }
        float[] probs = probabilities(logits);
        double u = random.nextDouble();
        double total = 0;
        for (float p : probs) {
            total += p;
        }
        double target = u * total;
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] > 0f) {
                cumulative += probs[i];
                last = i;
                if (target < cumulative) {
                    return i;
                }
            }
        }
        return last; // rounding left target at the very top: the last token with probability
    }

    /**
     * The distribution {@link #next} draws from when sampling: softmax of the warped logits, 0 for removed tokens.
     */
    public float[] probabilities(float[] logits) {
        return softmax(warp(logits));
    }

    /** The logits after the warpers: divided by the temperature, removed tokens set to -infinity. */
    float[] warp(float[] logits) {
        checkLogits(logits);
        float[] scores = logits.clone();
        if (config.temperature() != 1f) {
            for (int i = 0; i < scores.length; i++) {
                scores[i] /= config.temperature();
            }
        }
        if (config.topK() != 0) {
            applyTopK(scores, config.topK());
        }
        if (config.topP() < 1f) {
            applyTopP(scores, topPCutoff);
        }
        return scores;
    }

    /** The index of the largest logit, the lowest index among ties (as torch.argmax). */
    public static int argmax(float[] logits) {
        checkLogits(logits);
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** TopKLogitsWarper: removes every score below the k-th largest (ties with it stay). */
    static void applyTopK(float[] scores, int topK) {
        int k = Math.min(topK, scores.length);
        float[] sorted = scores.clone();
        Arrays.sort(sorted);
        float kth = sorted[scores.length - k];
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] < kth) {
                scores[i] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /**
     * TopPLogitsWarper: sorts ascending (in torch's order for ties, see {@link TorchSort}), takes the softmax's
     * cumulative sum (accumulated in double, as torch's CPU cumsum for float, each value stored as float), removes
     * the tokens whose cumulative probability is {@code <= cutoff}, and always keeps the most likely one.
     */
    static void applyTopP(float[] scores, float cutoff) {
        int n = scores.length;
        int[] order = TorchSort.argsortAscending(scores);
        float[] sorted = new float[n];
        for (int j = 0; j < n; j++) {
            sorted[j] = scores[order[j]];
        }
        float[] probs = softmax(sorted);
        double cumulative = 0;
        for (int j = 0; j < n - 1; j++) { // the last (most likely) token is always kept
            cumulative += probs[j];
            if ((float) cumulative <= cutoff) {
                scores[order[j]] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** Softmax in float with the max subtracted; -inf scores get probability 0. */
    static float[] softmax(float[] scores) {
        float max = Float.NEGATIVE_INFINITY;
        for (float s : scores) {
            max = Math.max(max, s);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("every logit is -infinity: no token can be sampled");
        }
        float[] out = new float[scores.length];
        if (max == Float.POSITIVE_INFINITY) {
            // an overflowing temperature division: the infinite scores share the mass (torch would give NaN)
            int count = 0;
            for (float s : scores) {
                count += s == max ? 1 : 0;
            }
            for (int i = 0; i < scores.length; i++) {
                out[i] = scores[i] == max ? 1f / count : 0f;
            }
            return out;
        }
        double sum = 0;
        for (int i = 0; i < scores.length; i++) {
            out[i] = (float) Math.exp(scores[i] - max);
            sum += out[i];
        }
        float inv = (float) sum;
        for (int i = 0; i < out.length; i++) {
            out[i] /= inv;
        }
        return out;
    }

    private static void checkLogits(float[] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("no logits to sample from");
        }
        for (float v : logits) {
            if (Float.isNaN(v)) {
                throw new IllegalArgumentException("logits contain NaN");
            }
        }
    }
}
