package osprey4j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;

/**
 * out[M,N] = x[M,K] · W[N,K]^T + bias for a few rows (2 to {@link NativeBlas#MIN_ROWS} - 1) and a W stored in a
 * type other than F32 (BF16, F16, Q8_0, Q4_0): the prefill of the few positions after a cached prefix (the next
 * region of an image, a short chat turn). The blocked {@link Gemm} packs W into k-major panels, a transpose that
 * costs more than the product when only a few rows share it. Here each W row is converted to floats once, into a
 * buffer that stays in L1, and dotted with every x row (the dot form of {@link MatVec}, four x rows and two W rows
 * per pass): W is read once and converted once for all M rows.
 *
 * <p>Each output is a dot product summed lane-wise, then across the lanes in lane order: an order other than the
 * blocked kernel's, so it is the same product up to F32 summation order. {@link Gemm} sends products here only
 * above {@link NativeBlas#MIN_FLOPS}, as it does to OpenBLAS, so small products keep a result that does not depend
 * on how many rows are multiplied together.
 */
public final class FewRows {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** W rows per work item taken from the shared counter. */
    private static final int ROWS_PER_ITEM = 16;

    private FewRows() {
    }

    /** True when {@link Gemm} sends a product of this shape and weight type here. */
    public static boolean handles(int m, int n, int k, DType wType) {
        return m >= 2 && m < NativeBlas.MIN_ROWS && wType != DType.F32 && wType.isLinearWeightType()
                && 2.0 * m * n * k >= NativeBlas.MIN_FLOPS;
    }

    /** x is M x K F32, w is N x K of {@code wType}, out is M x N F32 (row-major); bias is null or N floats. */
    static void compute(MemorySegment x, int m, int k, DType wType, MemorySegment w, int n, float[] bias,
            MemorySegment out) {
        float[] xs = new float[m * k];
        MemorySegment.copy(x, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, xs, 0, m * k);
        int items = (n + ROWS_PER_ITEM - 1) / ROWS_PER_ITEM;
        AtomicInteger next = new AtomicInteger();
        ComputePool.RangeTask task = (from, to) -> {
            float[] w2 = new float[2 * k];
            float[] dots = new float[8];
            for (int item = next.getAndIncrement(); item < items; item = next.getAndIncrement()) {
                int end = Math.min(n, (item + 1) * ROWS_PER_ITEM);
                for (int j = item * ROWS_PER_ITEM; j < end; j += 2) {
                    // an odd last row is converted into both halves and written once
                    int j1 = Math.min(j + 1, n - 1);
                    VectorConvert.toFloats(wType, w, (long) j * k, w2, 0, k);
                    VectorConvert.toFloats(wType, w, (long) j1 * k, w2, k, k);
                    int i = 0;
                    for (; i + 4 <= m; i += 4) {
                        fourByTwo(xs, i * k, k, w2, dots);
                        for (int r = 0; r < 4; r++) {
                            store(out, n, i + r, j, j1, dots[2 * r], dots[2 * r + 1], bias);
                        }
                    }
                    for (; i < m; i++) {
                        oneByTwo(xs, i * k, k, w2, dots);
                        store(out, n, i, j, j1, dots[0], dots[1], bias);
                    }
                }
            }
        };
        if (NativeBlas.sharable(out) && NativeBlas.sharable(w)) {
            ComputePool.parallelFor(ComputePool.threads(), 1, task);
        } else {
            task.run(0, 1);   // operands confined to the calling thread
        }
    }

    private static void store(MemorySegment out, int n, int row, int j, int j1, float d0, float d1, float[] bias) {
        long at = (long) row * n;
        out.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at + j, bias == null ? d0 : d0 + bias[j]);
        if (j1 != j) {
            out.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at + j1, bias == null ? d1 : d1 + bias[j1]);
        }
    }

    /** dots[2r + c] = x row r (of four, from xOff) · W row c (of the two in w2). */
    private static void fourByTwo(float[] xs, int xOff, int k, float[] w2, float[] dots) {
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F), a20 = FloatVector.zero(F), a21 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        int x1 = xOff + k, x2 = x1 + k, x3 = x2 + k;
        int kk = 0;
        for (int bound = F.loopBound(k); kk < bound; kk += L) {
            FloatVector w0 = FloatVector.fromArray(F, w2, kk);
            FloatVector w1 = FloatVector.fromArray(F, w2, k + kk);
            FloatVector v = FloatVector.fromArray(F, xs, xOff + kk);
            a00 = v.fma(w0, a00);
            a01 = v.fma(w1, a01);
            v = FloatVector.fromArray(F, xs, x1 + kk);
            a10 = v.fma(w0, a10);
            a11 = v.fma(w1, a11);
            v = FloatVector.fromArray(F, xs, x2 + kk);
            a20 = v.fma(w0, a20);
            a21 = v.fma(w1, a21);
            v = FloatVector.fromArray(F, xs, x3 + kk);
            a30 = v.fma(w0, a30);
            a31 = v.fma(w1, a31);
        }
        dots[0] = VectorMath.sumLanes(a00);
        dots[1] = VectorMath.sumLanes(a01);
        dots[2] = VectorMath.sumLanes(a10);
        dots[3] = VectorMath.sumLanes(a11);
        dots[4] = VectorMath.sumLanes(a20);
        dots[5] = VectorMath.sumLanes(a21);
        dots[6] = VectorMath.sumLanes(a30);
        dots[7] = VectorMath.sumLanes(a31);
        for (; kk < k; kk++) {
            float w0 = w2[kk], w1 = w2[k + kk];
            dots[0] += xs[xOff + kk] * w0;
            dots[1] += xs[xOff + kk] * w1;
            dots[2] += xs[x1 + kk] * w0;
            dots[3] += xs[x1 + kk] * w1;
            dots[4] += xs[x2 + kk] * w0;
            dots[5] += xs[x2 + kk] * w1;
            dots[6] += xs[x3 + kk] * w0;
            dots[7] += xs[x3 + kk] * w1;
        }
    }

    /** dots[c] = x row (from xOff) · W row c (of the two in w2). */
    private static void oneByTwo(float[] xs, int xOff, int k, float[] w2, float[] dots) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int kk = 0;
        for (int bound = F.loopBound(k); kk < bound; kk += L) {
            FloatVector v = FloatVector.fromArray(F, xs, xOff + kk);
            a0 = v.fma(FloatVector.fromArray(F, w2, kk), a0);
            a1 = v.fma(FloatVector.fromArray(F, w2, k + kk), a1);
        }
        dots[0] = VectorMath.sumLanes(a0);
        dots[1] = VectorMath.sumLanes(a1);
        for (; kk < k; kk++) {
            dots[0] += xs[xOff + kk] * w2[kk];
            dots[1] += xs[xOff + kk] * w2[k + kk];
        }
    }
}
