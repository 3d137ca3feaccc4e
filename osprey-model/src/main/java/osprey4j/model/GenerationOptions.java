package osprey4j.model;

/**
 * How an answer is generated, the one sampling-options type of the project: greedy or sampled (temperature, then
 * top-k, then top-p, as transformers applies them; see {@link Sampler}), with which seed, and at most how many new
 * tokens. The CLI's flags, the service's requests and the {@link Sampler} all take this record.
 *
 * <p>{@link #reference()} is what the reference's demo and evaluation scripts call {@code generate} with:
 * {@code do_sample=True, temperature=0.2, max_new_tokens=1024}, plus the defaults transformers 4.31 adds when
 * sampling ({@code top_k=50}, {@code top_p=1.0}). The reference draws from an unseeded generator; here the seed
 * is explicit ({@link #DEFAULT_SEED} unless given) so a run can be repeated.
 *
 * @param greedy       take the most likely token at every step (the temperature is then unused)
 * @param temperature  divides the logits before sampling; must be positive and finite when sampling; 1 leaves
 *                     them unchanged
 * @param topP         nucleus sampling: keep the most likely tokens whose probabilities sum to at least topP;
 *                     in (0, 1], 1 turns it off
 * @param topK         keep the topK most likely tokens (and any tied with the last); 0 turns it off
 * @param seed         seed of the sampling generator
 * @param maxNewTokens upper bound on generated tokens (the end-of-sequence token included)
 */
public record GenerationOptions(boolean greedy, float temperature, float topP, int topK, long seed, int maxNewTokens) {
    /** The reference's {@code max_new_tokens} in its demo and evaluation scripts. */
    public static final int REFERENCE_MAX_NEW_TOKENS = 1024;
    /** The reference's sampling temperature in its demo and evaluation scripts. */
    public static final float REFERENCE_TEMPERATURE = 0.2f;
    /** transformers' default {@code top_k}, in effect whenever a caller does not set it. */
    public static final int REFERENCE_TOP_K = 50;
    /** transformers' default {@code top_p}: off. */
    public static final float REFERENCE_TOP_P = 1.0f;
    /** The seed when none is given. */
    public static final long DEFAULT_SEED = 0L;

    public GenerationOptions {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        }
        if (!greedy && (!(temperature > 0) || !Float.isFinite(temperature))) {
            throw new IllegalArgumentException("temperature must be a positive number, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be 0 (off) or positive, got " + topK);
        }
    }

    /** Sampling as the reference's demo does it, with seed {@link #DEFAULT_SEED}. */
    public static GenerationOptions reference() {
        return sampling(REFERENCE_TEMPERATURE, REFERENCE_TOP_P, REFERENCE_TOP_K, DEFAULT_SEED);
    }

    /** Sampling with the given warpers, up to the reference's number of new tokens. */
    public static GenerationOptions sampling(float temperature, float topP, int topK, long seed) {
        return new GenerationOptions(false, temperature, topP, topK, seed, REFERENCE_MAX_NEW_TOKENS);
    }

    /** Greedy decoding ({@code do_sample=False, num_beams=1}). */
    public static GenerationOptions greedy(int maxNewTokens) {
        return new GenerationOptions(true, 1.0f, REFERENCE_TOP_P, 0, DEFAULT_SEED, maxNewTokens);
    }

    public GenerationOptions withMaxNewTokens(int n) {
        return new GenerationOptions(greedy, temperature, topP, topK, seed, n);
    }

    public GenerationOptions withSeed(long s) {
        return new GenerationOptions(greedy, temperature, topP, topK, s, maxNewTokens);
    }
}
