package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The two factors of a decomposed relative position bias (MViTv2, used by ViTDet and SAM's image encoder) for
 * queries and keys on the same h x w grid:
 * {@code rowBias[head, (y, x), ky] = q_head[(y, x)] . relPosH[y - ky + h - 1]} and
 * {@code colBias[head, (y, x), kx] = q_head[(y, x)] . relPosW[x - kx + w - 1]}, with q the unscaled queries.
 * {@link Attention.ScoreBias#decomposed} adds them to the scores. The embedding tables have exactly
 * {@code 2 h - 1} and {@code 2 w - 1} rows (the reference would interpolate other lengths; its models never need it).
 */
public final class RelativePositionBias {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private RelativePositionBias() {
    }

    /** The two factors: F32 [heads, h*w, h] and [heads, h*w, w]. */
    public record Factors(Tensor rowBias, Tensor colBias) {
        /** The score bias {@link Attention} adds. */
        public Attention.ScoreBias scoreBias() {
            return Attention.ScoreBias.decomposed(rowBias, colBias);
        }
    }

    /**
     * @param q        [h * w, heads * headDim] F32 queries (rows row-major over the grid)
     * @param relPosH  [2h - 1, headDim] (any float dtype)
     * @param relPosW  [2w - 1, headDim]
     */
    public static Factors compute(Tensor q, int h, int w, int heads, Tensor relPosH, Tensor relPosW) {
        KernelChecks.requireF32(q, "q");
        KernelChecks.requireRank(q, 2, "q");
        KernelChecks.requireRank(relPosH, 2, "relPosH");
        KernelChecks.requireRank(relPosW, 2, "relPosW");
        if (heads <= 0 || q.dim(0) != (long) h * w || q.dim(1) % heads != 0) {
            throw new IllegalArgumentException("q " + q + " is not " + h + "x" + w + " rows of " + heads + " heads");
        }
        int d = Math.toIntExact(q.dim(1) / heads);
        if (relPosH.dim(0) != 2L * h - 1 || relPosW.dim(0) != 2L * w - 1 || relPosH.dim(1) != d || relPosW.dim(1) != d) {
            throw new IllegalArgumentException("relative position tables " + relPosH + " and " + relPosW + " do not fit a "
                    + h + "x" + w + " grid of head_dim " + d + " (expected [" + (2 * h - 1) + ", " + d + "] and ["
                    + (2 * w - 1) + ", " + d + "])");
        }
        float[] rh = relPosH.toFloatArray();
        float[] rw = relPosW.toFloatArray();
        int queries = h * w;
        Tensor rowBias = Tensor.zeros(DType.F32, heads, queries, h);
        Tensor colBias = Tensor.zeros(DType.F32, heads, queries, w);
        MemorySegment qs = q.segment(), rs = rowBias.segment(), cs = colBias.segment();
        long qRow = q.dim(1);
        ComputePool.parallelFor(heads * h, 1, (from, to) -> {
            float[] qv = new float[d];
            for (int item = from; item < to; item++) {
                int head = item / h, y = item % h;
                for (int x = 0; x < w; x++) {
                    int query = y * w + x;
                    MemorySegment.copy(qs, FLOAT, ((long) query * qRow + (long) head * d) * Float.BYTES, qv, 0, d);
                    long base = (long) head * queries + query;
                    for (int ky = 0; ky < h; ky++) {
                        rs.set(FLOAT, (base * h + ky) * Float.BYTES, dot(qv, rh, (y - ky + h - 1) * d, d));
                    }
                    for (int kx = 0; kx < w; kx++) {
                        cs.set(FLOAT, (base * w + kx) * Float.BYTES, dot(qv, rw, (x - kx + w - 1) * d, d));
                    }
                }
            }
        });
        return new Factors(rowBias, colBias);
    }

    private static float dot(float[] a, float[] b, int bOff, int d) {
        int end = F.loopBound(d);
        FloatVector sum = FloatVector.zero(F);
        int i = 0;
        for (; i < end; i += F.length()) {
            sum = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, b, bOff + i), sum);
        }
        float s = VectorMath.sumLanes(sum);
        for (; i < d; i++) {
            s += a[i] * b[bOff + i];
        }
        return s;
    }
}
