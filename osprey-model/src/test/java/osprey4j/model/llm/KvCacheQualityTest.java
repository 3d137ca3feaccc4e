package osprey4j.model.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.core.io.InMemoryCheckpoint;
import osprey4j.core.kernels.Quantize;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * What a quantised KV cache costs in logits, next to what quantised weights cost, on a random LLaMA whose head_dim
 * (64) is a whole number of Q8_0 blocks (the bundled models' are not: 16 and 48): 2 layers, hidden 256, 4 heads over 2
 * key/value heads, MLP 512, vocabulary 512, a prefill of 299 positions and one decoding step. Weights are drawn so
 * that attention is far from uniform (query and key projections at 1.5 / sqrt(hidden)), otherwise any cache error
 * would vanish in the average.
 *
 * <p>Q4_0 weights are the only models that cache in Q8_0 by default ({@link Llama#kvCacheType()}), so the bound is
 * against their error: the Q8_0 cache must move the logits by less than a tenth of what Q4_0 weights move them (it
 * moves them by a few percent: lines starting "kv-quality" print the figures).
 */
class KvCacheQualityTest {
    private static final int HIDDEN = 256;
    private static final int HEADS = 4;
    private static final int KV_HEADS = 2;
    private static final int MLP = 512;
    private static final int VOCAB = 512;
    private static final int LAYERS = 2;
    private static final int PROMPT = 299;

    private static final LlamaConfig CONFIG = new LlamaConfig(HIDDEN, MLP, LAYERS, HEADS, KV_HEADS, 1e-6f, 10000.0,
            512, VOCAB, false, 1, 2);

    private static Llama f32;
    private static Llama q4;
    private static Tensor prompt;
    private static Tensor next;

    @BeforeAll
    static void build() {
        SplittableRandom rnd = new SplittableRandom(17);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        weights.put("model.embed_tokens.weight", normal(rnd, 1.0, VOCAB, HIDDEN));
        int kvDim = HIDDEN / HEADS * KV_HEADS;
        double std = 1 / Math.sqrt(HIDDEN);
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            weights.put(p + "input_layernorm.weight", ones(HIDDEN));
            weights.put(p + "post_attention_layernorm.weight", ones(HIDDEN));
            weights.put(p + "self_attn.q_proj.weight", normal(rnd, 1.5 * std, HIDDEN, HIDDEN));
            weights.put(p + "self_attn.k_proj.weight", normal(rnd, 1.5 * std, kvDim, HIDDEN));
            weights.put(p + "self_attn.v_proj.weight", normal(rnd, std, kvDim, HIDDEN));
            weights.put(p + "self_attn.o_proj.weight", normal(rnd, std, HIDDEN, HIDDEN));
            weights.put(p + "mlp.gate_proj.weight", normal(rnd, std, MLP, HIDDEN));
            weights.put(p + "mlp.up_proj.weight", normal(rnd, std, MLP, HIDDEN));
            weights.put(p + "mlp.down_proj.weight", normal(rnd, 1 / Math.sqrt(MLP), HIDDEN, MLP));
        }
        weights.put("model.norm.weight", ones(HIDDEN));
        weights.put("lm_head.weight", normal(rnd, std, VOCAB, HIDDEN));
        f32 = Llama.load(new InMemoryCheckpoint("f32", weights), CONFIG);
        Map<String, Tensor> quantised = new LinkedHashMap<>(weights);
        quantised.replaceAll((key, t) -> Llama.isLinearWeightKey(key, false) ? Quantize.quantize(t, DType.Q4_0) : t);
        q4 = Llama.load(new InMemoryCheckpoint("q4", quantised), CONFIG);
        prompt = normal(rnd, 1.0, PROMPT, HIDDEN);
        next = normal(rnd, 1.0, 1, HIDDEN);
    }

    private static Tensor normal(SplittableRandom rnd, double std, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            // Box-Muller from two uniforms: SplittableRandom has no nextGaussian of its own in every JDK
            double u = 1 - rnd.nextDouble();
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble()));
        }
        return Tensor.copyOf(v, shape);
    }

    private static Tensor ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return Tensor.copyOf(v, n);
    }

    /** Logits after the prompt (a prefill) and after one more position (a decoding step reading the cache). */
    private static float[][] logits(Llama llama, DType cacheType) {
        try (KvCache cache = llama.newCache(PROMPT + 1, cacheType)) {
            float[] afterPrompt = llama.forward(prompt, cache);
            float[] afterStep = llama.forward(next, cache);
            return new float[][] {afterPrompt, afterStep};
        }
    }

    private static double maxDifference(float[][] a, float[][] b) {
        double max = 0;
        for (int s = 0; s < a.length; s++) {
            for (int i = 0; i < a[s].length; i++) {
                max = Math.max(max, Math.abs(a[s][i] - b[s][i]));
            }
        }
        return max;
    }

    private static double std(float[] v) {
        double mean = 0;
        for (float x : v) {
            mean += x;
        }
        mean /= v.length;
        double var = 0;
        for (float x : v) {
            var += (x - mean) * (x - mean);
        }
        return Math.sqrt(var / v.length);
    }

    @Test
    void aQ8CacheCostsAFractionOfWhatQ4WeightsCost() {
        float[][] reference = logits(f32, DType.F32);
        float[][] weightsOnly = logits(q4, DType.F32);
        double weightError = maxDifference(reference, weightsOnly);
        double bf16Error = maxDifference(weightsOnly, logits(q4, DType.BF16));
        double q8Error = maxDifference(weightsOnly, logits(q4, DType.Q8_0));
        System.out.printf(Locale.ROOT, "kv-quality | logit std %.3f | Q4_0 weights: max |dlogit| %.5f | on them, a BF16"
                + " cache %.5f, a Q8_0 cache %.5f (%.1f%% of the weights')%n", std(reference[0]), weightError,
                bf16Error, q8Error, 100 * q8Error / weightError);
        assertTrue(q8Error > 0, "the Q8_0 cache rounds its keys and values");
        assertTrue(q8Error < 0.1 * weightError, "a Q8_0 cache moves the logits by " + q8Error
                + ", not under a tenth of the Q4_0 weights' " + weightError);
        assertEquals(DType.Q8_0, q4.kvCacheType(), "Q4_0 weights of head_dim 64 cache in Q8_0 by default");
        assertEquals(DType.F32, f32.kvCacheType());
    }

    @Test
    void aQ8CacheTakesAQuarterOfTheFloatOnePlusItsScales() {
        try (KvCache f = q4.newCache(PROMPT + 1, DType.F32); KvCache q = q4.newCache(PROMPT + 1, DType.Q8_0)) {
            q4.forward(prompt, f);
            q4.forward(prompt, q);
            assertEquals(f.byteSize() / 4 / 32 * 34, q.byteSize(), "34 bytes per 32 values against 128");
        }
    }

    /** A prefix taken from a Q8_0 cache restores into another one and gives the logits of the sequence run whole. */
    @Test
    void q8PrefixesRestoreExactly() {
        float[][] whole = logits(q4, DType.Q8_0);
        try (KvCache first = q4.newCache(PROMPT + 1, DType.Q8_0)) {
            q4.forward(prompt, first);
            try (KvCache.Prefix prefix = first.prefix(PROMPT); KvCache again = q4.newCache(PROMPT + 1, DType.Q8_0)) {
                again.restore(prefix, PROMPT);
                org.junit.jupiter.api.Assertions.assertArrayEquals(whole[1], q4.forward(next, again),
                        "the same quantised keys and values, the same step");
            }
        }
    }
}
