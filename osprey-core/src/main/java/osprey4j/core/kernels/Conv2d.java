package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The convolutions of a single image (batch 1) on channels-last activations, [H*W, C] rows of C channel values per
 * pixel, F32 (filters and biases F32, BF16 or F16):
 * <ul>
 *   <li>a k x k stride-k convolution (ConvNeXt's 4x4/4 stem and 2x2/2 downsampling, a ViT's patch embedding) is
 *       one {@link Gemm} over gathered patches: {@link #imagePatchRows} from a channels-first image, or
 *       {@link #patchRows} from a channels-last map with filters reordered by {@link #filtersTapMajor};</li>
 *   <li>a k x k stride-1 convolution with zero padding k/2 (SAM's 3x3 neck conv) is one {@link Gemm} over the
 *       rows of {@link #samePatchRows} with filters reordered by {@link #filtersTapMajor};</li>
 *   <li>{@link #transposed}: a transposed convolution whose stride equals its kernel (SAM's 2x2/2 upscaling), one
 *       {@link Gemm} and a scatter;</li>
 *   <li>{@link #depthwiseChannelsLast}: the depthwise k x k convolution with vectors along the channels.</li>
 * </ul>
 */
public final class Conv2d {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private Conv2d() {
    }

    /**
     * Patchify convolution of a channels-first image: {@code conv2d(x, weight, bias, stride=k)} with a k x k
     * kernel, stride k and no padding, returned channels-last.
     *
     * @param image  [C, H, W] F32
     * @param weight [O, C, k, k]
     * @param bias   [O], or null for none
     * @return [(H / k) * (W / k), O], one row per patch, row-major over the patch grid (trailing rows and
     *         columns that do not fill a patch are ignored, as torch does)
     */
    public static Tensor patchify(Tensor image, Tensor weight, Tensor bias) {
        KernelChecks.requireRank(weight, 4, "weight");
        int k = weight.size(2);
        if (image.rank() != 3 || weight.size(1) != image.size(0) || weight.size(3) != k || k <= 0) {
            throw new IllegalArgumentException("weight " + weight + " is not [O, C, k, k] for the image " + image);
        }
        Tensor patches = imagePatchRows(image, k);
        return Gemm.linear(patches, weight.reshape(weight.dim(0), patches.dim(1)), bias);
    }

    /**
     * The k x k stride-k patches of a channels-first image [C, H, W] as GEMM rows [(H / k) * (W / k), C * k * k],
     * each in the (c, ky, kx) order of a [O, C, k, k] filter's flattening. Trailing rows and columns that do not
     * fill a patch are skipped, as torch does.
     */
    public static Tensor imagePatchRows(Tensor image, int k) {
        KernelChecks.requireF32(image, "image");
        KernelChecks.requireRank(image, 3, "image");
        if (k <= 0) {
            throw new IllegalArgumentException("patch size must be positive, got " + k);
        }
        int c = image.size(0), h = image.size(1), w = image.size(2);
        int oh = h / k, ow = w / k;
        Tensor out = Tensor.zeros(DType.F32, (long) oh * ow, (long) c * k * k);
        MemorySegment in = image.segment();
        MemorySegment dst = out.segment();
        long run = (long) k * Float.BYTES;
        ComputePool.parallelFor(oh, 1, (from, to) -> {
            for (int py = from; py < to; py++) {
                for (int px = 0; px < ow; px++) {
                    long rowOff = ((long) py * ow + px) * c * k * run;
                    for (int ch = 0; ch < c; ch++) {
                        for (int ky = 0; ky < k; ky++) {
                            long src = (((long) ch * h + (long) py * k + ky) * w + (long) px * k) * Float.BYTES;
                            MemorySegment.copy(in, src, dst, rowOff + (ch * k + ky) * run, run);
                        }
                    }
                }
            }
        });
        return out;
    }

    /**
     * Gathers the k x k patches of a channels-last map into GEMM rows: {@code dst}[patch, (ky * k + kx) * C + c] =
     * {@code src}[(py * k + ky) * w + px * k + kx, c], so a k x k stride-k convolution is one product with its
     * filters reordered by {@link #filtersTapMajor}. Rows and columns that do not fill a patch are skipped, as
     * torch does.
     *
     * @param src [h * w, C] F32
     * @param dst [(h / k) * (w / k), k * k * C] F32
     */
    public static void patchRows(Tensor src, int h, int w, int k, Tensor dst) {
        if (k <= 0 || src.rank() != 2 || dst.rank() != 2) {
            throw new IllegalArgumentException("cannot gather " + k + "x" + k + " patches of " + src + " into " + dst);
        }
        int c = src.size(1);
        int oh = h / k, ow = w / k;
        if (src.dtype() != DType.F32 || dst.dtype() != DType.F32 || src.dim(0) != (long) h * w
                || dst.dim(0) != (long) oh * ow || dst.dim(1) != (long) k * k * c) {
            throw new IllegalArgumentException("cannot gather " + k + "x" + k + " patches of " + src + " (" + h + "x" + w
                    + ") into " + dst);
        }
        MemorySegment in = src.segment();
        MemorySegment out = dst.segment();
        long run = (long) c * Float.BYTES;
        ComputePool.parallelFor(oh, 1, (from, to) -> {
            for (int py = from; py < to; py++) {
                for (int px = 0; px < ow; px++) {
                    long rowOff = ((long) py * ow + px) * k * k * run;
                    for (int ky = 0; ky < k; ky++) {
                        for (int kx = 0; kx < k; kx++) {
                            long pixel = (long) (py * k + ky) * w + px * k + kx;
                            MemorySegment.copy(in, pixel * run, out, rowOff + (ky * k + kx) * run, run);
                        }
                    }
                }
            }
        });
    }

    /**
     * Gathers the k x k neighbourhoods (k odd, zero padding k/2, stride 1) of a channels-last map into GEMM rows:
     * {@code out}[y * w + x, (ky * k + kx) * C + c] = {@code src}[(y + ky - k/2) * w + x + kx - k/2, c], zero
     * outside the map. With filters reordered by {@link #filtersTapMajor} one product is
     * {@code conv2d(x, weight, padding=k//2)}.
     *
     * @param src [h * w, C] F32
     * @return [h * w, k * k * C] F32
     */
    public static Tensor samePatchRows(Tensor src, int h, int w, int k) {
        KernelChecks.requireF32(src, "src");
        if (k <= 0 || k % 2 == 0 || src.rank() != 2 || src.dim(0) != (long) h * w) {
            throw new IllegalArgumentException("cannot gather " + k + "x" + k + " neighbourhoods (odd k) of " + src
                    + " as a " + h + "x" + w + " map");
        }
        int c = src.size(1);
        int r = k / 2;
        Tensor dst = Tensor.zeros(DType.F32, (long) h * w, (long) k * k * c);
        MemorySegment in = src.segment();
        MemorySegment out = dst.segment();
        long run = (long) c * Float.BYTES;
        ComputePool.parallelFor(h, 1, (from, to) -> {
            for (int y = from; y < to; y++) {
                for (int x = 0; x < w; x++) {
                    long rowOff = ((long) y * w + x) * k * k * run;
                    for (int ky = 0; ky < k; ky++) {
                        int sy = y + ky - r;
                        if (sy < 0 || sy >= h) {
                            continue;
                        }
                        for (int kx = 0; kx < k; kx++) {
                            int sx = x + kx - r;
                            if (sx >= 0 && sx < w) {
                                MemorySegment.copy(in, ((long) sy * w + sx) * run, out, rowOff + (ky * k + kx) * run, run);
                            }
                        }
                    }
                }
            }
        });
        return dst;
    }

    /**
     * Filters of a transposed convolution, [I, O, k, k] (torch's {@code ConvTranspose2d} layout), as the
     * [k * k * O, I] matrix of {@link #transposed}: row {@code (ky * k + kx) * O + o} holds
     * {@code weight[:, o, ky, kx]}; a new F32 tensor.
     */
    public static Tensor transposedFilters(Tensor weight) {
        KernelChecks.requireRank(weight, 4, "weight");
        int in = weight.size(0), o = weight.size(1), k = weight.size(2);
        if (weight.size(3) != k) {
            throw new IllegalArgumentException("filters " + weight + " are not [I, O, k, k]");
        }
        float[] w = weight.toFloatArray();
        float[] rows = new float[k * k * o * in];
        for (int i = 0; i < in; i++) {
            for (int oc = 0; oc < o; oc++) {
                for (int t = 0; t < k * k; t++) {
                    rows[((t * o) + oc) * in + i] = w[(i * o + oc) * k * k + t];
                }
            }
        }
        return Tensor.wrap(rows, (long) k * k * o, in);
    }

    /**
     * {@link #transposed}, returning the output channels-first, [O, h * k, w * k]: the same dot products, as one GEMM
     * of the filters with every pixel (bitwise {@link #transposed}'s values on the Java kernels; OpenBLAS, where it
     * takes the product, may round them differently), then each tap plus its channel's bias interleaved into its
     * channel's rows. For a consumer that reads
     * whole planes, such as a product of a few vectors with every pixel (SAM's hypernetwork masks), which then
     * needs no transpose.
     */
    public static Tensor transposedChannelsFirst(Tensor x, int h, int w, int k, Tensor filters, Tensor bias) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireRank(filters, 2, "filters");
        if (k <= 0 || x.rank() != 2 || x.dim(0) != (long) h * w || filters.dim(1) != x.dim(1)
                || filters.dim(0) % ((long) k * k) != 0) {
            throw new IllegalArgumentException("cannot apply transposed " + k + "x" + k + " filters " + filters + " to "
                    + x + " as a " + h + "x" + w + " map");
        }
        int o = Math.toIntExact(filters.dim(0) / ((long) k * k));
        float[] b = bias == null ? new float[o] : bias.toFloatArray();
        if (b.length != o) {
            throw new IllegalArgumentException("bias " + bias + " does not have " + o + " channels");
        }
        // The product the other way round, filters times x^T: [k*k*O, h*w], one row per (tap, channel), so that an
        // output row of channel c is its taps' rows for (ky, 0..k-1) read contiguously and interleaved (the same
        // dot products as transposed()'s, whose taps of a pixel lie O floats apart).
        Tensor taps = Gemm.linear(filters, x, null);
        int ow = w * k, oh = h * k;
        long plane = (long) oh * ow;
        Tensor out = Tensor.zeros(DType.F32, o, oh, ow);
        MemorySegment src = taps.segment();
        MemorySegment dst = out.segment();
        long tapRow = (long) h * w;
        ComputePool.parallelFor(o * k, 1, (from, to) -> {
            float[][] in = new float[k][w];
            float[] line = new float[ow];
            for (int item = from; item < to; item++) {
                int c = item / k, ky = item % k;
                float bc = b[c];
                for (int y = 0; y < h; y++) {
                    for (int kx = 0; kx < k; kx++) {
                        MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED,
                                (((long) (ky * k + kx) * o + c) * tapRow + (long) y * w) * Float.BYTES, in[kx], 0, w);
                    }
                    for (int kx = 0; kx < k; kx++) {
                        float[] t = in[kx];
                        for (int xi = 0; xi < w; xi++) {
                            line[xi * k + kx] = t[xi] + bc;
                        }
                    }
                    MemorySegment.copy(line, 0, dst, ValueLayout.JAVA_FLOAT_UNALIGNED,
                            (c * plane + (long) (y * k + ky) * ow) * Float.BYTES, ow);
                }
            }
        });
        return out;
    }

    /**
     * A transposed convolution with stride equal to its kernel k and no padding
     * ({@code conv_transpose2d(x, weight, bias, stride=k)}, k x k), on a channels-last map: each input pixel's
     * product with the filters fills its own k x k block of the output, so it is one GEMM and a scatter.
     *
     * @param x       [h * w, I] F32
     * @param filters [k * k * O, I] from {@link #transposedFilters}
     * @param bias    [O] or null
     * @return [(h * k) * (w * k), O] F32, channels-last
     */
    public static Tensor transposed(Tensor x, int h, int w, int k, Tensor filters, Tensor bias) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireRank(filters, 2, "filters");
        if (k <= 0 || x.rank() != 2 || x.dim(0) != (long) h * w || filters.dim(1) != x.dim(1)
                || filters.dim(0) % ((long) k * k) != 0) {
            throw new IllegalArgumentException("cannot apply transposed " + k + "x" + k + " filters " + filters + " to "
                    + x + " as a " + h + "x" + w + " map");
        }
        int o = Math.toIntExact(filters.dim(0) / ((long) k * k));
        Tensor taps = Gemm.linear(x, filters, null);
        float[] b = bias == null ? new float[o] : bias.toFloatArray();
        if (b.length != o) {
            throw new IllegalArgumentException("bias " + bias + " does not have " + o + " channels");
        }
        int ow = w * k;
        Tensor out = Tensor.zeros(DType.F32, (long) h * k * ow, o);
        MemorySegment src = taps.segment();
        MemorySegment dst = out.segment();
        ComputePool.parallelFor(h, 1, (from, to) -> {
            float[] run = new float[o];
            for (int y = from; y < to; y++) {
                for (int x0 = 0; x0 < w; x0++) {
                    long srcRow = ((long) y * w + x0) * k * k * o;
                    for (int ky = 0; ky < k; ky++) {
                        for (int kx = 0; kx < k; kx++) {
                            MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED,
                                    (srcRow + (long) (ky * k + kx) * o) * Float.BYTES, run, 0, o);
                            for (int c = 0; c < o; c++) {
                                run[c] += b[c];
                            }
                            long pixel = (long) (y * k + ky) * ow + x0 * k + kx;
                            MemorySegment.copy(run, 0, dst, ValueLayout.JAVA_FLOAT_UNALIGNED,
                                    pixel * o * Float.BYTES, o);
                        }
                    }
                }
            }
        });
        return out;
    }

    /**
     * Convolution filters [O, C, k, k] (any dtype) reordered to [O, k * k * C], tap-major, the column order of
     * {@link #patchRows}; a new tensor of the same dtype.
     */
    public static Tensor filtersTapMajor(Tensor filters) {
        KernelChecks.requireRank(filters, 4, "filters");
        int o = filters.size(0), c = filters.size(1), k = filters.size(2);
        if (filters.size(3) != k) {
            throw new IllegalArgumentException("filters " + filters + " are not [O, C, k, k]");
        }
        Tensor out = Tensor.zeros(filters.dtype(), o, (long) k * k * c);
        long e = filters.dtype().byteSize();
        MemorySegment in = filters.segment();
        MemorySegment dst = out.segment();
        int kk = k * k;
        for (int oc = 0; oc < o; oc++) {
            long base = (long) oc * c * kk;
            for (int ch = 0; ch < c; ch++) {
                for (int t = 0; t < kk; t++) {
                    MemorySegment.copy(in, (base + (long) ch * kk + t) * e, dst, (base + (long) t * c + ch) * e, e);
                }
            }
        }
        return out;
    }

    /**
     * Depthwise convolution with a k x k kernel (k odd), stride 1 and zero padding k/2, so the output has the
     * input's size: {@code conv2d(x, weight, bias, padding=k//2, groups=C)} (ConvNeXt's 7x7 {@code conv_dw}), on a
     * channels-last map: {@code x} and {@code out} are [H, W, C] (or [H*W, C] with {@code h} given), one row of C
     * channels per pixel, as ConvNeXt blocks keep their residual stream. Vectors run along the channels.
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
        // pixels (7 input rows x (w + 6) pixels x L channels stay in L1/L2 while it does). Whole channel blocks
        // load and store unmasked, the channels past the last whole block in scalars (same bits): masked loads
        // and stores are left to the Vector API's Java fallback on AVX2 machines (several times slower).
        int wholeChannels = F.loopBound(c);
        ComputePool.parallelFor(h, 1, (from, to) -> {
            for (int y = from; y < to; y++) {
                for (int c0 = 0; c0 < wholeChannels; c0 += F.length()) {
                    for (int x0 = 0; x0 < w; x0 += 4) {
                        depthwiseChannelsLastTile(in, o, taps, b, y, x0, h, w, c, k, c0);
                    }
                }
                if (wholeChannels < c) {
                    for (int x0 = 0; x0 < w; x0 += 4) {
                        depthwiseChannelsLastTileTail(in, o, taps, b, y, x0, h, w, c, k, wholeChannels);
                    }
                }
            }
        });
    }

    /**
     * Output pixels (y, x0 .. x0+3), channels c0 .. c0+L-1 (fewer pixels at the right edge): each
     * input vector loaded feeds every output of the tile whose window covers it, so a 7-wide row costs 10 input
     * loads for 28 multiply-adds. One call per tile keeps the method small and called often, so the JIT compiles
     * it early in the first convolution.
     */
    private static void depthwiseChannelsLastTile(MemorySegment in, MemorySegment out, float[] taps, float[] bias,
                                                  int y, int x0, int h, int w, int c, int k, int c0) {
        int pad = k / 2;
        long pixelBytes = (long) c * Float.BYTES;
        long chanOff = (long) c0 * Float.BYTES;
        FloatVector acc0 = FloatVector.fromArray(F, bias, c0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        // The image edges as loop bounds, not tests in the loop: a test first seen false late (the bottom rows)
        // would make the compiled code trap and fall back to the interpreter until it is recompiled.
        int kyFrom = Math.max(0, pad - y), kyTo = Math.min(k, h + pad - y);
        int kxFrom = Math.max(0, pad - x0), kxTo = Math.min(k + 3, w + pad - x0);
        for (int ky = kyFrom; ky < kyTo; ky++) {
            long rowOff = (long) (y + ky - pad) * w * pixelBytes + chanOff;
            int tapRow = ky * k * c + c0;
            for (int kx = kxFrom; kx < kxTo; kx++) {
                // input column x0 + kx - pad is tap kx of output x0, tap kx-1 of output x0+1, ...
                FloatVector v = FloatVector.fromMemorySegment(F, in, rowOff + (x0 + kx - pad) * pixelBytes, LE);
                if (kx < k) {
                    acc0 = v.fma(FloatVector.fromArray(F, taps, tapRow + kx * c), acc0);
                }
                if (kx >= 1 && kx <= k) {
                    acc1 = v.fma(FloatVector.fromArray(F, taps, tapRow + (kx - 1) * c), acc1);
                }
                if (kx >= 2 && kx <= k + 1) {
                    acc2 = v.fma(FloatVector.fromArray(F, taps, tapRow + (kx - 2) * c), acc2);
                }
                if (kx >= 3) {
                    acc3 = v.fma(FloatVector.fromArray(F, taps, tapRow + (kx - 3) * c), acc3);
                }
            }
        }
        // outputs past the right edge are computed from in-range inputs only, and not stored
        long dst = ((long) y * w + x0) * pixelBytes + chanOff;
        acc0.intoMemorySegment(out, dst, LE);
        if (x0 + 1 < w) {
            acc1.intoMemorySegment(out, dst + pixelBytes, LE);
        }
        if (x0 + 2 < w) {
            acc2.intoMemorySegment(out, dst + 2 * pixelBytes, LE);
        }
        if (x0 + 3 < w) {
            acc3.intoMemorySegment(out, dst + 3 * pixelBytes, LE);
        }
    }

    /**
     * {@link #depthwiseChannelsLastTile} for the last channels c0 .. c-1, fewer than a vector, in scalars: per
     * channel the fused multiply-adds of a vector lane in the same order, so the same bits. (A masked vector tile
     * here was left to the Vector API's Java fallback on AVX2, and C1, which cannot compile it, could leave it
     * running boxed vectors for seconds.)
     */
    private static void depthwiseChannelsLastTileTail(MemorySegment in, MemorySegment out, float[] taps,
                                                      float[] bias, int y, int x0, int h, int w, int c, int k,
                                                      int c0) {
        int pad = k / 2;
        int kyFrom = Math.max(0, pad - y), kyTo = Math.min(k, h + pad - y);
        int kxFrom = Math.max(0, pad - x0), kxTo = Math.min(k + 3, w + pad - x0);
        for (int ch = c0; ch < c; ch++) {
            float acc0 = bias[ch], acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int ky = kyFrom; ky < kyTo; ky++) {
                long row = (long) (y + ky - pad) * w * c + ch;
                int tapRow = ky * k * c + ch;
                for (int kx = kxFrom; kx < kxTo; kx++) {
                    float v = in.getAtIndex(F32_LE, row + (long) (x0 + kx - pad) * c);
                    if (kx < k) {
                        acc0 = Math.fma(v, taps[tapRow + kx * c], acc0);
                    }
                    if (kx >= 1 && kx <= k) {
                        acc1 = Math.fma(v, taps[tapRow + (kx - 1) * c], acc1);
                    }
                    if (kx >= 2 && kx <= k + 1) {
                        acc2 = Math.fma(v, taps[tapRow + (kx - 2) * c], acc2);
                    }
                    if (kx >= 3) {
                        acc3 = Math.fma(v, taps[tapRow + (kx - 3) * c], acc3);
                    }
                }
            }
            long dst = ((long) y * w + x0) * c + ch;
            out.setAtIndex(F32_LE, dst, acc0);
            if (x0 + 1 < w) {
                out.setAtIndex(F32_LE, dst + c, acc1);
            }
            if (x0 + 2 < w) {
                out.setAtIndex(F32_LE, dst + 2L * c, acc2);
            }
            if (x0 + 3 < w) {
                out.setAtIndex(F32_LE, dst + 3L * c, acc3);
            }
        }
    }

    private static float[] biasFloats(Tensor bias, int n) {
        if (bias.numel() != n) {
            throw new IllegalArgumentException("bias must have " + n + " elements, got " + bias);
        }
        return KernelChecks.weightFloats(bias, "bias");
    }
}
