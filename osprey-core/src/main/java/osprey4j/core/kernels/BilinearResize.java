package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Bilinear resizing of [C, H, W] float maps exactly as
 * {@code torch.nn.functional.interpolate(x[None], size=(h, w), mode='bilinear', align_corners=False)} on the CPU
 * in torch 1.13 (no antialiasing, so shrinking samples 2 x 2 source pixels per output pixel and can alias).
 *
 * <p>Per axis, with the float ratio {@code scale = (float) in / out} (what torch uses when the size, not a scale
 * factor, is given), output index i reads the source coordinate {@code src = max(0, scale * (i + 0.5) - 0.5)}
 * evaluated in double (torch's CPU accumulation type for float); its integer part i0 and
 * {@code i1 = min(i0 + 1, in - 1)} are the two taps, weighted {@code w1 = (float) (src - i0)} and
 * {@code w0 = 1 - w1} (in float). An axis whose size does not change is copied. The value is
 * {@code (src[y0][x0]*wx0 + src[y0][x1]*wx1) * wy0 + (src[y1][x0]*wx0 + src[y1][x1]*wx1) * wy1}, in float, in
 * that order (torch's per-axis nesting). Taps and weights are identical to torch's; the values differ from
 * torch 1.13 by at most 2 ulp (about half the outputs differ by one), because torch's compiled kernel
 * groups or fuses these multiply-adds differently (checked against fixtures; no simple order reproduces it).
 */
public final class BilinearResize {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private BilinearResize() {
    }

    /** The taps and weights of one axis. */
    record Taps(int[] i0, int[] i1, float[] w0, float[] w1) {
        static Taps of(int in, int out) {
            int[] i0 = new int[out], i1 = new int[out];
            float[] w0 = new float[out], w1 = new float[out];
            float scale = (float) in / out;
            for (int i = 0; i < out; i++) {
                if (in == out) {
                    i0[i] = i;
                    i1[i] = i;
                    w0[i] = 1f;
                    w1[i] = 0f;
                    continue;
                }
                // torch: a float ratio, the source coordinate in double (acc_type<float> on the CPU)
                double src = Math.max(0.0, (double) scale * (i + 0.5) - 0.5);
                int idx = (int) src;
                i0[i] = idx;
                i1[i] = idx < in - 1 ? idx + 1 : idx;
                w1[i] = (float) (src - idx);
                w0[i] = 1f - w1[i];
            }
            return new Taps(i0, i1, w0, w1);
        }
    }

    /**
     * Resizes {@code x} [C, H, W] (F32) to [C, outH, outW].
     *
     * @throws IllegalArgumentException for an empty input with a non-empty output, or a negative size
     */
    public static Tensor resize(Tensor x, int outH, int outW) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireRank(x, 3, "x");
        int c = x.size(0), h = x.size(1), w = x.size(2);
        if (outH < 0 || outW < 0) {
            throw new IllegalArgumentException("negative output size " + outH + "x" + outW);
        }
        Tensor out = Tensor.zeros(DType.F32, c, outH, outW);
        if (c == 0 || outH == 0 || outW == 0) {
            return out;
        }
        if (h == 0 || w == 0) {
            throw new IllegalArgumentException("cannot resize an empty " + h + "x" + w + " map to " + outH + "x" + outW);
        }
        Taps ty = Taps.of(h, outH);
        Taps tx = Taps.of(w, outW);
        MemorySegment in = x.segment();
        MemorySegment o = out.segment();
        // Horizontal pass first, once per source row that some output row reads: rows[c][y] = interpolated row.
        boolean[] used = new boolean[h];
        for (int i = 0; i < outH; i++) {
            used[ty.i0[i]] = true;
            used[ty.i1[i]] = true;
        }
        float[] rows = new float[c * h * outW];
        ComputePool.parallelFor(c * h, Math.max(1, 4096 / Math.max(1, outW)), (from, to) -> {
            for (int cy = from; cy < to; cy++) {
                if (!used[cy % h]) {
                    continue;
                }
                long src = (long) cy * w;
                int dst = cy * outW;
                for (int j = 0; j < outW; j++) {
                    float a = in.getAtIndex(FLOAT, src + tx.i0[j]);
                    float b = in.getAtIndex(FLOAT, src + tx.i1[j]);
                    rows[dst + j] = a * tx.w0[j] + b * tx.w1[j];
                }
            }
        });
        // Vertical pass: a weighted sum of two interpolated rows, vectorised along the row.
        ComputePool.parallelFor(c * outH, Math.max(1, 4096 / outW), (from, to) -> {
            for (int cy = from; cy < to; cy++) {
                int ch = cy / outH, i = cy % outH;
                int r0 = (ch * h + ty.i0[i]) * outW;
                int r1 = (ch * h + ty.i1[i]) * outW;
                float wy0 = ty.w0[i], wy1 = ty.w1[i];
                long dst = (long) cy * outW * Float.BYTES;
                for (int j = 0; j < outW; j += F.length()) {
                    VectorMask<Float> m = F.indexInRange(j, outW);
                    FloatVector t0 = FloatVector.fromArray(F, rows, r0 + j, m);
                    FloatVector t1 = FloatVector.fromArray(F, rows, r1 + j, m);
                    t0.mul(wy0).add(t1.mul(wy1)).intoMemorySegment(o, dst + (long) j * Float.BYTES, LE, m);
                }
            }
        });
        return out;
    }
}
