package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.Tensor;

/**
 * Rotary position embeddings in the Hugging Face LLaMA convention ({@code LlamaRotaryEmbedding} and
 * {@code apply_rotary_pos_emb} with {@code rotate_half}): the head dimension d is split into two halves, not
 * interleaved pairs, and element i of the first half rotates with element i of the second half:
 *
 * <pre>
 *   inv_freq[i] = 1 / theta^(2i / d)              i = 0 .. d/2-1   (float, as torch)
 *   angle[p][i] = float(p) * inv_freq[i]                           (float product, as torch)
 *   out[i]       = x[i] * cos - x[i + d/2] * sin
 *   out[i + d/2] = x[i + d/2] * cos + x[i] * sin
 * </pre>
 *
 * The cos and sin tables are computed once for positions 0 .. maxPositions-1, from the float angle
 * evaluated in double and rounded to float (torch evaluates them in float to within an ulp).
 */
public final class RotaryEmbedding {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final int headDim;
    private final int half;
    private final int maxPositions;
    private final double theta;
    /** [maxPositions][headDim / 2], row-major. */
    private final float[] cos;
    private final float[] sin;

    /**
     * @param headDim      d, even
     * @param theta        the base (rope_theta; 10000 for LLaMA and Vicuna)
     * @param maxPositions positions the tables cover (max_position_embeddings)
     */
    public RotaryEmbedding(int headDim, double theta, int maxPositions) {
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("rotary head dimension must be even and positive, got " + headDim);
        }
        if (maxPositions < 0) {
            throw new IllegalArgumentException("negative maxPositions " + maxPositions);
        }
        if (!(theta > 0)) {
            throw new IllegalArgumentException("rotary theta must be positive, got " + theta);
        }
        this.headDim = headDim;
        this.half = headDim / 2;
        this.maxPositions = maxPositions;
        this.theta = theta;
        float[] invFreq = inverseFrequencies(headDim, theta);
        this.cos = new float[maxPositions * half];
        this.sin = new float[maxPositions * half];
        for (int p = 0; p < maxPositions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /**
     * {@code 1 / theta^(arange(0, d, 2) / d)} as torch computes it in float32: the exponent is a float
     * quotient, the power is rounded to float, then the reciprocal is a float division.
     */
    public static float[] inverseFrequencies(int headDim, double theta) {
        float[] inv = new float[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            inv[i] = 1f / (float) Math.pow((float) theta, exponent);
        }
        return inv;
    }

    public int headDim() {
        return headDim;
    }

    public int maxPositions() {
        return maxPositions;
    }

    public double theta() {
        return theta;
    }

    /** cos of position p's angles for the first half (the second half repeats them). */
    public float cos(int position, int i) {
        return cos[position * half + i];
    }

    public float sin(int position, int i) {
        return sin[position * half + i];
    }

    /**
     * Rotates {@code x} [seq, heads, headDim] (queries or keys) in place; row s is at absolute position
     * {@code firstPosition + s}.
     */
    public void apply(Tensor x, int firstPosition) {
        int seq = checkLayout(x);
        int[] positions = new int[seq];
        for (int s = 0; s < seq; s++) {
            positions[s] = firstPosition + s;
        }
        apply(x, positions);
    }

    /** Rotates {@code x} [seq, heads, headDim] in place; row s is at absolute position {@code positions[s]}. */
    public void apply(Tensor x, int[] positions) {
        int seq = checkLayout(x);
        if (positions.length != seq) {
            throw new IllegalArgumentException(positions.length + " positions for " + seq + " rows of " + x);
        }
        for (int p : positions) {
            if (p < 0 || p >= maxPositions) {
                throw new IllegalArgumentException("position " + p + " outside the rotary table [0, " + maxPositions + ")");
            }
        }
        int heads = x.size(1);
        MemorySegment seg = x.segment();
        long halfBytes = (long) half * Float.BYTES;
        ComputePool.parallelFor(seq * heads, Math.max(1, 4096 / headDim), (from, to) -> {
            for (int row = from; row < to; row++) {
                int tableBase = positions[row / heads] * half;
                long lo = (long) row * headDim * Float.BYTES;
                long hi = lo + halfBytes;
                for (int i = 0; i < half; i += F.length()) {
                    VectorMask<Float> m = F.indexInRange(i, half);
                    long off = (long) i * Float.BYTES;
                    FloatVector a = FloatVector.fromMemorySegment(F, seg, lo + off, LE, m);
                    FloatVector b = FloatVector.fromMemorySegment(F, seg, hi + off, LE, m);
                    FloatVector c = FloatVector.fromArray(F, cos, tableBase + i, m);
                    FloatVector s = FloatVector.fromArray(F, sin, tableBase + i, m);
                    // torch: q * cos + rotate_half(q) * sin, i.e. a*c + (-b)*s and b*c + a*s
                    a.mul(c).sub(b.mul(s)).intoMemorySegment(seg, lo + off, LE, m);
                    b.mul(c).add(a.mul(s)).intoMemorySegment(seg, hi + off, LE, m);
                }
            }
        });
    }

    private int checkLayout(Tensor x) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireRank(x, 3, "rotary input [seq, heads, headDim]");
        if (x.size(2) != headDim) {
            throw new IllegalArgumentException("rotary embedding for head dimension " + headDim + " applied to " + x);
        }
        return x.size(0);
    }
}
