package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import jdk.incubator.vector.FloatVector;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.Tensor;

/**
 * Backward of {@link Conv2d#depthwiseChannelsLast} (ConvNeXt's 7x7 {@code conv_dw}, stride 1, zero padding k/2) on
 * channels-last F32 heap arrays [H*W, C], for training. Forward: {@code y[p, c] = b[c] + sum over taps t of
 * w[c, t] * x[p + off(t), c]}. Then
 * <ul>
 *   <li>{@code dx[q, c] = sum over t of w[c, t] * dy[q - off(t), c]}: the same convolution of {@code dy} with the
 *       kernel turned by 180 degrees (the padding k/2 is symmetric), so {@link #depthwiseInputGrad} is
 *       {@link Conv2d#depthwiseChannelsLast} with flipped filters;</li>
 *   <li>{@code dw[c, t] = sum over p of dy[p, c] * x[p + off(t), c]} and {@code db[c] = sum over p of dy[p, c]}: a
 *       dot product along each row per tap, vectors along the channels ({@link #depthwiseWeightGrad}).</li>
 * </ul>
 * The weight gradient is a reduction over pixels: rows are split into a fixed number of parts (one per pool
 * thread), each summing into its own tap-major buffer, and the parts are added in order, so the result does not
 * depend on thread timing.
 */
public final class Conv2dGrad {
    private Conv2dGrad() {
    }

    /**
     * dx of the depthwise convolution: {@code dx = conv(dy, rot180(weight))}.
     *
     * @param dy     [H*W, C] the output's gradient
     * @param weight [C, k, k] row-major (torch's [C, 1, k, k]), k odd
     * @return dx, [H*W, C]
     */
    public static float[] depthwiseInputGrad(float[] dy, int h, int w, int c, float[] weight, int k) {
        checkShapes(dy, h, w, c, weight, k);
        int kk = k * k;
        float[] flipped = new float[c * kk];
        for (int ch = 0; ch < c; ch++) {
            for (int t = 0; t < kk; t++) {
                flipped[ch * kk + t] = weight[ch * kk + (kk - 1 - t)];
            }
        }
        float[] dx = new float[h * w * c];
        if (dx.length > 0) {
            Conv2d.depthwiseChannelsLast(Tensor.wrap(dy, h, w, c), h, Tensor.wrap(flipped, c, 1, k, k), null,
                    Tensor.wrap(dx, h, w, c));
        }
        return dx;
    }

    /**
     * Adds the depthwise convolution's weight gradient into {@code dWeight} ([C, k, k] row-major) and, when
     * non-null, its bias gradient into {@code dBias} ([C]).
     *
     * @param dy [H*W, C] the output's gradient
     * @param x  [H*W, C] the convolution's input
     */
    public static void depthwiseWeightGrad(float[] dy, float[] x, int h, int w, int c, int k, float[] dWeight,
                                           float[] dBias) {
        checkShapes(dy, h, w, c, dWeight, k);
        if (x.length != dy.length || dBias != null && dBias.length != c) {
            throw new IllegalArgumentException("depthwise weight grad: x has " + x.length + " values and dBias "
                    + (dBias == null ? 0 : dBias.length) + ", expected " + dy.length + " and " + c);
        }
        if (h == 0 || w == 0 || c == 0) {
            return;
        }
        int kk = k * k;
        int parts = Math.min(h, ComputePool.threads());
        // per part: kk tap rows of C, then one row of C for the bias
        float[][] partial = new float[parts][(kk + 1) * c];
        ComputePool.parallelFor(parts, 1, (from, to) -> {
            for (int part = from; part < to; part++) {
                int y0 = (int) ((long) h * part / parts), y1 = (int) ((long) h * (part + 1) / parts);
                for (int y = y0; y < y1; y++) {
                    for (int c0 = 0; c0 < c; c0 += F.length()) {
                        weightGradRow(dy, x, y, h, w, c, k, c0, partial[part]);
                    }
                }
            }
        });
        for (int part = 0; part < parts; part++) {
            float[] p = partial[part];
            for (int t = 0; t < kk; t++) {
                for (int ch = 0; ch < c; ch++) {
                    dWeight[ch * kk + t] += p[t * c + ch];
                }
            }
            if (dBias != null) {
                for (int ch = 0; ch < c; ch++) {
                    dBias[ch] += p[kk * c + ch];
                }
            }
        }
    }

