package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class Conv2dTest {
    /*
     * Float accumulation of K = C*k*k products of size <= 1 against a double reference: the error grows like
     * sqrt(K) ulp; for K up to ~800 here 1e-5 absolute + 1e-5 relative is ample and still catches any
     * wrongly placed tap (which moves results by ~0.1).
     */
    private static final double ABS = 1e-5, REL = 1e-5;

    @Test
    void patchifyMatchesScalarReference() {
        Random rnd = new Random(31);
        int[][] cases = {
            // c, h, w, o, k
            {3, 16, 16, 8, 4}, {3, 17, 23, 5, 4}, {1, 4, 4, 1, 4}, {1, 3, 3, 2, 4}, {7, 10, 14, 9, 2},
            {48, 18, 30, 13, 2}, {3, 64, 52, 19, 4}, {200, 6, 4, 6, 2}, {2, 5, 5, 3, 1}};
        for (int[] cs : cases) {
            int c = cs[0], h = cs[1], w = cs[2], o = cs[3], k = cs[4];
            float[] x = Close.random(rnd, c * h * w, -1f, 1f);
            float[] wt = Close.random(rnd, o * c * k * k, -1f, 1f);
            float[] b = Close.random(rnd, o, -1f, 1f);
            Tensor out = Conv2d.patchify(Tensor.copyOf(x, c, h, w), Tensor.copyOf(wt, o, c, k, k), Tensor.copyOf(b, o));
            assertArrayEquals(new long[]{(long) (h / k) * (w / k), o}, out.shape());
            Close.assertClose(ScalarKernels.patchify(x, c, h, w, wt, b, o, k), channelsFirst(out, h / k, w / k), ABS,
                    REL, "patchify " + java.util.Arrays.toString(cs));
        }
    }

    @Test
    void patchifyTakesHalfPrecisionWeightsAndNoBias() {
        Random rnd = new Random(32);
        int c = 5, h = 12, w = 8, o = 6, k = 2;
        float[] x = Close.random(rnd, c * h * w, -1f, 1f);
        Tensor wt = Tensor.copyOf(Close.random(rnd, o * c * k * k, -1f, 1f), o, c, k, k).to(DType.BF16);
        Tensor out = Conv2d.patchify(Tensor.copyOf(x, c, h, w), wt, null);
        Close.assertClose(ScalarKernels.patchify(x, c, h, w, wt.toFloatArray(), null, o, k),
                channelsFirst(out, h / k, w / k), ABS, REL, "patchify bf16");
    }

    /** The channels-last form against the same scalar reference, transposing its input and output here. */
    @Test
    void depthwiseChannelsLastMatchesScalarReference() {
        Random rnd = new Random(34);
        int[][] cases = {
            // c, h, w, k: channel counts below, at and past a vector's lanes; widths not a multiple of 4
            {3, 16, 16, 7}, {2, 1, 1, 7}, {2, 3, 2, 7}, {17, 9, 10, 7}, {40, 7, 5, 7}, {3, 8, 8, 3}, {2, 5, 6, 1},
            {33, 12, 11, 5}};
        for (int[] cs : cases) {
            int c = cs[0], h = cs[1], w = cs[2], k = cs[3];
            float[] x = Close.random(rnd, c * h * w, -1f, 1f);
            float[] wt = Close.random(rnd, c * k * k, -1f, 1f);
            float[] b = Close.random(rnd, c, -1f, 1f);
            float[] xLast = new float[x.length];
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < h * w; p++) {
                    xLast[p * c + ch] = x[ch * h * w + p];
                }
            }
            Tensor out = Tensor.zeros(DType.F32, h, w, c);
            Conv2d.depthwiseChannelsLast(Tensor.copyOf(xLast, h, w, c), h, Tensor.copyOf(wt, c, 1, k, k),
                    Tensor.copyOf(b, c), out);
            float[] expected = ScalarKernels.depthwise(x, c, h, w, wt, b, k);
            float[] got = out.toFloatArray();
            float[] gotFirst = new float[got.length];
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < h * w; p++) {
                    gotFirst[ch * h * w + p] = got[p * c + ch];
                }
            }
            Close.assertClose(expected, gotFirst, ABS, REL, "depthwiseChannelsLast " + java.util.Arrays.toString(cs));
        }
    }

    @Test
    void depthwiseChannelsLastRefusesToWriteOverItsInput() {
        Tensor x = Tensor.zeros(DType.F32, 4, 4, 8);
        assertThrows(IllegalArgumentException.class,
                () -> Conv2d.depthwiseChannelsLast(x, 4, Tensor.zeros(DType.F32, 8, 1, 3, 3), null, x));
    }

    @Test
    void matchTorchConv2d() {
        Fixtures.Case p = Fixtures.single("patchify");
        Tensor input = p.tensor("input");
        Tensor weight = p.tensor("weight");
        Tensor out = Conv2d.patchify(input, weight, p.tensor("bias"));
        int k = weight.size(2);
        Close.assertClose(p.floats("output"), channelsFirst(out, input.size(1) / k, input.size(2) / k), ABS, REL,
                "patchify vs torch");
        Fixtures.Case d = Fixtures.single("depthwise");
        Tensor map = d.tensor("input");
        Tensor rows = ChannelLayout.toChannelsLast(map);
        Tensor out2 = Tensor.zeros(DType.F32, rows.shape());
        Conv2d.depthwiseChannelsLast(rows, map.size(1), d.tensor("weight"), d.tensor("bias"), out2);
        Close.assertClose(d.floats("output"), channelsFirst(out2, map.size(1), map.size(2)), ABS, REL,
                "depthwise vs torch");
    }

    @Test
    void rejectsMismatchedWeights() {
        assertThrows(IllegalArgumentException.class, () -> Conv2d.patchify(Tensor.zeros(DType.F32, 3, 8, 8),
                Tensor.zeros(DType.F32, 4, 2, 4, 4), null));
        Tensor rows = Tensor.zeros(DType.F32, 64, 3);
        assertThrows(IllegalArgumentException.class, () -> Conv2d.depthwiseChannelsLast(rows, 8,
                Tensor.zeros(DType.F32, 3, 1, 6, 6), null, Tensor.zeros(DType.F32, 64, 3)));
    }

    /** A [h * w, C] channels-last result as the flat [C, h, w] array torch returns. */
    private static float[] channelsFirst(Tensor rows, int h, int w) {
        return ChannelLayout.toChannelsFirst(rows, h, w).toFloatArray();
    }

    /**
     * depthwiseChannelsLast bitwise against its own order of operations done in scalars: per output, the bias,
     * then one F32 fused multiply-add per in-range tap, rows then columns. Channel counts below, at, between and
     * past whole vectors (the last channel group partial or not).
     */
    @Test
    void depthwiseChannelsLastSameBitsAsScalarFusedMultiplyAdds() {
        Random rnd = new Random(35);
        int[][] cases = {
            // c, h, w, k
            {1, 5, 6, 3}, {3, 9, 7, 7}, {7, 4, 9, 5}, {8, 9, 10, 7}, {9, 6, 5, 7}, {16, 7, 7, 7}, {17, 5, 9, 3},
            {24, 8, 6, 7}, {33, 6, 11, 5}, {40, 5, 5, 7}, {64, 9, 13, 7}, {65, 3, 4, 1}};
        for (int[] cs : cases) {
            int c = cs[0], h = cs[1], w = cs[2], k = cs[3], pad = k / 2;
            float[] x = Close.random(rnd, h * w * c, -1f, 1f);
            float[] wt = Close.random(rnd, c * k * k, -1f, 1f);
            float[] b = Close.random(rnd, c, -1f, 1f);
            for (boolean withBias : new boolean[] {true, false}) {
                Tensor out = Tensor.zeros(DType.F32, h, w, c);
                Conv2d.depthwiseChannelsLast(Tensor.copyOf(x, h, w, c), h, Tensor.copyOf(wt, c, 1, k, k),
                        withBias ? Tensor.copyOf(b, c) : null, out);
                float[] expected = new float[h * w * c];
                for (int y = 0; y < h; y++) {
                    for (int px = 0; px < w; px++) {
                        for (int ch = 0; ch < c; ch++) {
                            float acc = withBias ? b[ch] : 0f;
                            for (int ky = 0; ky < k; ky++) {
                                int iy = y + ky - pad;
                                for (int kx = 0; kx < k; kx++) {
                                    int ix = px + kx - pad;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        acc = Math.fma(x[(iy * w + ix) * c + ch], wt[(ch * k + ky) * k + kx], acc);
                                    }
                                }
                            }
                            expected[(y * w + px) * c + ch] = acc;
                        }
                    }
                }
                assertArrayEquals(expected, out.toFloatArray(), "depthwiseChannelsLast " + java.util.Arrays.toString(cs)
                        + " bias=" + withBias);
            }
        }
    }
}
