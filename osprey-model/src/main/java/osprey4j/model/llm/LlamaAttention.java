package osprey4j.model.llm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.io.Checkpoint;
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
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

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
    private final int headDim;

    private LlamaAttention(Tensor qProj, Tensor kProj, Tensor vProj, Tensor oProj, RotaryEmbedding rotaryEmb,
            LlamaConfig c) {
        this.qProj = qProj;
        this.kProj = kProj;
        this.vProj = vProj;
        this.oProj = oProj;
        this.rotaryEmb = rotaryEmb;
        this.heads = c.numAttentionHeads();
        this.kvHeads = c.numKeyValueHeads();
        this.headDim = c.headDim();
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
                ckpt.weight(prefix + ".q_proj.weight", qDim, hidden),
                ckpt.weight(prefix + ".k_proj.weight", c.kvDim(), hidden),
                ckpt.weight(prefix + ".v_proj.weight", c.kvDim(), hidden),
                ckpt.weight(prefix + ".o_proj.weight", hidden, qDim),
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
        long rowBytes = s.key.byteSize() / n;
        MemorySegment.copy(s.key.segment(), 0, cache.keys().segment(), firstPosition * rowBytes, n * rowBytes);
        MemorySegment.copy(s.value.segment(), 0, cache.values().segment(), firstPosition * rowBytes, n * rowBytes);
        attend(s, cache, firstPosition);
        Gemm.linear(s.attnOutput, oProj, null, s.projected);
    }

    /**
     * softmax(q k^T / sqrt(head_dim)) v per (token, head), causal: the query at position p sees keys 0..p. The
     * (token, head) pairs are dealt round-robin to the workers, which balances the longer rows of late tokens;
     * each worker has its own score row and accumulator.
     */
    private void attend(Scratch s, KvCache.Layer cache, int firstPosition) {
        int n = s.rows();
        int items = n * heads;
        int workers = Math.min(items, s.scores.length);
        int groups = heads / kvHeads;
        int d = headDim;
        long qRowBytes = (long) heads * d * Float.BYTES;
        long kvRowBytes = (long) kvHeads * d * Float.BYTES;
        long headBytes = (long) d * Float.BYTES;
        float scale = (float) Math.sqrt(d);
        int vectorEnd = F.loopBound(d);
        MemorySegment q = s.query.segment();
        MemorySegment out = s.attnOutput.segment();
        MemorySegment keys = cache.keys().segment();
        MemorySegment values = cache.values().segment();
        ComputePool.parallelFor(workers, 1, (w0, w1) -> {
            for (int w = w0; w < w1; w++) {
                float[] scores = s.scores[w];
                float[] acc = s.accumulators[w];
                for (int item = w; item < items; item += workers) {
                    int token = item / heads;
                    int head = item % heads;
                    int visible = firstPosition + token + 1;
                    long qOff = token * qRowBytes + head * headBytes;
                    long kvHeadOff = (head / groups) * headBytes;
                    // scores[j] = q . k_j / sqrt(d), as torch: matmul, then the division
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < visible; j++) {
                        long kOff = j * kvRowBytes + kvHeadOff;
                        FloatVector sum = FloatVector.zero(F);
                        int i = 0;
                        for (; i < vectorEnd; i += F.length()) {
                            long off = (long) i * Float.BYTES;
                            sum = FloatVector.fromMemorySegment(F, q, qOff + off, LE)
                                    .fma(FloatVector.fromMemorySegment(F, keys, kOff + off, LE), sum);
                        }
                        float dot = sum.reduceLanes(VectorOperators.ADD);
                        for (; i < d; i++) {
                            long off = (long) i * Float.BYTES;
                            dot += q.get(FLOAT, qOff + off)
                                    * keys.get(FLOAT, kOff + off);
                        }
                        float score = dot / scale;
                        scores[j] = score;
                        max = Math.max(max, score);
                    }
                    // softmax in float32
                    float total = 0f;
                    for (int j = 0; j < visible; j++) {
                        float e = (float) Math.exp(scores[j] - max);
                        scores[j] = e;
                        total += e;
                    }
                    // out = sum_j p_j v_j
                    Arrays.fill(acc, 0f);
                    for (int j = 0; j < visible; j++) {
                        float p = scores[j] / total;
                        long vOff = j * kvRowBytes + kvHeadOff;
                        FloatVector pv = FloatVector.broadcast(F, p);
                        int i = 0;
                        for (; i < vectorEnd; i += F.length()) {
                            FloatVector.fromMemorySegment(F, values, vOff + (long) i * Float.BYTES, LE)
                                    .fma(pv, FloatVector.fromArray(F, acc, i)).intoArray(acc, i);
                        }
                        for (; i < d; i++) {
                            acc[i] += p * values.get(FLOAT,
                                    vOff + (long) i * Float.BYTES);
                        }
                    }
                    MemorySegment.copy(acc, 0, out, FLOAT,
                            token * qRowBytes + head * headBytes, d);
                }
            }
        });
    }
}
