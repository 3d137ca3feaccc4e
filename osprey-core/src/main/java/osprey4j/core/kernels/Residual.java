package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.Tensor;

/** Residual connections on F32 activations. */
public final class Residual {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows per parallel chunk are at least this many elements. */
    private static final int MIN_CHUNK_ELEMENTS = 1 << 15;

    private Residual() {
    }

    /**
     * Layer-scaled residual: {@code x[r, c] = y[r, c] * scale[c] + x[r, c]} over rows of the last dimension, i.e.
     * torch's {@code shortcut + y.mul(gamma)} (ConvNeXt's layer scale). The product and the sum are rounded to
     * float one after the other, as torch does (no fused multiply-add).
     *
     * @param y     [..., C] the branch output
     * @param scale C factors
     * @param x     y's shape, the residual stream, updated in place
     */
    public static void addScaled(Tensor y, float[] scale, Tensor x) {
        KernelChecks.requireF32(y, "y");
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireSameShape(y, x, "y", "x");
        int c = KernelChecks.lastDim(y);
        if (scale.length != c) {
            throw new IllegalArgumentException(scale.length + " scale factors for rows of " + c);
        }
        if (c == 0) {
            return;
        }
        int rows = Math.toIntExact(y.numel() / c);
        MemorySegment ys = y.segment();
        MemorySegment xs = x.segment();
        ComputePool.parallelFor(rows, Math.max(1, MIN_CHUNK_ELEMENTS / c), (from, to) -> {
            for (int r = from; r < to; r++) {
                addScaledRow(ys, xs, (long) r * c * Float.BYTES, c, scale);
            }
        });
    }

    /** One row; a method of its own so the JIT compiles it after a few rows, not after a long interpreted loop. */
    private static void addScaledRow(MemorySegment ys, MemorySegment xs, long base, int c, float[] scale) {
        for (int i = 0; i < c; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, c);
            long off = base + (long) i * Float.BYTES;
            FloatVector scaled = FloatVector.fromMemorySegment(F, ys, off, LE, m).mul(FloatVector.fromArray(F, scale, i, m));
            scaled.add(FloatVector.fromMemorySegment(F, xs, off, LE, m)).intoMemorySegment(xs, off, LE, m);
        }
    }
}
