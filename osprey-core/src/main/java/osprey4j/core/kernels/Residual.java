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

    /** Elements per block of {@link #add}: one small method call each, so the JIT compiles it early. */
    private static final int ADD_BLOCK = 4096;

    /**
     * {@code x += y} elementwise: a residual connection ({@code hidden = hidden + branch}), or any running sum of
     * same-shaped F32 tensors.
     *
     * @param y the branch output
     * @param x y's shape, updated in place
     */
    public static void add(Tensor y, Tensor x) {
        KernelChecks.requireF32(y, "y");
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireSameShape(y, x, "y", "x");
        long n = x.numel();
        int blocks = Math.toIntExact((n + ADD_BLOCK - 1) / ADD_BLOCK);
        MemorySegment ys = y.segment();
        MemorySegment xs = x.segment();
        ComputePool.parallelFor(blocks, Math.max(1, MIN_CHUNK_ELEMENTS / ADD_BLOCK), (from, to) -> {
            for (int b = from; b < to; b++) {
                long start = (long) b * ADD_BLOCK;
                addBlock(ys, xs, start, (int) Math.min(ADD_BLOCK, n - start));
            }
        });
    }

    /** {@code count} elements from {@code start}: whole vectors unmasked, one masked tail. */
    private static void addBlock(MemorySegment ys, MemorySegment xs, long start, int count) {
        int full = F.loopBound(count);
        int i = 0;
        for (; i < full; i += F.length()) {
            long off = (start + i) * Float.BYTES;
            FloatVector.fromMemorySegment(F, xs, off, LE).add(FloatVector.fromMemorySegment(F, ys, off, LE))
                    .intoMemorySegment(xs, off, LE);
        }
        if (i < count) {
            VectorMask<Float> m = F.indexInRange(i, count);
            long off = (start + i) * Float.BYTES;
            FloatVector.fromMemorySegment(F, xs, off, LE, m).add(FloatVector.fromMemorySegment(F, ys, off, LE, m))
                    .intoMemorySegment(xs, off, LE, m);
        }
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
