package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import osprey4j.core.concurrent.ComputePool;

/**
 * Backward of a row softmax p = softmax(s): ds = p * (dp - sum(p * dp)), per row, here for causal attention
 * rows [rows, n] where row i holds {@code firstPosition + i + 1} probabilities and zeros after them (the
 * layout {@link Softmax#softmaxCausal} writes). The result is multiplied by {@code scale} (the attention's
 * 1/sqrt(d), which scaled the scores before the softmax) and written over dp; entries past a row's length
 * become 0.
 */
public final class SoftmaxGrad {
    private static final int MIN_CHUNK_ELEMENTS = 1 << 15;

    private SoftmaxGrad() {
    }

    public static void backwardCausal(float[] p, float[] dp, int rows, int n, int firstPosition, float scale) {
        if (rows < 0 || n < 0 || p.length < (long) rows * n || dp.length < (long) rows * n) {
            throw new IllegalArgumentException("softmax backward: arrays too small for [" + rows + ", " + n + "]");
        }
        if (firstPosition < 0 || firstPosition + rows > n) {
            throw new IllegalArgumentException("queries at " + firstPosition + ".." + (firstPosition + rows - 1)
                    + " need at least " + (firstPosition + rows) + " keys, rows have " + n);
        }
        ComputePool.parallelFor(rows, Math.max(1, MIN_CHUNK_ELEMENTS / Math.max(1, n)), (from, to) -> {
            for (int r = from; r < to; r++) {
                row(p, dp, r * n, firstPosition + r + 1, n, scale);
            }
        });
    }

    private static void row(float[] p, float[] dp, int o, int length, int n, float scale) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i + F.length() <= length; i += F.length()) {
            acc = FloatVector.fromArray(F, p, o + i).fma(FloatVector.fromArray(F, dp, o + i), acc);
        }
        if (i < length) {
            VectorMask<Float> m = F.indexInRange(i, length);
            acc = FloatVector.fromArray(F, p, o + i, m).fma(FloatVector.fromArray(F, dp, o + i, m), acc);
        }
        float dot = VectorMath.sumLanes(acc);
        for (i = 0; i < length; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, length);
            FloatVector pv = FloatVector.fromArray(F, p, o + i, m);
            pv.mul(FloatVector.fromArray(F, dp, o + i, m).sub(dot)).mul(scale).intoArray(dp, o + i, m);
        }
        java.util.Arrays.fill(dp, o + length, o + n, 0f);
    }
}
