package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.Tensor;

/**
 * Softmax in float32, as {@code torch.softmax(x, dim=-1)}: each row becomes {@code exp(x - max) / sum(exp(x - max))}.
 * Subtracting the row maximum keeps exp from overflowing; -infinity entries (masked scores) become exactly 0. A
 * row whose entries are all -infinity becomes NaN, as in torch. {@link Attention} runs its score rows through
 * {@link #softmax(float[], int)}.
 */
public final class Softmax {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Elements per parallel chunk, counted in rows x row length. */
    private static final int MIN_CHUNK_ELEMENTS = 1 << 14;

    private Softmax() {
    }

    /** Softmax of every row (last dimension) of the F32 tensor {@code x}, in place. */
    public static void softmax(Tensor x) {
        KernelChecks.requireF32(x, "x");
        int n = KernelChecks.lastDim(x);
        forRows(x, n, row -> n);
    }

    /**
     * Causal softmax of attention scores {@code [rows, keys]} in place: row {@code i} (query at absolute
     * position {@code firstPosition + i}, keys at positions 0..keys-1) keeps its first
     * {@code firstPosition + i + 1} entries, the rest become 0. A leading dimension (heads) may precede:
     * {@code [heads, rows, keys]} applies the same pattern to each head. The training step's attention
     * (which keeps the whole probability matrix for its backward) uses it; inference goes through {@link Attention}.
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

    /** Softmax of the first {@code length.of(r)} entries of each row r, the rest of the row set to 0. */
    private static void forRows(Tensor x, int n, RowLength length) {
        if (n == 0) {
            return;
        }
        int rows = Math.toIntExact(x.numel() / n);
        MemorySegment seg = x.segment();
        int minRows = Math.max(1, MIN_CHUNK_ELEMENTS / n);
        ComputePool.parallelFor(rows, minRows, (from, to) -> {
            float[] row = new float[VectorMath.roundUp(n)];
            for (int r = from; r < to; r++) {
                long offset = (long) r * n * Float.BYTES;
                int len = length.of(r);
                MemorySegment.copy(seg, FLOAT, offset, row, 0, len);
                softmax(row, len);
                Arrays.fill(row, len, n, 0f);
                MemorySegment.copy(row, 0, seg, FLOAT, offset, n);
            }
        });
    }

    /**
     * Scaled softmax in groups along each row, in place: every row of {@code x} [rows, G x group] is G runs of
     * {@code group} scores, and each run becomes {@code softmax(run / scale)} (attention of many queries over a few
     * keys, every head's scores side by side in one row), in the steps of {@link #softmax(float[], int)}: the
     * division, {@code exp(x - max)}, times the reciprocal of the sum (here summed in order).
     */
    public static void softmaxGroups(Tensor x, int group, float scale) {
        KernelChecks.requireF32(x, "x");
        int n = KernelChecks.lastDim(x);
        if (group <= 0 || n % group != 0) {
            throw new IllegalArgumentException("rows of " + n + " are not whole groups of " + group);
        }
        if (n == 0) {
            return;
        }
        int rows = Math.toIntExact(x.numel() / n);
        int groups = n / group;
        MemorySegment seg = x.segment();
        ComputePool.parallelFor(rows, Math.max(1, MIN_CHUNK_ELEMENTS / n), (from, to) -> {
            float[] row = new float[VectorMath.roundUp(n)];
            for (int r = from; r < to; r++) {
                long offset = (long) r * n * Float.BYTES;
                MemorySegment.copy(seg, FLOAT, offset, row, 0, n);
                for (int g = 0; g < groups; g++) {
                    int start = g * group;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int i = start; i < start + group; i++) {
                        row[i] /= scale;
                        max = Math.max(max, row[i]);
                    }
                    for (int i = start; i < start + group; i++) {
                        row[i] -= max;
                    }
                }
                VectorMath.expInPlace(row, n);
                for (int g = 0; g < groups; g++) {
                    int start = g * group;
                    float sum = 0f;
                    for (int i = start; i < start + group; i++) {
                        sum += row[i];
                    }
                    float inv = 1f / sum;
                    for (int i = start; i < start + group; i++) {
                        row[i] *= inv;
                    }
                }
                MemorySegment.copy(row, 0, seg, FLOAT, offset, n);
            }
        });
    }

    /**
     * Softmax of {@code scores[0 .. length)} in place; {@code scores} has room for whole vectors,
     * {@code scores.length >= roundUp(length)} (what is past {@code length} is overwritten).
     */
    public static void softmax(float[] scores, int length) {
        if (scores.length < VectorMath.roundUp(length)) {
            throw new IllegalArgumentException("a softmax over " + length + " scores needs a buffer of "
                    + VectorMath.roundUp(length) + " floats, got " + scores.length);
        }
        FloatVector maxV = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < length; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, length);
            maxV = maxV.blend(maxV.max(FloatVector.fromArray(F, scores, i, m)), m);
        }
        float max = maxV.reduceLanes(VectorOperators.MAX);
        for (int i = 0; i < length; i += F.length()) {
            FloatVector.fromArray(F, scores, i).sub(max).intoArray(scores, i);
        }
        VectorMath.expInPlace(scores, length);
        FloatVector sumV = FloatVector.zero(F);
        for (int i = 0; i < length; i += F.length()) {
            sumV = sumV.add(FloatVector.fromArray(F, scores, i), F.indexInRange(i, length));
        }
        float inv = 1f / VectorMath.sumLanes(sumV);
        for (int i = 0; i < length; i += F.length()) {
            FloatVector.fromArray(F, scores, i).mul(inv).intoArray(scores, i);
        }
    }
}
