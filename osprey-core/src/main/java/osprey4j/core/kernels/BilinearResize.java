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
                // whole vectors unmasked, then a masked tail (masked loads in a loop are slow on AVX2)
                int full = F.loopBound(outW);
                int j = 0;
                for (; j < full; j += F.length()) {
                    FloatVector t0 = FloatVector.fromArray(F, rows, r0 + j);
                    FloatVector t1 = FloatVector.fromArray(F, rows, r1 + j);
                    t0.mul(wy0).add(t1.mul(wy1)).intoMemorySegment(o, dst + (long) j * Float.BYTES, LE);
                }
                if (j < outW) {
                    VectorMask<Float> m = F.indexInRange(j, outW);
                    FloatVector t0 = FloatVector.fromArray(F, rows, r0 + j, m);
                    FloatVector t1 = FloatVector.fromArray(F, rows, r1 + j, m);
                    t0.mul(wy0).add(t1.mul(wy1)).intoMemorySegment(o, dst + (long) j * Float.BYTES, LE, m);
                }
            }
        });
        return out;
    }

    /**
     * {@code resize(x, midH, midW)}, cropped to its top-left {@code cropH x cropW}, then resized to
     * {@code outH x outW} (SAM's post-processing: low-resolution logits to the padded input size, the padding cut
     * off, then to the original image size), computing the intermediate map only where the second resize reads it
     * and never storing it whole. Every value is the same float arithmetic in the same order as the three steps
     * run one after the other, so the result is bitwise that of {@link #resize} - crop - {@link #resize}.
     *
     * @param x [C, H, W] F32
     * @return [C, outH, outW]
     * @throws IllegalArgumentException for a crop larger than the intermediate size, or a size that is not positive
     */
    public static Tensor resizeCropResize(Tensor x, int midH, int midW, int cropH, int cropW, int outH, int outW) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireRank(x, 3, "x");
        int c = x.size(0), h = x.size(1), w = x.size(2);
        if (h <= 0 || w <= 0 || midH <= 0 || midW <= 0 || cropH <= 0 || cropW <= 0 || outH <= 0 || outW <= 0) {
            throw new IllegalArgumentException("resize " + h + "x" + w + " to " + midH + "x" + midW + ", crop "
                    + cropH + "x" + cropW + ", resize to " + outH + "x" + outW + ": every size must be positive");
        }
        if (cropH > midH || cropW > midW) {
            throw new IllegalArgumentException("crop " + cropH + "x" + cropW + " is larger than " + midH + "x" + midW);
        }
        Tensor out = Tensor.zeros(DType.F32, c, outH, outW);
        if (c == 0) {
            return out;
        }
        Taps y1 = Taps.of(h, midH), x1 = Taps.of(w, midW), y2 = Taps.of(cropH, outH), x2 = Taps.of(cropW, outW);
        // The intermediate columns the second resize reads, in order ("needed" columns, nx of them); the second
        // resize's horizontal taps as positions in that list.
        int[] slot = new int[cropW];
        java.util.Arrays.fill(slot, -1);
        for (int j = 0; j < outW; j++) {
            slot[x2.i0[j]] = 0;
            slot[x2.i1[j]] = 0;
        }
        int count = 0;
        for (int X = 0; X < cropW; X++) {
            if (slot[X] == 0) {
                slot[X] = count++;
            }
        }
        int nx = count;
        // taps arrays padded to whole vectors (index 0, weight 0), so that the gathers below run unmasked
        int nxPadded = (nx + F.length() - 1) / F.length() * F.length();
        int outWPadded = (outW + F.length() - 1) / F.length() * F.length();
        int[] hi0 = new int[nxPadded], hi1 = new int[nxPadded];
        float[] hw0 = new float[nxPadded], hw1 = new float[nxPadded];
        for (int X = 0; X < cropW; X++) {
            if (slot[X] >= 0) {
                hi0[slot[X]] = x1.i0[X];
                hi1[slot[X]] = x1.i1[X];
                hw0[slot[X]] = x1.w0[X];
                hw1[slot[X]] = x1.w1[X];
            }
        }
        int[] a = new int[outWPadded], b = new int[outWPadded];
        float[] xw0 = new float[outWPadded], xw1 = new float[outWPadded];
        for (int j = 0; j < outW; j++) {
            a[j] = slot[x2.i0[j]];
            b[j] = slot[x2.i1[j]];
            xw0[j] = x2.w0[j];
            xw1[j] = x2.w1[j];
        }
        // Vectors of the second horizontal pass whose taps are consecutive columns (a resize to the same width, e.g.
        // an image whose longest side is already the model's size) load them directly instead of gathering: the
        // same values, and a gather costs several times a load on some CPUs.
        boolean[] directA = consecutive(a, nxPadded), directB = consecutive(b, nxPadded);
        int band = Math.max(8, Math.min(64, (outH + 1) / 2));
        int bands = (outH + band - 1) / band;
        MemorySegment in = x.segment();
        MemorySegment o = out.segment();
        ComputePool.parallelFor(c * bands, 1, (from, to) -> {
            // two first-pass rows (source rows sa, sb), the intermediate row, two second-pass rows (rows ya, yb)
            float[] ha = new float[nxPadded], hb = new float[nxPadded], mid = new float[nxPadded];
            float[] ra = new float[outWPadded], rb = new float[outWPadded], source = new float[w];
            for (int item = from; item < to; item++) {
                int ch = item / bands, i0 = (item % bands) * band, i1 = Math.min(outH, i0 + band);
                long src = (long) ch * h * w;
                int sa = -1, sb = -1, ya = -1, yb = -1;
                for (int i = i0; i < i1; i++) {
                    int need0 = y2.i0[i], need1 = y2.i1[i];
                    for (int pass = 0; pass < 2; pass++) {
                        int yy = pass == 0 ? need0 : need1;
                        if (yy == ya || yy == yb) {
                            continue;
                        }
                        // recompute into the row not needed now: the rows grow with i, so the older one
                        boolean intoA = ya != need0 && ya != need1 && (yb == need0 || yb == need1 || ya < yb);
                        float[] r = intoA ? ra : rb;
                        // first resize, vertical at intermediate row yy, from first-pass rows s0 and s1
                        int s0 = y1.i0[yy], s1 = y1.i1[yy];
                        for (int want = 0; want < 2; want++) {
                            int s = want == 0 ? s0 : s1;
                            if (s == sa || s == sb) {
                                continue;
                            }
                            boolean hIntoA = sa != s0 && sa != s1 && (sb == s0 || sb == s1 || sa < sb);
                            float[] hr = hIntoA ? ha : hb;
                            MemorySegment.copy(in, FLOAT, (src + (long) s * w) * Float.BYTES, source, 0, w);
                            for (int k = 0; k < nxPadded; k += F.length()) {
                                FloatVector.fromArray(F, source, 0, hi0, k).mul(FloatVector.fromArray(F, hw0, k))
                                        .add(FloatVector.fromArray(F, source, 0, hi1, k)
                                                .mul(FloatVector.fromArray(F, hw1, k)))
                                        .intoArray(hr, k);
                            }
                            if (hIntoA) {
                                sa = s;
                            } else {
                                sb = s;
                            }
                        }
                        float[] t0 = s0 == sa ? ha : hb, t1 = s1 == sa ? ha : hb;
                        float wy0 = y1.w0[yy], wy1 = y1.w1[yy];
                        for (int k = 0; k < nx; k += F.length()) {
                            FloatVector.fromArray(F, t0, k).mul(wy0).add(FloatVector.fromArray(F, t1, k).mul(wy1))
                                    .intoArray(mid, k);
                        }
                        // second resize, horizontal
                        for (int j = 0; j < outWPadded; j += F.length()) {
                            int v = j / F.length();
                            FloatVector va = directA[v] ? FloatVector.fromArray(F, mid, a[j])
                                    : FloatVector.fromArray(F, mid, 0, a, j);
                            FloatVector vb = directB[v] ? FloatVector.fromArray(F, mid, b[j])
                                    : FloatVector.fromArray(F, mid, 0, b, j);
                            va.mul(FloatVector.fromArray(F, xw0, j)).add(vb.mul(FloatVector.fromArray(F, xw1, j)))
                                    .intoArray(r, j);
                        }
                        if (intoA) {
                            ya = yy;
                        } else {
                            yb = yy;
                        }
                    }
                    // second resize, vertical
                    float[] t0 = need0 == ya ? ra : rb, t1 = need1 == ya ? ra : rb;
                    float wy0 = y2.w0[i], wy1 = y2.w1[i];
                    long dst = ((long) ch * outH + i) * outW * Float.BYTES;
                    // t0 and t1 are padded to whole vectors: loads unmasked, only the last store masked
                    int full = F.loopBound(outW);
                    int j = 0;
                    for (; j < full; j += F.length()) {
                        FloatVector v0 = FloatVector.fromArray(F, t0, j);
                        FloatVector v1 = FloatVector.fromArray(F, t1, j);
                        v0.mul(wy0).add(v1.mul(wy1)).intoMemorySegment(o, dst + (long) j * Float.BYTES, LE);
                    }
                    if (j < outW) {
                        FloatVector v0 = FloatVector.fromArray(F, t0, j);
                        FloatVector v1 = FloatVector.fromArray(F, t1, j);
                        v0.mul(wy0).add(v1.mul(wy1)).intoMemorySegment(o, dst + (long) j * Float.BYTES, LE,
                                F.indexInRange(j, outW));
                    }
                }
            }
        });
        return out;
    }

    /**
     * For each whole vector of {@code idx}: whether its lanes are consecutive indices, all inside an array of
     * {@code length} (then one load at {@code idx[first lane]} reads what the gather would).
     */
    private static boolean[] consecutive(int[] idx, int length) {
        int lanes = F.length();
        boolean[] out = new boolean[idx.length / lanes];
        for (int v = 0; v < out.length; v++) {
            int first = idx[v * lanes];
            boolean ok = first >= 0 && first + lanes <= length;
            for (int l = 1; ok && l < lanes; l++) {
                ok = idx[v * lanes + l] == first + l;
            }
            out[v] = ok;
        }
        return out;
    }
}
