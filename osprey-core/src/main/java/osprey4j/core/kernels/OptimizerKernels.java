package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import osprey4j.core.concurrent.ComputePool;

/**
 * The element-wise loops of an optimiser step over F32 heap arrays: torch's AdamW update, the sum of squares
 * of a gradient (for the global norm) and in-place scaling (clipping). Split over the compute pool in chunks
 * of whole vectors; the vector work sits in small per-chunk methods.
 */
public final class OptimizerKernels {
    private static final int CHUNK = 1 << 14;

    private OptimizerKernels() {
    }

    /**
     * torch.optim.AdamW (1.13 single-tensor form) for n elements:
     * <pre>
     *   w *= keep                        (keep = 1 - lr * weight_decay; 1 for no decay)
     *   m  = m * beta1 + g * (1 - beta1)
     *   v  = v * beta2 + (1 - beta2) * g * g
     *   w -= stepSize * m / (sqrt(v) / bc2Sqrt + eps)     (stepSize = lr / (1 - beta1^t), bc2Sqrt = sqrt(1 - beta2^t))
     * </pre>
     */
    public static void adamW(float[] w, float[] g, float[] m, float[] v, int n, float keep, float beta1, float beta2,
                             float stepSize, float bc2Sqrt, float eps) {
        if (w.length < n || g.length < n || m.length < n || v.length < n) {
            throw new IllegalArgumentException("adamW: arrays shorter than " + n);
        }
        int chunks = (n + CHUNK - 1) / CHUNK;
        ComputePool.parallelFor(chunks, 4, (from, to) -> {
            for (int c = from; c < to; c++) {
                int start = c * CHUNK;
                adamWChunk(w, g, m, v, start, Math.min(n, start + CHUNK), keep, beta1, beta2, stepSize, bc2Sqrt, eps);
            }
        });
    }

    private static void adamWChunk(float[] w, float[] g, float[] m, float[] v, int from, int to, float keep, float beta1,
                                   float beta2, float stepSize, float bc2Sqrt, float eps) {
        float oneMinusB1 = 1f - beta1, oneMinusB2 = 1f - beta2;
        // Whole vectors unmasked (a masked access on every vector costs a mask test per lane where the CPU has no
        // mask registers), then the tail masked: the same arithmetic per element either way.
        int i = from;
        for (int end = from + F.loopBound(to - from); i < end; i += F.length()) {
            FloatVector gv = FloatVector.fromArray(F, g, i);
            FloatVector mv = FloatVector.fromArray(F, m, i).mul(beta1).add(gv.mul(oneMinusB1));
            FloatVector vv = FloatVector.fromArray(F, v, i).mul(beta2).add(gv.mul(oneMinusB2).mul(gv));
            FloatVector denom = vv.sqrt().div(bc2Sqrt).add(eps);
            FloatVector wv = FloatVector.fromArray(F, w, i).mul(keep);
            wv = wv.sub(mv.div(denom).mul(stepSize));
            mv.intoArray(m, i);
            vv.intoArray(v, i);
            wv.intoArray(w, i);
        }
        if (i < to) {
            VectorMask<Float> mask = F.indexInRange(i, to);
            FloatVector gv = FloatVector.fromArray(F, g, i, mask);
            FloatVector mv = FloatVector.fromArray(F, m, i, mask).mul(beta1).add(gv.mul(oneMinusB1));
            FloatVector vv = FloatVector.fromArray(F, v, i, mask).mul(beta2).add(gv.mul(oneMinusB2).mul(gv));
            FloatVector denom = vv.sqrt().div(bc2Sqrt).add(eps);
            FloatVector wv = FloatVector.fromArray(F, w, i, mask).mul(keep);
            wv = wv.sub(mv.div(denom).mul(stepSize));
            mv.intoArray(m, i, mask);
            vv.intoArray(v, i, mask);
            wv.intoArray(w, i, mask);
        }
    }

    /** The sum of squares of a[0..n), accumulated per chunk in F32 vectors and across chunks in double. */
    public static double sumOfSquares(float[] a, int n) {
        int chunks = (n + CHUNK - 1) / CHUNK;
        double[] parts = new double[chunks];
        ComputePool.parallelFor(chunks, 4, (from, to) -> {
            for (int c = from; c < to; c++) {
                int start = c * CHUNK;
                parts[c] = squares(a, start, Math.min(n, start + CHUNK));
            }
        });
        double s = 0;
        for (double p : parts) {
            s += p;
        }
        return s;
    }

    private static double squares(float[] a, int from, int to) {
        FloatVector acc = FloatVector.zero(F);
        int i = from;
        for (int end = from + F.loopBound(to - from); i < end; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            acc = x.fma(x, acc);
        }
        if (i < to) {
            FloatVector x = FloatVector.fromArray(F, a, i, F.indexInRange(i, to));
            acc = x.fma(x, acc);
        }
        return VectorMath.sumLanes(acc);
    }

    /** a[0..n) *= factor. */
    public static void scale(float[] a, int n, float factor) {
        int chunks = (n + CHUNK - 1) / CHUNK;
        ComputePool.parallelFor(chunks, 4, (from, to) -> {
            for (int c = from; c < to; c++) {
                int start = c * CHUNK;
                scaleChunk(a, start, Math.min(n, start + CHUNK), factor);
            }
        });
    }

    private static void scaleChunk(float[] a, int from, int to, float factor) {
        int i = from;
        for (int end = from + F.loopBound(to - from); i < end; i += F.length()) {
            FloatVector.fromArray(F, a, i).mul(factor).intoArray(a, i);
        }
        if (i < to) {
            VectorMask<Float> mask = F.indexInRange(i, to);
            FloatVector.fromArray(F, a, i, mask).mul(factor).intoArray(a, i, mask);
        }
    }
}
