package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.Tensor;

/**
 * Softmax over the last dimension of an F32 tensor, in place, as {@code torch.softmax(x, dim=-1)}: each row
 * becomes {@code exp(x - max) / sum(exp(x - max))}. Subtracting the row maximum keeps exp from overflowing;
 * -infinity entries (masked scores) become exactly 0. A row whose entries are all -infinity becomes NaN, as
 * in torch.
 *
 * <p>The length forms treat only a prefix of each row as scores and write 0 after it, which is what a
 * causal attention row needs without materialising the -infinity mask.
 */
public final class Softmax {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Elements per parallel chunk, counted in rows x row length. */
    private static final int MIN_CHUNK_ELEMENTS = 1 << 14;

    private Softmax() {
    }

    /** Softmax of every row (last dimension) of {@code x}, in place. */
    public static void softmax(Tensor x) {
        softmax(x, KernelChecks.lastDim(x));
    }

    /**
     * Softmax over the first {@code length} entries of every row of {@code x}, in place; entries from
     * {@code length} on are set to 0. {@code length} 0 leaves an all-zero row.
     */
    public static void softmax(Tensor x, int length) {
        KernelChecks.requireF32(x, "x");
        int n = KernelChecks.lastDim(x);
        if (length < 0 || length > n) {
            throw new IllegalArgumentException("length " + length + " outside [0, " + n + "] for " + x);
        }
        forRows(x, n, row -> length);
    }

    /**
     * Causal softmax of attention scores {@code [rows, keys]} in place: row {@code i} (query at absolute
     * position {@code firstPosition + i}, keys at positions 0..keys-1) keeps its first
     * {@code firstPosition + i + 1} entries, the rest become 0. A leading dimension (heads) may precede:
     * {@code [heads, rows, keys]} applies the same pattern to each head.
     */
    public static void softmaxCausal(Tensor scores, int firstPosition) {
        KernelChecks.requireF32(scores, "scores");
        if (scores.rank() < 2) {
            throw new IllegalArgumentException("causal softmax needs [rows, keys] scores, got " + scores);
        }
        int n = scores.size(-1);
        int rows = scores.size(-2);
        if (firstPosition < 0 || firstPosition + rows > n) {
            throw new IllegalArgumentException("queries at positions " + firstPosition + ".." + (firstPosition + rows - 1)
                    + " need at least " + (firstPosition + rows) + " keys, scores are " + scores);
        }
        forRows(scores, n, row -> firstPosition + row % rows + 1);
    }

    private interface RowLength {
        int of(int row);
    }

    private static void forRows(Tensor x, int n, RowLength length) {
        if (n == 0) {
            return;
        }
        int rows = Math.toIntExact(x.numel() / n);
        MemorySegment seg = x.segment();
        int minRows = Math.max(1, MIN_CHUNK_ELEMENTS / n);
        ComputePool.parallelFor(rows, minRows, (from, to) -> {
            float[] scratch = new float[VectorMath.roundUp(n)];
            for (int r = from; r < to; r++) {
                softmaxRow(seg, (long) r * n * Float.BYTES, n, length.of(r), scratch);
            }
        });
    }

    /**
     * Softmax of the {@code length} floats at byte {@code offset}, zeroing the next {@code n - length};
     * {@code scratch} holds at least {@code VectorMath.roundUp(length)} floats.
     */
    private static void softmaxRow(MemorySegment seg, long offset, int n, int length, float[] scratch) {
        FloatVector maxV = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < length; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, length);
            FloatVector v = FloatVector.fromMemorySegment(F, seg, offset + (long) i * Float.BYTES, LE, m);
            maxV = maxV.blend(maxV.max(v), m);
        }
        float max = maxV.reduceLanes(VectorOperators.MAX);
        for (int i = 0; i < length; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, length);
            FloatVector.fromMemorySegment(F, seg, offset + (long) i * Float.BYTES, LE, m).sub(max).intoArray(scratch, i);
        }
        VectorMath.expInPlace(scratch, length);
        FloatVector sumV = FloatVector.zero(F);
        for (int i = 0; i < length; i += F.length()) {
            sumV = sumV.add(FloatVector.fromArray(F, scratch, i), F.indexInRange(i, length));
        }
        float inv = 1f / sumV.reduceLanes(VectorOperators.ADD);
        for (int i = 0; i < length; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, length);
            FloatVector.fromArray(F, scratch, i).mul(inv).intoMemorySegment(seg, offset + (long) i * Float.BYTES, LE, m);
        }
        if (length < n) {
            seg.asSlice(offset + (long) length * Float.BYTES, (long) (n - length) * Float.BYTES).fill((byte) 0);
        }
    }
}
