package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Scaled dot-product attention in float32 over rows of concatenated heads:
 * {@code out[i, h] = sum_j softmax_j(q[i, h] . k[j, g(h)] / sqrt(head_dim) + bias_h[i, j]) v[j, g(h)]}.
 *
 * <ul>
 *   <li>q and out are [queries, heads x head_dim]; k and v are [keys, kv_heads x head_dim] (a key/value cache
 *       passes a view of its first rows). Query head h reads key/value head {@code h / (heads / kv_heads)}
 *       (grouped-query attention; kv_heads = heads is plain multi-head attention).</li>
 *   <li>Causal: queries at absolute positions {@code causalFrom .. causalFrom + queries - 1} see the keys at
 *       positions 0 .. their own; {@link #NOT_CAUSAL} lets every query see every key.</li>
 *   <li>An optional {@link ScoreBias} is added to each row of scores before the softmax (e.g. a relative
 *       position bias).</li>
 * </ul>
 * Scores are {@code dot / sqrt(head_dim)}, the division as torch writes it; the softmax is {@link Softmax}'s.
 * (query, head) pairs are dealt round-robin to the workers, which balances the longer rows of late queries
 * under a causal mask; each worker has its own score row and accumulator in a {@link Workspace}.
 */
public final class Attention {
    /** {@code causalFrom} value for attention without a causal mask. */
    public static final int NOT_CAUSAL = -1;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** Byte lanes as many as F's float lanes, or null below 8 lanes (the Q8_0 loops then run scalar). */
    private static final VectorSpecies<Byte> B = VectorConvert.B;
    /** Elements of a Q8_0 block, and its bytes: an F16 scale, then 32 signed quants. */
    private static final int QK = 32;
    private static final int Q8_BLOCK_BYTES = 34;

    private Attention() {
    }

    /** Adds a bias to one row of attention scores, before the softmax. */
    @FunctionalInterface
    public interface ScoreBias {
        /** Adds the bias of query {@code query} in head {@code head} to {@code scores[0 .. keys)}, in place. */
        void addTo(int head, int query, float[] scores, int keys);

        /** A dense bias, F32 [heads, queries, keys]. */
        static ScoreBias of(Tensor bias) {
            KernelChecks.requireF32(bias, "bias");
            KernelChecks.requireRank(bias, 3, "bias");
            MemorySegment b = bias.segment();
            long rows = bias.dim(1), cols = bias.dim(2);
            return (head, query, scores, keys) -> {
                if (keys > cols) {
                    throw new IllegalArgumentException("bias " + bias + " has no column for key " + (keys - 1));
                }
                long off = ((long) head * rows + query) * cols * Float.BYTES;
                for (int j = 0; j < keys; j++) {
                    scores[j] += b.get(FLOAT, off + (long) j * Float.BYTES);
                }
            };
        }

        /**
         * A bias decomposed over a 2-d key grid of kh x kw keys (key j at grid row j / kw, column j % kw):
         * {@code scores[j] += rowBias[head, query, j / kw]}, then {@code += colBias[head, query, j % kw]}, the
         * order in which a decomposed relative position bias (SAM's ViT) adds them. F32 [heads, queries, kh] and
         * [heads, queries, kw]; the full [heads, queries, kh x kw] bias is never built.
         */
        static ScoreBias decomposed(Tensor rowBias, Tensor colBias) {
            KernelChecks.requireF32(rowBias, "rowBias");
            KernelChecks.requireF32(colBias, "colBias");
            KernelChecks.requireRank(rowBias, 3, "rowBias");
            KernelChecks.requireRank(colBias, 3, "colBias");
            if (rowBias.dim(0) != colBias.dim(0) || rowBias.dim(1) != colBias.dim(1)) {
                throw new IllegalArgumentException("rowBias " + rowBias + " and colBias " + colBias
                        + " must share heads and queries");
            }
            MemorySegment rb = rowBias.segment(), cb = colBias.segment();
            long queries = rowBias.dim(1);
            int kh = rowBias.size(2), kw = colBias.size(2);
            return (head, query, scores, keys) -> {
                if (keys != (long) kh * kw) {
                    throw new IllegalArgumentException(keys + " keys are not the " + kh + " x " + kw + " grid of the bias");
                }
                long rOff = ((long) head * queries + query) * kh * Float.BYTES;
                long cOff = ((long) head * queries + query) * kw * Float.BYTES;
                for (int y = 0; y < kh; y++) {
                    float r = rb.get(FLOAT, rOff + (long) y * Float.BYTES);
                    for (int x = 0; x < kw; x++) {
                        int j = y * kw + x;
                        scores[j] = scores[j] + r + cb.get(FLOAT, cOff + (long) x * Float.BYTES);
                    }
                }
            };
        }
    }

    /**
     * Per-worker buffers: a score row for up to {@code maxKeys} keys and an output row of {@code headDim}. Kept
     * by the caller so that repeated calls (one decoding step per token) allocate nothing; not thread-safe.
     */
    public static final class Workspace {
        private final float[][] scores;
        private final float[][] accumulators;
        private final int maxKeys;
        private final int headDim;

        public Workspace(int maxKeys, int headDim) {
            if (maxKeys < 0 || headDim < 0) {
                throw new IllegalArgumentException("workspace sizes must not be negative: " + maxKeys + " keys, head_dim "
                        + headDim);
            }
            int workers = ComputePool.threads();
            this.maxKeys = maxKeys;
            this.headDim = headDim;
            this.scores = new float[workers][VectorMath.roundUp(maxKeys)];
            this.accumulators = new float[workers][headDim];
        }
    }

    /**
     * Writes the attention of every query row of {@code q} to {@code out}.
     *
     * @param q          [queries, heads x head_dim] F32 (or [queries, heads, head_dim])
     * @param k          [keys, kvHeads x head_dim] F32, BF16, F16 or Q8_0
     * @param v          same shape and dtype as k
     * @param heads      query heads
     * @param kvHeads    key/value heads, dividing {@code heads}
     * @param causalFrom position of the first query for a causal mask, or {@link #NOT_CAUSAL}
     * @param bias       added to the scores, or null
     * @param workspace  buffers for at least {@code keys} keys and head_dim, or null to allocate them
     * @param out        same shape as q, F32, not overlapping the inputs
     */
    public static void attend(Tensor q, Tensor k, Tensor v, int heads, int kvHeads, int causalFrom, ScoreBias bias,
                              Workspace workspace, Tensor out) {
        KernelChecks.requireSameShape(k, v, "k", "v");
        if (k.rank() < 2) {
            throw new IllegalArgumentException("attention needs row tensors, got q " + q + " and k " + k);
        }
        attend(q, PagedRows.of(k), PagedRows.of(v), heads, kvHeads, causalFrom, bias, workspace, out);
    }

    /**
     * {@link #attend(Tensor, Tensor, Tensor, int, int, int, ScoreBias, Workspace, Tensor)} with keys and values in
     * pages (a KV cache's), in F32, BF16, F16 or Q8_0. The 16-bit ones are widened to float in registers, so the
     * arithmetic is the F32 attention's on the stored values; with F32 rows the result is bitwise that of the same
     * rows in one tensor. Q8_0 rows (head_dim a whole number of 32-element blocks) are read a block at a time: a
     * score sums q times the block's quants and then multiplies by the block's scale; a value row adds its quants
     * times the probability scaled by the block's scale. That is the attention of the dequantised rows up to the
     * order of float roundings.
     */
    public static void attend(Tensor q, PagedRows k, PagedRows v, int heads, int kvHeads, int causalFrom,
                              ScoreBias bias, Workspace workspace, Tensor out) {
        KernelChecks.requireF32(q, "q");
        KernelChecks.requireF32(out, "out");
        KernelChecks.requireSameShape(q, out, "q", "out");
        if (!k.sameLayout(v)) {
            throw new IllegalArgumentException("keys (" + k.dtype() + ", " + k.rows() + " x " + k.width()
                    + ") and values (" + v.dtype() + ", " + v.rows() + " x " + v.width() + ") differ in layout");
        }
        if (q.rank() < 2) {
            throw new IllegalArgumentException("attention needs row tensors, got q " + q);
        }
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("kv_heads " + kvHeads + " must divide heads " + heads);
        }
        int queries = q.size(0);
        int keys = k.rows();
        long qWidth = PagedRows.rowWidth(q);
        long kvWidth = k.width();
        if (qWidth % heads != 0 || kvWidth != qWidth / heads * kvHeads) {
            throw new IllegalArgumentException("q " + q + " and keys of width " + kvWidth + " are not " + heads
                    + " and " + kvHeads + " heads of one head_dim");
        }
        int d = Math.toIntExact(qWidth / heads);
        if (d % k.dtype().blockSize() != 0) {
            throw new IllegalArgumentException("heads of " + d + " elements are not whole " + k.dtype() + " blocks of "
                    + k.dtype().blockSize());
        }
        if (causalFrom != NOT_CAUSAL && (causalFrom < 0 || (long) causalFrom + queries > keys)) {
            throw new IllegalArgumentException("queries at positions " + causalFrom + ".." + (causalFrom + queries - 1)
                    + " need at least " + ((long) causalFrom + queries) + " keys, got " + keys);
        }
        if (causalFrom == NOT_CAUSAL && keys == 0 && queries > 0) {
            throw new IllegalArgumentException("attention of " + queries + " queries over no keys");
        }
        if (overlaps(out.segment(), q.segment()) || overlapsAnyPage(out.segment(), k)
                || overlapsAnyPage(out.segment(), v)) {
            throw new IllegalArgumentException("attention cannot write over its inputs");
        }
        Workspace ws = workspace != null ? workspace : new Workspace(keys, d);
        if (ws.maxKeys < keys || ws.headDim < d) {
            throw new IllegalArgumentException("workspace for " + ws.maxKeys + " keys and head_dim " + ws.headDim
                    + " is too small for " + keys + " keys and head_dim " + d);
        }
        int items = queries * heads;
        if (items == 0 || d == 0) {
            out.segment().fill((byte) 0);
            return;
        }
        int workers = Math.min(items, ws.scores.length);
        int groups = heads / kvHeads;
        long qRowBytes = qWidth * Float.BYTES;
        long headBytes = (long) d * Float.BYTES;
        float scale = (float) Math.sqrt(d);
        MemorySegment qs = q.segment(), os = out.segment();
        ComputePool.parallelFor(workers, 1, (w0, w1) -> {
            for (int w = w0; w < w1; w++) {
                float[] scores = ws.scores[w];
                float[] acc = ws.accumulators[w];
                for (int item = w; item < items; item += workers) {
                    int query = item / heads;
                    int head = item % heads;
                    int visible = causalFrom == NOT_CAUSAL ? keys : causalFrom + query + 1;
                    long qOff = query * qRowBytes + head * headBytes;
                    long kvHeadAt = (long) (head / groups) * d;
                    scores(qs, qOff, k, kvHeadAt, visible, d, scale, scores);
                    if (bias != null) {
                        bias.addTo(head, query, scores, visible);
                    }
                    Softmax.softmax(scores, visible);
                    weightedSum(scores, v, kvHeadAt, visible, d, acc);
                    MemorySegment.copy(acc, 0, os, FLOAT, query * qRowBytes + head * headBytes, d);
                }
            }
        });
    }

    /**
     * scores[j] = q . k_j / scale for the first {@code visible} keys, head elements from {@code kvHeadAt} on:
     * matmul, then the division, as torch.
     */
    private static void scores(MemorySegment q, long qOff, PagedRows keys, long kvHeadAt, int visible, int d,
                               float scale, float[] scores) {
        long rowBytes = keys.rowBytes();
        long headOff = keys.dtype().bytesFor(kvHeadAt);
        for (int p = 0, first = 0; first < visible; p++, first += keys.pageRows()) {
            int end = Math.min(visible, first + keys.pageRows());
            MemorySegment page = keys.pages()[p];
            switch (keys.dtype()) {
                case F32 -> scoresF32(q, qOff, page, headOff, rowBytes, first, end, d, scale, scores);
                case Q8_0 -> scoresQ8(q, qOff, page, headOff, rowBytes, first, end, d, scale, scores);
                default -> scores16(keys.dtype(), q, qOff, page, headOff, rowBytes, first, end, d, scale, scores);
            }
        }
    }

    /** {@link #scores} over keys {@code first .. end} of one F32 page whose row 0 is key {@code first}. */
    private static void scoresF32(MemorySegment q, long qOff, MemorySegment page, long headOff, long rowBytes,
                                  int first, int end, int d, float scale, float[] scores) {
        int vectorEnd = F.loopBound(d);
        for (int j = first; j < end; j++) {
            long kOff = (j - first) * rowBytes + headOff;
            FloatVector sum = FloatVector.zero(F);
            int i = 0;
            for (; i < vectorEnd; i += F.length()) {
                long off = (long) i * Float.BYTES;
                sum = FloatVector.fromMemorySegment(F, q, qOff + off, LE)
                        .fma(FloatVector.fromMemorySegment(F, page, kOff + off, LE), sum);
            }
            float dot = VectorMath.sumLanes(sum);
            for (; i < d; i++) {
                long off = (long) i * Float.BYTES;
                dot += q.get(FLOAT, qOff + off) * page.get(FLOAT, kOff + off);
            }
            scores[j] = dot / scale;
        }
    }

    /** {@link #scoresF32} for BF16 or F16 keys, widened to float in registers. */
    private static void scores16(DType dtype, MemorySegment q, long qOff, MemorySegment page, long headOff,
                                 long rowBytes, int first, int end, int d, float scale, float[] scores) {
        int vectorEnd = F.loopBound(d);
        boolean bf16 = dtype == DType.BF16;
        for (int j = first; j < end; j++) {
            long kOff = (j - first) * rowBytes + headOff;
            FloatVector sum = FloatVector.zero(F);
            int i = 0;
            for (; i < vectorEnd; i += F.length()) {
                long off = (long) i * Short.BYTES;
                FloatVector key = bf16 ? VectorConvert.bf16(page, kOff + off) : VectorConvert.f16(page, kOff + off);
                sum = FloatVector.fromMemorySegment(F, q, qOff + (long) i * Float.BYTES, LE).fma(key, sum);
            }
            float dot = VectorMath.sumLanes(sum);
            for (; i < d; i++) {
                dot += q.get(FLOAT, qOff + (long) i * Float.BYTES)
                        * VectorConvert.scalar(dtype, page, kOff / Short.BYTES + i);
            }
            scores[j] = dot / scale;
        }
    }

    /**
     * {@link #scoresF32} for Q8_0 keys: per block, q times the quants (widened to float in registers) in one vector,
     * then one FMA with the block's scale into the row's sum. The inner loop is written out here, not in a helper,
     * so that C2 keeps every vector in registers (a vector passed to a method it does not inline is boxed).
     */
    private static void scoresQ8(MemorySegment q, long qOff, MemorySegment page, long headOff, long rowBytes,
                                 int first, int end, int d, float scale, float[] scores) {
        int blocks = d / QK;
        for (int j = first; j < end; j++) {
            long kOff = (j - first) * rowBytes + headOff;
            float dot;
            if (B != null) {
                FloatVector sum = FloatVector.zero(F);
                for (int b = 0; b < blocks; b++) {
                    long block = kOff + (long) b * Q8_BLOCK_BYTES;
                    long qBlock = qOff + (long) b * QK * Float.BYTES;
                    FloatVector s = FloatVector.zero(F);
                    for (int i = 0; i < QK; i += F.length()) {
                        s = ((FloatVector) ByteVector.fromMemorySegment(B, page, block + 2 + i, LE)
                                .convertShape(VectorOperators.B2F, F, 0))
                                .fma(FloatVector.fromMemorySegment(F, q, qBlock + (long) i * Float.BYTES, LE), s);
                    }
                    sum = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(page.get(HALF, block))), sum);
                }
                dot = VectorMath.sumLanes(sum);
            } else {
                dot = 0f;
                for (int b = 0; b < blocks; b++) {
                    long block = kOff + (long) b * Q8_BLOCK_BYTES;
                    float s = 0f;
                    for (int i = 0; i < QK; i++) {
                        s += q.get(FLOAT, qOff + (long) (b * QK + i) * Float.BYTES) * page.get(ValueLayout.JAVA_BYTE,
                                block + 2 + i);
                    }
                    dot += s * Float.float16ToFloat(page.get(HALF, block));
                }
            }
            scores[j] = dot / scale;
        }
    }

    /** acc = sum_j p_j v_j over the first {@code visible} values, head elements from {@code kvHeadAt} on. */
    private static void weightedSum(float[] p, PagedRows values, long kvHeadAt, int visible, int d, float[] acc) {
        Arrays.fill(acc, 0, d, 0f);
        long rowBytes = values.rowBytes();
        long headOff = values.dtype().bytesFor(kvHeadAt);
        for (int pg = 0, first = 0; first < visible; pg++, first += values.pageRows()) {
            int end = Math.min(visible, first + values.pageRows());
            MemorySegment page = values.pages()[pg];
            switch (values.dtype()) {
                case F32 -> weightedSumF32(p, page, headOff, rowBytes, first, end, d, acc);
                case Q8_0 -> weightedSumQ8(p, page, headOff, rowBytes, first, end, d, acc);
                default -> weightedSum16(values.dtype(), p, page, headOff, rowBytes, first, end, d, acc);
            }
        }
    }

    private static void weightedSumF32(float[] p, MemorySegment page, long headOff, long rowBytes, int first, int end,
                                       int d, float[] acc) {
        int vectorEnd = F.loopBound(d);
        for (int j = first; j < end; j++) {
            long vOff = (j - first) * rowBytes + headOff;
            FloatVector pv = FloatVector.broadcast(F, p[j]);
            int i = 0;
            for (; i < vectorEnd; i += F.length()) {
                FloatVector.fromMemorySegment(F, page, vOff + (long) i * Float.BYTES, LE)
                        .fma(pv, FloatVector.fromArray(F, acc, i)).intoArray(acc, i);
            }
            for (; i < d; i++) {
                acc[i] += p[j] * page.get(FLOAT, vOff + (long) i * Float.BYTES);
            }
        }
    }

    private static void weightedSum16(DType dtype, float[] p, MemorySegment page, long headOff, long rowBytes,
                                      int first, int end, int d, float[] acc) {
        int vectorEnd = F.loopBound(d);
        boolean bf16 = dtype == DType.BF16;
        for (int j = first; j < end; j++) {
            long vOff = (j - first) * rowBytes + headOff;
            FloatVector pv = FloatVector.broadcast(F, p[j]);
            int i = 0;
            for (; i < vectorEnd; i += F.length()) {
                long off = vOff + (long) i * Short.BYTES;
                FloatVector value = bf16 ? VectorConvert.bf16(page, off) : VectorConvert.f16(page, off);
                value.fma(pv, FloatVector.fromArray(F, acc, i)).intoArray(acc, i);
            }
            for (; i < d; i++) {
                acc[i] += p[j] * VectorConvert.scalar(dtype, page, vOff / Short.BYTES + i);
            }
        }
    }

    /** acc += p_j v_j for Q8_0 values: per block, the quants times p_j scaled by the block's scale. */
    private static void weightedSumQ8(float[] p, MemorySegment page, long headOff, long rowBytes, int first, int end,
                                      int d, float[] acc) {
        int blocks = d / QK;
        for (int j = first; j < end; j++) {
            long vOff = (j - first) * rowBytes + headOff;
            for (int b = 0; b < blocks; b++) {
                long block = vOff + (long) b * Q8_BLOCK_BYTES;
                float pScaled = p[j] * Float.float16ToFloat(page.get(HALF, block));
                int at = b * QK;
                if (B != null) {
                    FloatVector pv = FloatVector.broadcast(F, pScaled);
                    for (int i = 0; i < QK; i += F.length()) {
                        ((FloatVector) ByteVector.fromMemorySegment(B, page, block + 2 + i, LE)
                                .convertShape(VectorOperators.B2F, F, 0))
                                .fma(pv, FloatVector.fromArray(F, acc, at + i)).intoArray(acc, at + i);
                    }
                } else {
                    for (int i = 0; i < QK; i++) {
                        acc[at + i] += pScaled * page.get(ValueLayout.JAVA_BYTE, block + 2 + i);
                    }
                }
            }
        }
    }

    private static boolean overlaps(MemorySegment a, MemorySegment b) {
        return a.byteSize() > 0 && b.byteSize() > 0 && a.asOverlappingSlice(b).isPresent();
    }

    private static boolean overlapsAnyPage(MemorySegment a, PagedRows rows) {
        for (int p = 0; p < Math.ceilDiv(rows.rows(), rows.pageRows()); p++) {
            if (overlaps(a, rows.pages()[p])) {
                return true;
            }
        }
        return false;
    }
}
