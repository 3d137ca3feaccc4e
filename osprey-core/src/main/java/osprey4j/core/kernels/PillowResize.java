package osprey4j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Bicubic (and bilinear) resampling bit-exact with Pillow's {@code Image.resize((w, h), Image.BICUBIC)} (Pillow 9.4,
 * libImaging/Resample.c), the resize CLIP-style preprocessing applies to the original image; {@link Filter#BILINEAR}
 * is {@code Image.BILINEAR} (Pillow's triangle filter, support 1), the resize of SAM's {@code ResizeLongestSide}.
 *
 * <p>The algorithm, per axis: the output pixel i covers source coordinates around
 * {@code center = (i + 0.5) * scale} with {@code scale = in / out}. When shrinking, the filter is stretched by
 * {@code filterscale = max(scale, 1)} (this is Pillow's antialiasing), so its support is
 * {@code 2 * filterscale} source pixels each side. The taps are source pixels
 * {@code [(int)(center - support + 0.5), (int)(center + support + 0.5))} clipped to the image, weighted by the
 * Keys cubic (a = -0.5) at {@code (x - center + 0.5) / filterscale} and normalised to sum to 1. All of this is
 * double arithmetic in Pillow's order.
 *
 * <p>For 8-bit images the weights become fixed point with 22 fraction bits (rounded half away from zero), each
 * output is {@code 2^21 + sum(pixel * weight)} in 32-bit integers, shifted right by 22 and clipped to
 * [0, 255]. The horizontal pass runs first (over just the source rows the vertical pass reads) into an 8-bit
 * intermediate image, then the vertical pass; an axis whose size does not change is skipped.
 *
 * <p>The float variant reproduces Pillow's mode "F" resampling of each channel: the same double weights,
 * summed in double, the intermediate and result rounded to float.
 */
public final class PillowResize {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Pillow's resampling filters implemented here: the kernel and its support (in source pixels, unstretched). */
    public enum Filter {
        /** {@code Image.BICUBIC}: Keys cubic, a = -0.5, support 2. */
        BICUBIC(2.0),
        /** {@code Image.BILINEAR}: the triangle {@code 1 - |x|}, support 1. */
        BILINEAR(1.0);

        private final double support;

        Filter(double support) {
            this.support = support;
        }

        double apply(double x) {
            return this == BICUBIC ? bicubic(x) : bilinear(x);
        }
    }

    private PillowResize() {
    }

    /** Per-output taps of one axis: first source index, tap count, and ksize weights per output. */
    record Coefficients(int ksize, int[] first, int[] count, double[] weights) {
        /** The fixed-point weights Pillow's 8-bit passes use. */
        int[] fixedPoint() {
            int[] k = new int[weights.length];
            double one = 1 << PRECISION_BITS;
            for (int i = 0; i < k.length; i++) {
                double v = weights[i];
                k[i] = v < 0 ? (int) (-0.5 + v * one) : (int) (0.5 + v * one);
            }
            return k;
        }
    }

    /** The Keys cubic convolution kernel with a = -0.5, as Pillow's {@code bicubic_filter}. */
    static double bicubic(double x) {
        final double a = -0.5;
        if (x < 0.0) {
            x = -x;
        }
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
    }

    /** Pillow's {@code bilinear_filter}. */
    static double bilinear(double x) {
        if (x < 0.0) {
            x = -x;
        }
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    /** Pillow's {@code precompute_coeffs} for the whole axis (box 0 .. inSize), bicubic. */
    static Coefficients coefficients(int inSize, int outSize) {
        return coefficients(inSize, outSize, Filter.BICUBIC);
    }

    /** Pillow's {@code precompute_coeffs} for the whole axis (box 0 .. inSize). */
    static Coefficients coefficients(int inSize, int outSize, Filter filter) {
        double scale = (double) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = filter.support * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        double[] kk = new double[outSize * ksize];
        double ss = 1.0 / filterscale;
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            int xmin = Math.max(0, (int) (center - support + 0.5));
            int xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
            double ww = 0.0;
            int base = xx * ksize;
            for (int x = 0; x < xmax; x++) {
                double w = filter.apply((x + xmin - center + 0.5) * ss);
                kk[base + x] = w;
                ww += w;
            }
            if (ww != 0.0) {
                for (int x = 0; x < xmax; x++) {
                    kk[base + x] /= ww;
                }
            }
            first[xx] = xmin;
            count[xx] = Math.max(0, xmax);
        }
        return new Coefficients(ksize, first, count, kk);
    }

    /**
     * Resizes an 8-bit image of {@code channels} interleaved channels (RGB: 3), {@code height x width} pixels
     * row-major in {@code src}, to {@code outHeight x outWidth}.
     */
    public static byte[] resize(byte[] src, int width, int height, int channels, int outWidth, int outHeight) {
        return resize(src, width, height, channels, outWidth, outHeight, Filter.BICUBIC);
    }

    /** {@link #resize(byte[], int, int, int, int, int)} with the given filter. */
    public static byte[] resize(byte[] src, int width, int height, int channels, int outWidth, int outHeight,
                                Filter filter) {
        checkSizes(width, height, channels, outWidth, outHeight);
        if (src.length != (long) width * height * channels) {
            throw new IllegalArgumentException(src.length + " bytes is not a " + width + "x" + height + "x" + channels + " image");
        }
        if (width == outWidth && height == outHeight) {
            return src.clone();
        }
        Coefficients vert = coefficients(height, outHeight, filter);
        byte[] image = src;
        int rows = height;
        int firstRow = 0;
        if (width != outWidth) {
            // Only the source rows the vertical pass reads go through the horizontal pass.
            firstRow = vert.first[0];
            int lastRow = vert.first[outHeight - 1] + vert.count[outHeight - 1];
            rows = lastRow - firstRow;
            image = horizontal8(src, width, channels, firstRow, rows, coefficients(width, outWidth, filter));
        }
        if (height == outHeight) {
            return image;
        }
        return vertical8(image, outWidth, channels, firstRow, vert);
    }

    /**
     * {@link #resize(byte[], int, int, int, int, int)} for a U8 tensor [H, W, C] (interleaved channels).
     *
     * @return a U8 tensor [outHeight, outWidth, C]
     */
    public static Tensor resize(Tensor image, int outHeight, int outWidth) {
        if (image.dtype() != DType.U8 || image.rank() != 3) {
            throw new IllegalArgumentException("expected a U8 [H, W, C] image, got " + image);
        }
        int h = image.size(0), w = image.size(1), c = image.size(2);
        byte[] src = image.segment().toArray(ValueLayout.JAVA_BYTE);
        byte[] out = resize(src, w, h, c, outWidth, outHeight);
        return Tensor.of(DType.U8, MemorySegment.ofArray(out), outHeight, outWidth, c);
    }

    private static byte[] horizontal8(byte[] src, int width, int channels, int firstRow, int rows, Coefficients cx) {
        int outWidth = cx.first.length;
        int[] k = cx.fixedPoint();
        int ksize = cx.ksize;
        byte[] out = new byte[rows * outWidth * channels];
        ComputePool.parallelFor(rows, 8, (from, to) -> {
            for (int y = from; y < to; y++) {
                int srcRow = (firstRow + y) * width * channels;
                int dstRow = y * outWidth * channels;
                for (int xx = 0; xx < outWidth; xx++) {
                    int xmin = cx.first[xx], n = cx.count[xx], kb = xx * ksize;
                    for (int ch = 0; ch < channels; ch++) {
                        int ss = 1 << (PRECISION_BITS - 1);
                        int p = srcRow + xmin * channels + ch;
                        for (int x = 0; x < n; x++, p += channels) {
                            ss += (src[p] & 0xFF) * k[kb + x];
                        }
                        out[dstRow + xx * channels + ch] = clip8(ss);
                    }
                }
            }
        });
        return out;
    }

    /** Vertical pass over an image whose row 0 is source row {@code firstRow}. */
    private static byte[] vertical8(byte[] src, int width, int channels, int firstRow, Coefficients cy) {
        int outHeight = cy.first.length;
        int[] k = cy.fixedPoint();
        int ksize = cy.ksize;
        int rowLen = width * channels;
        byte[] out = new byte[outHeight * rowLen];
        ComputePool.parallelFor(outHeight, 8, (from, to) -> {
            int[] acc = new int[rowLen];
            for (int yy = from; yy < to; yy++) {
                Arrays.fill(acc, 1 << (PRECISION_BITS - 1));
                int ymin = cy.first[yy] - firstRow, n = cy.count[yy], kb = yy * ksize;
                // row-at-a-time accumulation: the same integer sums as Pillow's per-pixel loop
                for (int y = 0; y < n; y++) {
                    int weight = k[kb + y];
                    int p = (ymin + y) * rowLen;
                    for (int i = 0; i < rowLen; i++) {
                        acc[i] += (src[p + i] & 0xFF) * weight;
                    }
                }
                int dst = yy * rowLen;
                for (int i = 0; i < rowLen; i++) {
                    out[dst + i] = clip8(acc[i]);
                }
            }
        });
        return out;
    }

    private static byte clip8(int ss) {
        int v = ss >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /**
     * Float bicubic resize of a [C, H, W] F32 tensor, each channel as Pillow resizes a mode "F" image:
     * double weights (no fixed point), double sums, float intermediate and result, no clipping.
     */
    public static Tensor resizeFloat(Tensor x, int outHeight, int outWidth) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireRank(x, 3, "x");
        int c = x.size(0), h = x.size(1), w = x.size(2);
        checkSizes(w, h, Math.max(c, 1), outWidth, outHeight);
        float[] src = x.toFloatArray();
        if (w == outWidth && h == outHeight) {
            return Tensor.copyOf(src, c, h, w);
        }
        Coefficients vert = coefficients(h, outHeight);
        Coefficients horiz = w != outWidth ? coefficients(w, outWidth) : null;
        int firstRow = horiz != null ? vert.first[0] : 0;
        int rows = horiz != null ? vert.first[outHeight - 1] + vert.count[outHeight - 1] - firstRow : h;
        int midWidth = horiz != null ? outWidth : w;
        float[] out = new float[c * outHeight * outWidth];
        ComputePool.parallelFor(c, 1, (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                float[] mid = new float[rows * midWidth];
                int plane = ch * h * w;
                if (horiz != null) {
                    for (int y = 0; y < rows; y++) {
                        int srcRow = plane + (firstRow + y) * w;
                        for (int xx = 0; xx < outWidth; xx++) {
                            double ss = 0.0;
                            int xmin = horiz.first[xx], kb = xx * horiz.ksize;
                            for (int i = 0; i < horiz.count[xx]; i++) {
                                ss += src[srcRow + xmin + i] * horiz.weights[kb + i];
                            }
                            mid[y * outWidth + xx] = (float) ss;
                        }
                    }
                } else {
                    System.arraycopy(src, plane, mid, 0, h * w);
                }
                int dst = ch * outHeight * outWidth;
                if (h == outHeight) {
                    System.arraycopy(mid, 0, out, dst, outHeight * outWidth);
                    continue;
                }
                for (int yy = 0; yy < outHeight; yy++) {
                    int ymin = vert.first[yy] - firstRow, kb = yy * vert.ksize;
                    for (int xx = 0; xx < outWidth; xx++) {
                        double ss = 0.0;
                        for (int i = 0; i < vert.count[yy]; i++) {
                            ss += mid[(ymin + i) * midWidth + xx] * vert.weights[kb + i];
                        }
                        out[dst + yy * outWidth + xx] = (float) ss;
                    }
                }
            }
        });
        return Tensor.copyOf(out, c, outHeight, outWidth);
    }

    private static void checkSizes(int width, int height, int channels, int outWidth, int outHeight) {
        if (width < 1 || height < 1 || outWidth < 1 || outHeight < 1) {
            throw new IllegalArgumentException("image sizes must be positive: " + width + "x" + height + " -> "
                    + outWidth + "x" + outHeight);
        }
        if (channels < 1) {
            throw new IllegalArgumentException("an image needs at least one channel, got " + channels);
        }
    }
}