    /**
     * Output row {@code y}, channels c0 .. c0+L-1: for each tap, the dot product of the row's dy with the input row
     * and columns the tap reads, along the pixels (two accumulators to hide the FMA latency), added into the tap's
     * slot of {@code acc}; and the row's dy sum into the bias slot. The image edges are loop bounds. Loads are
     * unmasked (AVX2 has no masked-load instruction the JIT uses here): the channels past the last whole vector go
     * to {@link #weightGradRowTail}.
     */
    private static void weightGradRow(float[] dy, float[] x, int y, int h, int w, int c, int k, int c0, float[] acc) {
        if (c0 + F.length() > c) {
            weightGradRowTail(dy, x, y, h, w, c, k, c0, acc);
            return;
        }
        int pad = k / 2;
        int rowBase = y * w * c + c0;
        FloatVector bias = FloatVector.zero(F);
        for (int ox = 0; ox < w; ox++) {
            bias = bias.add(FloatVector.fromArray(F, dy, rowBase + ox * c));
        }
        int biasSlot = k * k * c + c0;
        FloatVector.fromArray(F, acc, biasSlot).add(bias).intoArray(acc, biasSlot);
        int kyFrom = Math.max(0, pad - y), kyTo = Math.min(k, h + pad - y);
        for (int ky = kyFrom; ky < kyTo; ky++) {
            int inRow = (y + ky - pad) * w * c + c0;
            for (int kx = 0; kx < k; kx++) {
                int shift = kx - pad;
                int oxFrom = Math.max(0, -shift), oxTo = Math.min(w, w - shift);
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
                int ox = oxFrom;
                for (; ox + 1 < oxTo; ox += 2) {
                    a0 = FloatVector.fromArray(F, dy, rowBase + ox * c)
                            .fma(FloatVector.fromArray(F, x, inRow + (ox + shift) * c), a0);
                    a1 = FloatVector.fromArray(F, dy, rowBase + (ox + 1) * c)
                            .fma(FloatVector.fromArray(F, x, inRow + (ox + 1 + shift) * c), a1);
                }
                if (ox < oxTo) {
                    a0 = FloatVector.fromArray(F, dy, rowBase + ox * c)
                            .fma(FloatVector.fromArray(F, x, inRow + (ox + shift) * c), a0);
                }
                int slot = (ky * k + kx) * c + c0;
                FloatVector.fromArray(F, acc, slot).add(a0.add(a1)).intoArray(acc, slot);
            }
        }
    }

    /** {@link #weightGradRow} for the channels c0 .. c-1 (fewer than a vector), one at a time. */
    private static void weightGradRowTail(float[] dy, float[] x, int y, int h, int w, int c, int k, int c0,
                                          float[] acc) {
        int pad = k / 2;
        int rowBase = y * w * c;
        int kyFrom = Math.max(0, pad - y), kyTo = Math.min(k, h + pad - y);
        for (int ch = c0; ch < c; ch++) {
            float bias = 0;
            for (int ox = 0; ox < w; ox++) {
                bias += dy[rowBase + ox * c + ch];
            }
            acc[k * k * c + ch] += bias;
            for (int ky = kyFrom; ky < kyTo; ky++) {
                int inRow = (y + ky - pad) * w * c;
                for (int kx = 0; kx < k; kx++) {
                    int shift = kx - pad;
                    float a = 0;
                    for (int ox = Math.max(0, -shift), to = Math.min(w, w - shift); ox < to; ox++) {
                        a = Math.fma(dy[rowBase + ox * c + ch], x[inRow + (ox + shift) * c + ch], a);
                    }
                    acc[(ky * k + kx) * c + ch] += a;
                }
            }
        }
    }

    private static void checkShapes(float[] dy, int h, int w, int c, float[] weight, int k) {
        if (h < 0 || w < 0 || c < 0 || k < 1 || k % 2 == 0) {
            throw new IllegalArgumentException("depthwise grad: bad sizes h=" + h + " w=" + w + " c=" + c + " k=" + k);
        }
        if (dy.length != (long) h * w * c || weight.length != (long) c * k * k) {
            throw new IllegalArgumentException("depthwise grad: dy has " + dy.length + " values and the weight "
                    + weight.length + ", expected " + (long) h * w * c + " and " + (long) c * k * k);
        }
    }
}
