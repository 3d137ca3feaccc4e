package osprey4j.model.llm;

import java.util.Arrays;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.kernels.Attention;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.RotaryEmbedding;
import osprey4j.core.tensor.Tensor;

/**
 * Hugging Face's {@code LlamaAttention} (transformers 4.31) with a KV cache: q, k, v projections, rotary
 * embedding of q and k at their absolute positions, causal scaled dot-product attention in float32 where query
 * head h reads key/value head {@code h / (heads / kv_heads)} (grouped-query attention, {@code repeat_kv}), then
 * o_proj.
 */
final class LlamaAttention {
    /** [heads x head_dim, hidden] */
    final Tensor qProj;
    /** [kv_heads x head_dim, hidden] */
    final Tensor kProj;
    /** [kv_heads x head_dim, hidden] */
    final Tensor vProj;
    /** [hidden, heads x head_dim] */
    final Tensor oProj;
    private final RotaryEmbedding rotaryEmb;
    private final int heads;
    private final int kvHeads;

    private LlamaAttention(Tensor qProj, Tensor kProj, Tensor vProj, Tensor oProj, RotaryEmbedding rotaryEmb,
            LlamaConfig c) {
        this.qProj = qProj;
        this.kProj = kProj;
        this.vProj = vProj;
        this.oProj = oProj;
        this.rotaryEmb = rotaryEmb;
        this.heads = c.numAttentionHeads();
        this.kvHeads = c.numKeyValueHeads();
    }

    /**
     * Loads {@code <prefix>.{q,k,v,o}_proj.weight}. The {@code rotary_emb.inv_freq} buffer that transformers 4.31
     * saves is not a weight (4.31 itself computes the tables from its base); when present it must agree with
     * rope_theta, to within the rounding of a 16-bit checkpoint, so that a config that lost its rope_theta does not
     * go unnoticed.
     */
    static LlamaAttention load(Checkpoint ckpt, String prefix, LlamaConfig c, RotaryEmbedding rotary) {
        int hidden = c.hiddenSize();
        int qDim = c.numAttentionHeads() * c.headDim();
        checkInverseFrequencies(ckpt, prefix + ".rotary_emb.inv_freq", c);
        return new LlamaAttention(
                ckpt.linearWeight(prefix + ".q_proj.weight", qDim, hidden),
                ckpt.linearWeight(prefix + ".k_proj.weight", c.kvDim(), hidden),
                ckpt.linearWeight(prefix + ".v_proj.weight", c.kvDim(), hidden),
                ckpt.linearWeight(prefix + ".o_proj.weight", hidden, qDim),
                rotary, c);
    }

    private static void checkInverseFrequencies(Checkpoint ckpt, String key, LlamaConfig c) {
        if (!ckpt.contains(key)) {
            return;
        }
        float[] stored = ckpt.tensor(key).toFloatArray();
        float[] expected = RotaryEmbedding.inverseFrequencies(c.headDim(), c.ropeTheta());
        if (stored.length != expected.length) {
            throw new IllegalArgumentException("'" + key + "' has " + stored.length + " entries, expected head_dim / 2 = "
                    + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            // bf16 keeps 8 significant bits: a relative error up to 2^-8; a different base is off by far more
            if (Math.abs(stored[i] - expected[i]) > 1e-2 * expected[i]) {
                throw new IllegalArgumentException("'" + key + "' = " + Arrays.toString(stored)
                        + " does not match rope_theta " + c.ropeTheta() + " (expected " + Arrays.toString(expected)
                        + "); check rope_theta in config.json");
            }
        }
    }

    /**
     * s.normed [n, hidden] at positions firstPosition.. -> s.projected [n, hidden]; appends the n keys and
     * values to {@code cache}.
     */
    void forward(Scratch s, KvCache.Layer cache, int firstPosition) {
        int n = s.rows();
        Gemm.linear(s.normed, qProj, null, s.query);
        Gemm.linear(s.normed, kProj, null, s.key);
        Gemm.linear(s.normed, vProj, null, s.value);
        rotaryEmb.apply(s.queryHeads, firstPosition);
        rotaryEmb.apply(s.keyHeads, firstPosition);
        cache.write(firstPosition, s.key, s.value);
        int keys = firstPosition + n;
        Attention.attend(s.query, cache.keys(keys), cache.values(keys), heads, kvHeads, firstPosition, null,
                s.attention, s.attnOutput);
        Gemm.linear(s.attnOutput, oProj, null, s.projected);
    }
}
