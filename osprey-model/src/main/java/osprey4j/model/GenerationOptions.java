package osprey4j.model;

/**
 * How an answer is generated: greedy or sampled (temperature, then top-k, then top-p, as transformers applies
 * them), and at most how many new tokens.
 *
 * <p>{@link #reference()} is what the reference's demo and evaluation scripts call {@code generate} with:
 * {@code do_sample=True, temperature=0.2, max_new_tokens=1024}, plus the defaults transformers 4.31 adds when
 * sampling ({@code top_k=50}, {@code top_p=1.0}). The reference draws from an unseeded generator; here the seed
 * is explicit so a run can be repeated.
 *
 * @param greedy       take the most likely token at every step (sampling fields are then unused)
 * @param temperature  divides the logits before sampling; must be positive when sampling
 * @param topP         nucleus mass in (0, 1]; 1 keeps every token
 * @param topK         keep the k most likely tokens; 0 keeps every token
 * @param seed         seed of the sampling generator
 * @param maxNewTokens upper bound on generated tokens (the end-of-sequence token included)
 */
public record GenerationOptions(boolean greedy, float temperature, float topP, int topK, long seed, int maxNewTokens) {
    /** The reference's {@code max_new_tokens} in its demo and evaluation scripts. */
    public static final int REFERENCE_MAX_NEW_TOKENS = 1024;
    /** The reference's sampling temperature in its demo and evaluation scripts. */
    public static final float REFERENCE_TEMPERATURE = 0.2f;
    /** transformers' default {@code top_k} when sampling. */
    public static final int REFERENCE_TOP_K = 50;

    public GenerationOptions {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        }
        if (!greedy) {
            if (!(temperature > 0) || !Float.isFinite(temperature)) {
                throw new IllegalArgumentException("temperature must be a positive number, got " + temperature);
            }
            if (!(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
            }
            if (topK < 0) {
                throw new IllegalArgumentException("top-k must be 0 (off) or positive, got " + topK);
            }
        }
    }

    /** Sampling as the reference's demo does it, with seed 0. */
    public static GenerationOptions reference() {
        return new GenerationOptions(false, REFERENCE_TEMPERATURE, 1.0f, REFERENCE_TOP_K, 0L, REFERENCE_MAX_NEW_TOKENS);
    }

    /** Greedy decoding ({@code do_sample=False, num_beams=1}). */
    public static GenerationOptions greedy(int maxNewTokens) {
        return new GenerationOptions(true, 1.0f, 1.0f, 0, 0L, maxNewTokens);
    }

    public GenerationOptions withMaxNewTokens(int n) {
        return new GenerationOptions(greedy, temperature, topP, topK, seed, n);
    }

    public GenerationOptions withSeed(long s) {
        return new GenerationOptions(greedy, temperature, topP, topK, s, maxNewTokens);
    }
}
