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
 * The two convolutions of a ConvNeXt on a single image (batch 1, channels-first [C, H, W] F32 activations;
 * filters and biases F32, BF16 or F16).
 */
public final class Conv2d {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Output channels and patch vectors per register tile of the patchify GEMM. */
    private static final int TILE_O = 4;
    private static final int TILE_P_VECTORS = 3;

    private Conv2d() {
    }

    /**
     * Patchify convolution: {@code torch.nn.functional.conv2d(x, weight, bias, stride=k)} with a k x k kernel,
     * stride k and no padding (ConvNeXt's 4x4/4 stem and 2x2/2 downsampling).
     *
     * @param x      [C, H, W]
     * @param weight [O, C, k, k]
     * @param bias   [O], or null for none
     * @return [O, H / k, W / k] (floor division: trailing rows and columns that do not fill a patch are
     *         ignored, as torch does)
     */
    public static Tensor patchify(Tensor x, Tensor weight, Tensor bias) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireRank(x, 3, "x");
        KernelChecks.requireRank(weight, 4, "weight");
        int c = x.size(0), h = x.size(1), w = x.size(2);
        int outC = weight.size(0), k = weight.size(2);
        if (weight.size(1) != c || weight.size(3) != k || k <= 0) {
            throw new IllegalArgumentException("weight " + weight + " is not [O, " + c + ", k, k] for input " + x);
        }
        float[] b = bias == null ? new float[outC] : biasFloats(bias, outC);
        int oh = h / k, ow = w / k;
        int patches = oh * ow;
        int depth = c * k * k;
        Tensor out = Tensor.zeros(DType.F32, outC, oh, ow);
        if (outC == 0 || patches == 0) {
            return out;
        }
        float[] wt = KernelChecks.weightFloats(weight, "weight"); // [O][depth], depth ordered (c, ky, kx)
        // Pack the patches into panels of TILE_P patches: panel t holds, for every depth index d, the values
        // of patches t*TILE_P .. t*TILE_P+TILE_P-1 contiguously, so the micro-kernel reads one row of vectors
        // per d. Patches past the end are zero and their outputs are never stored.
        int tileP = TILE_P_VECTORS * F.length();
        int panels = (patches + tileP - 1) / tileP;
        float[] packed = new float[panels * depth * tileP];
        MemorySegment in = x.segment();
        ComputePool.parallelFor(c * k, 1, (from, to) -> {
            for (int cy = from; cy < to; cy++) {
                int ch = cy / k, ky = cy % k;
                for (int py = 0; py < oh; py++) {
                    long rowOff = ((long) ch * h + (long) py * k + ky) * w;
                    for (int px = 0; px < ow; px++) {
                        int p = py * ow + px;
                        int dst = ((p / tileP) * depth + cy * k) * tileP + p % tileP;
                        for (int kx = 0; kx < k; kx++) {
                            packed[dst + kx * tileP] = in.getAtIndex(FLOAT, rowOff + (long) px * k + kx);
                        }
                    }
                }
            }
        });
        MemorySegment o = out.segment();
        int oTiles = (outC + TILE_O - 1) / TILE_O;
        // Parallel over (panel, output-channel tile); each task keeps its panel hot across the O tiles.
        ComputePool.parallelFor(panels * oTiles, 1, (from, to) -> {
            for (int job = from; job < to; job++) {
                int panel = job / oTiles;
                int o0 = (job % oTiles) * TILE_O;
                int p0 = panel * tileP;
                if (o0 + TILE_O <= outC) {
                    tile4(packed, panel * depth * tileP, depth, wt, b, o0, o, p0, patches);
                } else {
                    for (int oc = o0; oc < outC; oc++) {
                        tile1(packed, panel * depth * tileP, depth, wt, b, oc, o, p0, patches);
                    }
                }
            }
        });
        return out;
    }

    /** 4 output channels x 48 patches: 12 accumulators, 3 vector loads and 4 broadcasts per depth step. */
    private static void tile4(float[] packed, int panelBase, int depth, float[] wt, float[] b, int o0,
                              MemorySegment out, int p0, int patches) {
        int n = F.length();
        int stride = TILE_P_VECTORS * n;
        FloatVector a00 = FloatVector.broadcast(F, b[o0]), a01 = a00, a02 = a00;
        FloatVector a10 = FloatVector.broadcast(F, b[o0 + 1]), a11 = a10, a12 = a10;
        FloatVector a20 = FloatVector.broadcast(F, b[o0 + 2]), a21 = a20, a22 = a20;
        FloatVector a30 = FloatVector.broadcast(F, b[o0 + 3]), a31 = a30, a32 = a30;
        int w0 = o0 * depth, w1 = w0 + depth, w2 = w1 + depth, w3 = w2 + depth;
        for (int d = 0, pi = panelBase; d < depth; d++, pi += stride) {
            FloatVector p0v = FloatVector.fromArray(F, packed, pi);
            FloatVector p1v = FloatVector.fromArray(F, packed, pi + n);
            FloatVector p2v = FloatVector.fromArray(F, packed, pi + 2 * n);
            FloatVector c0 = FloatVector.broadcast(F, wt[w0 + d]), c1 = FloatVector.broadcast(F, wt[w1 + d]);
            FloatVector c2 = FloatVector.broadcast(F, wt[w2 + d]), c3 = FloatVector.broadcast(F, wt[w3 + d]);
            a00 = p0v.fma(c0, a00); a01 = p1v.fma(c0, a01); a02 = p2v.fma(c0, a02);
            a10 = p0v.fma(c1, a10); a11 = p1v.fma(c1, a11); a12 = p2v.fma(c1, a12);
            a20 = p0v.fma(c2, a20); a21 = p1v.fma(c2, a21); a22 = p2v.fma(c2, a22);
            a30 = p0v.fma(c3, a30); a31 = p1v.fma(c3, a31); a32 = p2v.fma(c3, a32);
        }
        // stores written out (not a helper taking vectors, which C2 may refuse to inline and then box)
        int n0 = patches - p0;
        long r0 = ((long) o0 * patches + p0) * Float.BYTES, rs = (long) patches * Float.BYTES, vb = (long) n * Float.BYTES;
        if (n0 >= stride) {
            a00.intoMemorySegment(out, r0, LE); a01.intoMemorySegment(out, r0 + vb, LE); a02.intoMemorySegment(out, r0 + 2 * vb, LE);
            r0 += rs;
            a10.intoMemorySegment(out, r0, LE); a11.intoMemorySegment(out, r0 + vb, LE); a12.intoMemorySegment(out, r0 + 2 * vb, LE);
            r0 += rs;
            a20.intoMemorySegment(out, r0, LE); a21.intoMemorySegment(out, r0 + vb, LE); a22.intoMemorySegment(out, r0 + 2 * vb, LE);
            r0 += rs;
            a30.intoMemorySegment(out, r0, LE); a31.intoMemorySegment(out, r0 + vb, LE); a32.intoMemorySegment(out, r0 + 2 * vb, LE);
        } else {
            VectorMask<Float> m0 = F.indexInRange(0, n0), m1 = F.indexInRange(n, n0), m2 = F.indexInRange(2 * n, n0);
            a00.intoMemorySegment(out, r0, LE, m0); a01.intoMemorySegment(out, r0 + vb, LE, m1); a02.intoMemorySegment(out, r0 + 2 * vb, LE, m2);
            r0 += rs;
            a10.intoMemorySegment(out, r0, LE, m0); a11.intoMemorySegment(out, r0 + vb, LE, m1); a12.intoMemorySegment(out, r0 + 2 * vb, LE, m2);
            r0 += rs;
            a20.intoMemorySegment(out, r0, LE, m0); a21.intoMemorySegment(out, r0 + vb, LE, m1); a22.intoMemorySegment(out, r0 + 2 * vb, LE, m2);
            r0 += rs;
            a30.intoMemorySegment(out, r0, LE, m0); a31.intoMemorySegment(out, r0 + vb, LE, m1); a32.intoMemorySegment(out, r0 + 2 * vb, LE, m2);
        }
    }

    private static void tile1(float[] packed, int panelBase, int depth, float[] wt, float[] b, int oc,
                              MemorySegment out, int p0, int patches) {
        int n = F.length();
        int stride = TILE_P_VECTORS * n;
        FloatVector a0 = FloatVector.broadcast(F, b[oc]), a1 = a0, a2 = a0;
        int w0 = oc * depth;
        for (int d = 0, pi = panelBase; d < depth; d++, pi += stride) {
            FloatVector c0 = FloatVector.broadcast(F, wt[w0 + d]);
            a0 = FloatVector.fromArray(F, packed, pi).fma(c0, a0);
            a1 = FloatVector.fromArray(F, packed, pi + n).fma(c0, a1);
            a2 = FloatVector.fromArray(F, packed, pi + 2 * n).fma(c0, a2);
        }
        int n0 = patches - p0;
        long r0 = ((long) oc * patches + p0) * Float.BYTES, vb = (long) n * Float.BYTES;
        a0.intoMemorySegment(out, r0, LE, F.indexInRange(0, n0));
        a1.intoMemorySegment(out, r0 + vb, LE, F.indexInRange(n, n0));
        a2.intoMemorySegment(out, r0 + 2 * vb, LE, F.indexInRange(2 * n, n0));
    }

    /**
     * Depthwise convolution with a k x k kernel (k odd), stride 1 and zero padding k/2, so the output has the
     * input's size: {@code torch.nn.functional.conv2d(x, weight, bias, padding=k//2, groups=C)} (ConvNeXt's
     * 7x7 {@code conv_dw}).
     *
     * @param x      [C, H, W]
     * @param weight [C, 1, k, k]
     * @param bias   [C], or null for none
     * @return [C, H, W]
     */
    public static Tensor depthwise(Tensor x, Tensor weight, Tensor bias) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireRank(x, 3, "x");
        KernelChecks.requireRank(weight, 4, "weight");
        int c = x.size(0), h = x.size(1), w = x.size(2);
        int k = weight.size(2);
        if (weight.size(0) != c || weight.size(1) != 1 || weight.size(3) != k || k % 2 == 0) {
            throw new IllegalArgumentException("depthwise weight " + weight + " is not [" + c + ", 1, k, k] with k odd");
        }
        float[] b = bias == null ? new float[c] : biasFloats(bias, c);
        float[] filters = KernelChecks.weightFloats(weight, "weight");
        Tensor out = Tensor.zeros(DType.F32, c, h, w);
        if (c == 0 || h == 0 || w == 0) {
            return out;
        }
        int pad = k / 2;
        int pw = w + 2 * pad; // padded row width
        int ph = h + 2 * pad;
        MemorySegment in = x.segment();
        MemorySegment o = out.segment();
        ComputePool.parallelFor(c, 1, (from, to) -> {
            // One zero-padded plane per task, so the inner loop needs no bounds tests.
            float[] padded = new float[ph * pw + F.length()];
            float[] kernel = new float[k * k];
            for (int ch = from; ch < to; ch++) {
                long planeOff = (long) ch * h * w;
                for (int y = 0; y < h; y++) {
                    MemorySegment.copy(in, FLOAT, (planeOff + (long) y * w) * Float.BYTES, padded, (y + pad) * pw + pad, w);
                }
                System.arraycopy(filters, ch * k * k, kernel, 0, k * k);
                int y = 0;
                for (; y + 4 <= h; y += 4) {
                    depthwiseFourRows(padded, pw, kernel, k, b[ch], y, w, o, planeOff);
                }
                for (; y < h; y++) {
                    depthwiseRow(padded, pw, kernel, k, b[ch], y, w, o, planeOff);
                }
            }
        });
        return out;
    }

    /**
     * Output rows y..y+3 of one channel. Each loaded input vector feeds up to four accumulators (one per output
     * row it lies under), so a 7x7 filter costs 70 loads per 196 multiply-adds instead of one load each.
     */
    private static void depthwiseFourRows(float[] padded, int pw, float[] kernel, int k, float bias, int y, int w,
                                          MemorySegment out, long planeOff) {
        FloatVector b = FloatVector.broadcast(F, bias);
        for (int x0 = 0; x0 < w; x0 += F.length()) {
            FloatVector acc0 = b, acc1 = b, acc2 = b, acc3 = b;
            for (int r = 0; r < k + 3; r++) {
                // padded row y + r is kernel row r for output y, r - 1 for output y + 1, ...
                int rowBase = (y + r) * pw + x0;
                boolean in0 = r < k, in1 = r >= 1 && r <= k, in2 = r >= 2 && r <= k + 1, in3 = r >= 3;
                for (int kx = 0; kx < k; kx++) {
                    FloatVector v = FloatVector.fromArray(F, padded, rowBase + kx);
                    if (in0) {
                        acc0 = v.fma(FloatVector.broadcast(F, kernel[r * k + kx]), acc0);
                    }
                    if (in1) {
                        acc1 = v.fma(FloatVector.broadcast(F, kernel[(r - 1) * k + kx]), acc1);
                    }
                    if (in2) {
                        acc2 = v.fma(FloatVector.broadcast(F, kernel[(r - 2) * k + kx]), acc2);
                    }
                    if (in3) {
                        acc3 = v.fma(FloatVector.broadcast(F, kernel[(r - 3) * k + kx]), acc3);
                    }
                }
            }
            VectorMask<Float> m = F.indexInRange(x0, w);
            long row = (planeOff + (long) y * w + x0) * Float.BYTES, rowBytes = (long) w * Float.BYTES;
            acc0.intoMemorySegment(out, row, LE, m);
            acc1.intoMemorySegment(out, row + rowBytes, LE, m);
            acc2.intoMemorySegment(out, row + 2 * rowBytes, LE, m);
            acc3.intoMemorySegment(out, row + 3 * rowBytes, LE, m);
        }
    }

    /** Output row y of one channel (the rows left over after the groups of four). */
    private static void depthwiseRow(float[] padded, int pw, float[] kernel, int k, float bias, int y, int w,
                                     MemorySegment out, long planeOff) {
        FloatVector b = FloatVector.broadcast(F, bias);
        for (int x0 = 0; x0 < w; x0 += F.length()) {
            FloatVector acc = b;
            for (int ky = 0; ky < k; ky++) {
                int rowBase = (y + ky) * pw + x0;
                for (int kx = 0; kx < k; kx++) {
                    acc = FloatVector.fromArray(F, padded, rowBase + kx).fma(FloatVector.broadcast(F, kernel[ky * k + kx]), acc);
                }
            }
            acc.intoMemorySegment(out, (planeOff + (long) y * w + x0) * Float.BYTES, LE, F.indexInRange(x0, w));
        }
    }

    /**
     * The depthwise convolution of {@link #depthwise} on a channels-last map: {@code x} and {@code out} are
     * [H, W, C] (or [H*W, C] with {@code h} given), one row of C channels per pixel, as ConvNeXt blocks keep their
     * residual stream. Vectors run along the channels, so no transposition is needed around the convolution.
     *
     * @param x      [H, W, C] F32
     * @param h      the map's height (W = pixels / h)
     * @param weight [C, 1, k, k], k odd
     * @param bias   [C], or null for none
     * @param out    [H, W, C] F32, not {@code x}
     */
    public static void depthwiseChannelsLast(Tensor x, int h, Tensor weight, Tensor bias, Tensor out) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireF32(out, "out");
        KernelChecks.requireSameShape(x, out, "x", "out");
        KernelChecks.requireRank(weight, 4, "weight");
        int c = KernelChecks.lastDim(x);
        long pixels = c == 0 ? 0 : x.numel() / c;
        if (h <= 0 || pixels % h != 0) {
            throw new IllegalArgumentException("height " + h + " does not divide the " + pixels + " pixels of " + x);
        }
        int w = Math.toIntExact(pixels / h);
        int k = weight.size(2);
        if (weight.size(0) != c || weight.size(1) != 1 || weight.size(3) != k || k % 2 == 0) {
            throw new IllegalArgumentException("depthwise weight " + weight + " is not [" + c + ", 1, k, k] with k odd");
        }
        if (x.segment().asOverlappingSlice(out.segment()).isPresent()) {
            throw new IllegalArgumentException("depthwiseChannelsLast cannot write over its input");
        }
        float[] b = bias == null ? new float[c] : biasFloats(bias, c);
        float[] filters = KernelChecks.weightFloats(weight, "weight");
        // tap-major filters, [k*k][C]: the C weights of one tap lie next to each other, like the input's channels
        float[] taps = new float[k * k * c];
        for (int ch = 0; ch < c; ch++) {
            for (int t = 0; t < k * k; t++) {
                taps[t * c + ch] = filters[ch * k * k + t];
            }
        }
        if (pixels == 0 || c == 0) {
            return;
        }
        MemorySegment in = x.segment();
        MemorySegment o = out.segment();
        // Rows are split over the pool; within a row, a channel block at a time walks the row in tiles of four
        // pixels (7 input rows x (w + 6) pixels x L channels stay in L1/L2 while it does).
        ComputePool.parallelFor(h, 1, (from, to) -> {
            for (int y = from; y < to; y++) {
                for (int c0 = 0; c0 < c; c0 += F.length()) {
                    for (int x0 = 0; x0 < w; x0 += 4) {
                        depthwiseChannelsLastTile(in, o, taps, b, y, x0, h, w, c, k, c0);
                    }
                }
            }
        });
    }

    /**
     * Output pixels (y, x0 .. x0+3), channels c0 .. c0+L-1 (fewer at the right edge and the last channels): each
     * input vector loaded feeds every output of the tile whose window covers it, so a 7-wide row costs 10 input
     * loads for 28 multiply-adds. One call per tile keeps the method small and called often, so the JIT compiles
     * it early in the first convolution.
     */
    private static void depthwiseChannelsLastTile(MemorySegment in, MemorySegment out, float[] taps, float[] bias,
                                                  int y, int x0, int h, int w, int c, int k, int c0) {
        int pad = k / 2;
        VectorMask<Float> m = F.indexInRange(c0, c);
        long pixelBytes = (long) c * Float.BYTES;
        long chanOff = (long) c0 * Float.BYTES;
        FloatVector acc0 = FloatVector.fromArray(F, bias, c0, m), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        // The image edges as loop bounds, not tests in the loop: a test first seen false late (the bottom rows)
        // would make the compiled code trap and fall back to the interpreter until it is recompiled.
        int kyFrom = Math.max(0, pad - y), kyTo = Math.min(k, h + pad - y);
        int kxFrom = Math.max(0, pad - x0), kxTo = Math.min(k + 3, w + pad - x0);
        for (int ky = kyFrom; ky < kyTo; ky++) {
            long rowOff = (long) (y + ky - pad) * w * pixelBytes + chanOff;
            int tapRow = ky * k * c + c0;
            for (int kx = kxFrom; kx < kxTo; kx++) {
                // input column x0 + kx - pad is tap kx of output x0, tap kx-1 of output x0+1, ...
                FloatVector v = FloatVector.fromMemorySegment(F, in, rowOff + (x0 + kx - pad) * pixelBytes, LE, m);
                if (kx < k) {
                    acc0 = v.fma(FloatVector.fromArray(F, taps, tapRow + kx * c, m), acc0);
                }
                if (kx >= 1 && kx <= k) {
                    acc1 = v.fma(FloatVector.fromArray(F, taps, tapRow + (kx - 1) * c, m), acc1);
                }
                if (kx >= 2 && kx <= k + 1) {
                    acc2 = v.fma(FloatVector.fromArray(F, taps, tapRow + (kx - 2) * c, m), acc2);
                }
                if (kx >= 3) {
                    acc3 = v.fma(FloatVector.fromArray(F, taps, tapRow + (kx - 3) * c, m), acc3);
                }
            }
        }
        // outputs past the right edge are computed from in-range inputs only, and not stored
        long dst = ((long) y * w + x0) * pixelBytes + chanOff;
        acc0.intoMemorySegment(out, dst, LE, m);
        if (x0 + 1 < w) {
            acc1.intoMemorySegment(out, dst + pixelBytes, LE, m);
        }
        if (x0 + 2 < w) {
            acc2.intoMemorySegment(out, dst + 2 * pixelBytes, LE, m);
        }
        if (x0 + 3 < w) {
            acc3.intoMemorySegment(out, dst + 3 * pixelBytes, LE, m);
        }
    }

    private static float[] biasFloats(Tensor bias, int n) {
        if (bias.numel() != n) {
            throw new IllegalArgumentException("bias must have " + n + " elements, got " + bias);
        }
        return KernelChecks.weightFloats(bias, "bias");
    }
}
