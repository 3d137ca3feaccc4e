package osprey4j.train.nn;

import osprey4j.core.kernels.Conv2d;
import osprey4j.core.kernels.Conv2dGrad;
import osprey4j.core.kernels.GemmGrad;
import osprey4j.core.tensor.Tensor;

/**
 * The ConvNeXt tower's convolutions and their backward passes, on channels-last row-major arrays [H*W, C]:
 * <ul>
 *   <li>a k x k stride-k convolution (the stem's 4x4 and the downsampling 2x2) is a gather of non-overlapping
 *       patches into rows followed by {@link Linear}: the patch row is ordered (c, ky, kx), which is the
 *       flattening of torch's {@code [out, in, k, k]} weight, so the weight is used as it is stored;</li>
 *   <li>the blocks' 7x7 depthwise convolution ({@code conv_dw}, padding 3, groups = channels): the core kernels
 *       {@link Conv2d#depthwiseChannelsLast} and {@link Conv2dGrad}.</li>
 * </ul>
 */
public final class Conv {
    private Conv() {
    }

    /**
     * Patches of a channels-first image [C, H, W] (the stem's input) as rows [(H/k)*(W/k), C*k*k], row-major over
     * the output grid.
     */
    public static float[] patchesChannelsFirst(float[] image, int c, int h, int w, int k) {
        int oh = h / k, ow = w / k, cols = c * k * k;
        float[] rows = new float[oh * ow * cols];
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int r = (oy * ow + ox) * cols;
                for (int ch = 0; ch < c; ch++) {
                    for (int ky = 0; ky < k; ky++) {
                        int src = (ch * h + oy * k + ky) * w + ox * k;
                        System.arraycopy(image, src, rows, r + (ch * k + ky) * k, k);
                    }
                }
            }
        }
        return rows;
    }

    /** Patches of a channels-last map [H*W, C] as rows [(H/k)*(W/k), C*k*k], ordered (c, ky, kx). */
    public static float[] patchesChannelsLast(float[] x, int c, int h, int w, int k) {
        int oh = h / k, ow = w / k, cols = c * k * k;
        float[] rows = new float[oh * ow * cols];
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int r = (oy * ow + ox) * cols;
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        int src = ((oy * k + ky) * w + ox * k + kx) * c;
                        int tap = ky * k + kx;
                        for (int ch = 0; ch < c; ch++) {
                            rows[r + ch * k * k + tap] = x[src + ch];
                        }
                    }
                }
            }
        }
        return rows;
    }

    /** The transpose of {@link #patchesChannelsLast}: adds each patch row's entries back to their pixels. */
    public static void unpatchChannelsLast(float[] rows, int c, int h, int w, int k, float[] dx) {
        int oh = h / k, ow = w / k, cols = c * k * k;
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int r = (oy * ow + ox) * cols;
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        int dst = ((oy * k + ky) * w + ox * k + kx) * c;
                        int tap = ky * k + kx;
                        for (int ch = 0; ch < c; ch++) {
                            dx[dst + ch] += rows[r + ch * k * k + tap];
                        }
                    }
                }
            }
        }
    }

    /**
     * Depthwise k x k convolution with zero padding k/2 and stride 1: y[p, c] = b[c] + sum over taps of
     * w[c, ky, kx] * x[p + (ky - k/2, kx - k/2), c]; the inference kernel {@link Conv2d#depthwiseChannelsLast}.
     */
    public static float[] depthwiseForward(float[] x, int c, int h, int w, float[] weight, float[] bias, int k) {
        float[] y = new float[h * w * c];
        if (y.length > 0) {
            Conv2d.depthwiseChannelsLast(Tensor.wrap(x, h, w, c), h, Tensor.wrap(weight, c, 1, k, k),
                    bias == null ? null : Tensor.wrap(bias, c), Tensor.wrap(y, h, w, c));
        }
        return y;
    }

    /**
     * Backward of {@link #depthwiseForward} ({@link Conv2dGrad}): adds dW and dB (dW when non-null, dB also when
     * non-null) and returns dx (or null when {@code needInput} is false).
     */
    public static float[] depthwiseBackward(float[] dy, float[] x, int c, int h, int w, float[] weight, int k,
                                            float[] dWeight, float[] dBias, boolean needInput) {
        if (dWeight != null) {
            Conv2dGrad.depthwiseWeightGrad(dy, x, h, w, c, k, dWeight, dBias);
        } else if (dBias != null) {
            GemmGrad.biasGrad(dy, dBias, h * w, c); // the column sums of dy [H*W, C], pixel by pixel in order
        }
        return needInput ? Conv2dGrad.depthwiseInputGrad(dy, h, w, c, weight, k) : null;
    }
}
