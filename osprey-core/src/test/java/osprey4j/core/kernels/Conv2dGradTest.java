package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class Conv2dGradTest {
    /*
     * Float sums of at most H*W = 256 products of size <= 1 (weight and bias gradients) or k*k = 49 (input
     * gradient) against a double reference: the error grows like sqrt(n) ulp of the sum, far below 1e-4 absolute
     * + 1e-5 relative here, while a wrongly placed tap or pixel moves results by ~0.1.
     */
    private static final double ABS = 1e-4, REL = 1e-5;

    /** c, h, w, k: channels below, at and past a vector's lanes, odd sizes, maps smaller than the kernel. */
    private static final int[][] CASES = {
        {3, 16, 16, 7}, {2, 1, 1, 7}, {2, 3, 2, 7}, {17, 9, 10, 7}, {40, 7, 5, 7}, {3, 8, 8, 3}, {2, 5, 6, 1},
        {33, 12, 11, 5}, {64, 4, 4, 7}};

    @Test
    void gradientsMatchTheDefinitionInDouble() {
        Random rnd = new Random(35);
        for (int[] cs : CASES) {
            int c = cs[0], h = cs[1], w = cs[2], k = cs[3], kk = k * k, pad = k / 2;
            float[] x = Close.random(rnd, h * w * c, -1f, 1f);
            float[] dy = Close.random(rnd, h * w * c, -1f, 1f);
            float[] wt = Close.random(rnd, c * kk, -1f, 1f);
            double[] dx = new double[x.length], dw = new double[wt.length], db = new double[c];
            for (int oy = 0; oy < h; oy++) {
                for (int ox = 0; ox < w; ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        double g = dy[(oy * w + ox) * c + ch];
                        db[ch] += g;
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy + ky - pad, ix = ox + kx - pad;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                    continue;
                                }
                                int in = (iy * w + ix) * c + ch;
                                dw[ch * kk + ky * k + kx] += g * x[in];
                                dx[in] += g * wt[ch * kk + ky * k + kx];
                            }
                        }
                    }
                }
            }
            String what = java.util.Arrays.toString(cs);
            Close.assertClose(floats(dx), Conv2dGrad.depthwiseInputGrad(dy, h, w, c, wt, k), ABS, REL, "dx " + what);
            // the weight and bias gradients are added to what is there
            float[] gotW = Close.random(rnd, wt.length, -1f, 1f), gotB = Close.random(rnd, c, -1f, 1f);
            double[] wantW = dw.clone(), wantB = db.clone();
            for (int i = 0; i < wantW.length; i++) {
                wantW[i] += gotW[i];
            }
            for (int i = 0; i < c; i++) {
                wantB[i] += gotB[i];
            }
            Conv2dGrad.depthwiseWeightGrad(dy, x, h, w, c, k, gotW, gotB);
            Close.assertClose(floats(wantW), gotW, ABS, REL, "dw " + what);
            Close.assertClose(floats(wantB), gotB, ABS, REL, "db " + what);
        }
    }

    @Test
    void weightGradientIsTheSameOnEveryRun() {
        Random rnd = new Random(36);
        int c = 24, h = 13, w = 9, k = 7;
        float[] x = Close.random(rnd, h * w * c, -1f, 1f);
        float[] dy = Close.random(rnd, h * w * c, -1f, 1f);
        float[] first = new float[c * k * k];
        Conv2dGrad.depthwiseWeightGrad(dy, x, h, w, c, k, first, null);
        for (int run = 0; run < 5; run++) {
            float[] again = new float[c * k * k];
            Conv2dGrad.depthwiseWeightGrad(dy, x, h, w, c, k, again, null);
            assertArrayEquals(first, again, "run " + run);
        }
    }

    @Test
    void refusesMismatchedSizes() {
        assertThrows(IllegalArgumentException.class,
                () -> Conv2dGrad.depthwiseInputGrad(new float[10], 2, 2, 2, new float[2 * 49], 7));
        assertThrows(IllegalArgumentException.class,
                () -> Conv2dGrad.depthwiseWeightGrad(new float[8], new float[7], 2, 2, 2, 7, new float[98], null));
        assertThrows(IllegalArgumentException.class,
                () -> Conv2dGrad.depthwiseInputGrad(new float[8], 2, 2, 2, new float[2 * 36], 6));
    }

    private static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
