package osprey4j.core.kernels;

import java.util.Arrays;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/** Argument checks and small conversions shared by the kernels. */
final class KernelChecks {
    private KernelChecks() {
    }

    static void requireF32(Tensor t, String name) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(name + " must be F32, got " + t);
        }
    }

    static void requireRank(Tensor t, int rank, String name) {
        if (t.rank() != rank) {
            throw new IllegalArgumentException(name + " must have rank " + rank + ", got " + t);
        }
    }

    static void requireShape(Tensor t, String name, long... shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(name + " must have shape " + Arrays.toString(shape) + ", got " + t);
        }
    }

    static void requireSameShape(Tensor a, Tensor b, String nameA, String nameB) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(nameB + " " + b + " must have the shape of " + nameA + " " + a);
        }
    }

    /** Size of the last dimension, or 1 for a scalar. */
    static int lastDim(Tensor t) {
        return t.rank() == 0 ? 1 : t.size(-1);
    }

    /**
     * The values of a weight tensor (F32, BF16, F16 or F64) as floats. A copy: weights the kernels read this way
     * are small (norm scales, biases, depthwise filters) or are repacked anyway (convolution filters).
     */
    static float[] weightFloats(Tensor w, String name) {
        if (!w.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(name + " must be a floating-point tensor, got " + w);
        }
        return w.toFloatArray();
    }
}
