package osprey4j.core.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Non-causal multi-head attention over long sequences as matrix products: for each head, blocks of query rows are
 * scored against all keys with one {@link Gemm} ({@code (q_h * head_dim^-0.5) k_h^T}, the scaling SAM's ViT applies
 * to q before the product), the {@link Attention.ScoreBias} is added, each row goes through {@link Softmax}, and a
 * second GEMM takes the weighted sum of the values. The same attention as {@link Attention#attend} (plain multi-head,
 * no GQA, not causal) up to summation order and where the scale is applied; it pays when there are thousands of
 * keys (SAM's global blocks: 4096), where the register-tiled GEMM beats one dot product per key.
 */
public final class BlockedAttention {
    /** Query rows scored at once: a block of scores is rows x keys floats. */
    private static final int BLOCK_ROWS = 256;

    private BlockedAttention() {
    }

    /**
     * @param q     [queries, heads x head_dim] F32
     * @param k     [keys, heads x head_dim] F32
     * @param v     same shape as k
     * @param heads heads
     * @param bias  added to each head's scores (before the softmax), or null
     * @param out   same shape as q, F32, not overlapping the inputs
     */
    public static void attend(Tensor q, Tensor k, Tensor v, int heads, Attention.ScoreBias bias, Tensor out) {
        KernelChecks.requireF32(q, "q");
        KernelChecks.requireF32(k, "k");
        KernelChecks.requireF32(v, "v");
        KernelChecks.requireF32(out, "out");
        KernelChecks.requireRank(q, 2, "q");
        KernelChecks.requireRank(k, 2, "k");
        KernelChecks.requireSameShape(q, out, "q", "out");
        KernelChecks.requireSameShape(k, v, "k", "v");
        if (heads <= 0 || q.dim(1) % heads != 0 || k.dim(1) != q.dim(1)) {
            throw new IllegalArgumentException("q " + q + " and k " + k + " are not " + heads + " heads of one head_dim");
        }
        int queries = q.size(0), keys = k.size(0);
        int d = Math.toIntExact(q.dim(1) / heads);
        if (keys == 0 && queries > 0) {
            throw new IllegalArgumentException("attention of " + queries + " queries over no keys");
        }
        float scale = (float) Math.pow(d, -0.5);
        int rows = Math.min(BLOCK_ROWS, Math.max(1, queries));
        // Off-heap blocks: where the products go to OpenBLAS (NativeBlas), native operands are passed as they
        // are, where heap arrays would be copied on every call.
        try (Arena arena = Arena.ofShared()) {
            Tensor scoreBlock = Tensor.zeros(arena, DType.F32, rows, keys);
            Tensor qBlock = Tensor.zeros(arena, DType.F32, rows, d);
            Tensor outBlock = Tensor.zeros(arena, DType.F32, rows, d);
            MemorySegment ss = scoreBlock.segment(), qb = qBlock.segment(), ob = outBlock.segment();
            MemorySegment qs = q.segment(), os = out.segment();
            long width = q.dim(1);
            float[] qRow = new float[d];
            for (int h = 0; h < heads; h++) {
                Tensor kh = headRows(arena, k, h, d);
                Tensor vt = headColumns(arena, v, h, d);
                for (int r0 = 0; r0 < queries; r0 += rows) {
                    int n = Math.min(rows, queries - r0);
                    int head = h, first = r0;
                    for (int i = 0; i < n; i++) {
                        MemorySegment.copy(qs, ValueLayout.JAVA_FLOAT_UNALIGNED,
                                (((long) (r0 + i)) * width + (long) h * d) * Float.BYTES, qRow, 0, d);
                        for (int c = 0; c < d; c++) {
                            qRow[c] *= scale;
                        }
                        MemorySegment.copy(qRow, 0, qb, ValueLayout.JAVA_FLOAT_UNALIGNED, (long) i * d * Float.BYTES, d);
                    }
                    Tensor scores = scoreBlock.slice(0, n);
                    Gemm.linear(qBlock.slice(0, n), kh, null, scores);
                    ComputePool.parallelFor(n, 8, (from, to) -> {
                        float[] buf = new float[VectorMath.roundUp(keys)];
                        for (int i = from; i < to; i++) {
                            long at = (long) i * keys * Float.BYTES;
                            MemorySegment.copy(ss, ValueLayout.JAVA_FLOAT_UNALIGNED, at, buf, 0, keys);
                            if (bias != null) {
                                bias.addTo(head, first + i, buf, keys);
                            }
                            Softmax.softmax(buf, keys);
                            MemorySegment.copy(buf, 0, ss, ValueLayout.JAVA_FLOAT_UNALIGNED, at, keys);
                        }
                    });
                    Tensor o = outBlock.slice(0, n);
                    Gemm.linear(scores, vt, null, o);
                    for (int i = 0; i < n; i++) {
                        MemorySegment.copy(ob, (long) i * d * Float.BYTES, os,
                                (((long) (r0 + i)) * width + (long) h * d) * Float.BYTES, (long) d * Float.BYTES);
                    }
                }
            }
        }
    }

    /** Head h's columns of [rows, heads x d] as a new [rows, d] tensor. */
    private static Tensor headRows(Arena arena, Tensor x, int h, int d) {
        int n = x.size(0);
        long width = x.dim(1);
        Tensor out = Tensor.zeros(arena, DType.F32, n, d);
        MemorySegment s = x.segment();
        for (int i = 0; i < n; i++) {
            MemorySegment.copy(s, ((long) i * width + (long) h * d) * Float.BYTES, out.segment(),
                    (long) i * d * Float.BYTES, (long) d * Float.BYTES);
        }
        return out;
    }

    /** Head h's columns of [rows, heads x d], transposed: a new [d, rows] tensor (the GEMM's weight layout). */
    private static Tensor headColumns(Arena arena, Tensor x, int h, int d) {
        int n = x.size(0);
        long width = x.dim(1);
        float[] out = new float[d * n];
        float[] row = new float[d];
        MemorySegment s = x.segment();
        for (int i = 0; i < n; i++) {
            MemorySegment.copy(s, ValueLayout.JAVA_FLOAT_UNALIGNED, ((long) i * width + (long) h * d) * Float.BYTES,
                    row, 0, d);
            for (int c = 0; c < d; c++) {
                out[c * n + i] = row[c];
            }
        }
        Tensor t = Tensor.zeros(arena, DType.F32, d, n);
        MemorySegment.copy(out, 0, t.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, out.length);
        return t;
    }
}
