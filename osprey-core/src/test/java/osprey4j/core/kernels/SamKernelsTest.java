package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.Tensor;

/**
 * The kernels SAM added, against direct loops over the definitions (torch's {@code conv2d} with padding,
 * {@code conv_transpose2d} with stride = kernel, and the decomposed relative-position bias of
 * {@code add_decomposed_rel_pos}); the whole model is checked against the official code in osprey-model.
 */
class SamKernelsTest {
    private static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (2 * rng.nextDouble() - 1);
        }
        return v;
    }

    private static void assertClose(float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, "at " + i);
        }
    }

    @Test
    void samePaddedConvolutionIsConv2dWithPadding() {
        SplittableRandom rng = new SplittableRandom(1);
        int h = 5, w = 7, c = 3, o = 4, k = 3;
        float[] x = random(rng, h * w * c), wt = random(rng, o * c * k * k);
        Tensor rows = Conv2d.samePatchRows(Tensor.wrap(x, (long) h * w, c), h, w, k);
        float[] y = Gemm.linear(rows, Conv2d.filtersTapMajor(Tensor.wrap(wt, o, c, k, k)), null).toFloatArray();
        float[] expected = new float[h * w * o];
        for (int yy = 0; yy < h; yy++) {
            for (int xx = 0; xx < w; xx++) {
                for (int oc = 0; oc < o; oc++) {
                    double s = 0;
                    for (int ic = 0; ic < c; ic++) {
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int sy = yy + ky - 1, sx = xx + kx - 1;
                                if (sy >= 0 && sy < h && sx >= 0 && sx < w) {
                                    s += x[(sy * w + sx) * c + ic] * wt[((oc * c + ic) * k + ky) * k + kx];
                                }
                            }
                        }
                    }
                    expected[(yy * w + xx) * o + oc] = (float) s;
                }
            }
        }
        assertClose(expected, y, 1e-5);
        assertThrows(IllegalArgumentException.class, () -> Conv2d.samePatchRows(Tensor.wrap(x, (long) h * w, c), h, w, 2));
    }

    @Test
    void transposedConvolutionFillsEachBlock() {
        SplittableRandom rng = new SplittableRandom(2);
        int h = 3, w = 4, in = 5, o = 3, k = 2;
        float[] x = random(rng, h * w * in), wt = random(rng, in * o * k * k), b = random(rng, o);
        float[] y = Conv2d.transposed(Tensor.wrap(x, (long) h * w, in), h, w, k,
                Conv2d.transposedFilters(Tensor.wrap(wt, in, o, k, k)), Tensor.wrap(b, o)).toFloatArray();
        int ow = w * k;
        float[] expected = new float[h * k * ow * o];
        for (int yy = 0; yy < h; yy++) {
            for (int xx = 0; xx < w; xx++) {
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        for (int oc = 0; oc < o; oc++) {
                            double s = b[oc];
                            for (int ic = 0; ic < in; ic++) {
                                s += x[(yy * w + xx) * in + ic] * wt[((ic * o + oc) * k + ky) * k + kx];
                            }
                            expected[((yy * k + ky) * ow + xx * k + kx) * o + oc] = (float) s;
                        }
                    }
                }
            }
        }
        assertClose(expected, y, 1e-5);
    }

    @Test
    void transposedConvolutionToChannelPlanesIsTheSameValues() {
        SplittableRandom rng = new SplittableRandom(4);
        // the last: rows read in chunks of 16 input columns, the last chunk partial
        for (int[] c : new int[][] {{3, 4, 5, 3, 2}, {8, 8, 16, 32, 2}, {2, 5, 3, 4, 3}, {3, 37, 8, 32, 2}}) {
            int h = c[0], w = c[1], in = c[2], o = c[3], k = c[4];
            Tensor x = Tensor.wrap(random(rng, h * w * in), (long) h * w, in);
            Tensor filters = Conv2d.transposedFilters(Tensor.wrap(random(rng, in * o * k * k), in, o, k, k));
            Tensor bias = Tensor.wrap(random(rng, o), o);
            Tensor rows = Conv2d.transposed(x, h, w, k, filters, bias);
            Tensor planes = Conv2d.transposedChannelsFirst(x, h, w, k, filters, bias);
            assertEquals(java.util.List.of((long) o, (long) h * k, (long) w * k),
                    java.util.Arrays.stream(planes.shape()).boxed().toList());
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    ChannelLayout.toChannelsFirst(rows, (long) h * k, (long) w * k).toFloatArray(), planes.toFloatArray());
        }
    }

    @Test
    void relativePositionFactorsAreTheDecomposedBias() {
        SplittableRandom rng = new SplittableRandom(3);
        int h = 3, w = 4, heads = 2, d = 5;
        float[] q = random(rng, h * w * heads * d), rh = random(rng, (2 * h - 1) * d), rw = random(rng, (2 * w - 1) * d);
        RelativePositionBias.Factors f = RelativePositionBias.compute(Tensor.wrap(q, (long) h * w, (long) heads * d), h, w,
                heads, Tensor.wrap(rh, 2 * h - 1, d), Tensor.wrap(rw, 2 * w - 1, d));
        float[] row = f.rowBias().toFloatArray(), col = f.colBias().toFloatArray();
        for (int hd = 0; hd < heads; hd++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int query = y * w + x;
                    for (int ky = 0; ky < h; ky++) {
                        double s = 0;
                        for (int c = 0; c < d; c++) {
                            s += q[query * heads * d + hd * d + c] * rh[(y - ky + h - 1) * d + c];
                        }
                        assertEquals(s, row[(hd * h * w + query) * h + ky], 1e-5);
                    }
                    for (int kx = 0; kx < w; kx++) {
                        double s = 0;
                        for (int c = 0; c < d; c++) {
                            s += q[query * heads * d + hd * d + c] * rw[(x - kx + w - 1) * d + c];
                        }
                        assertEquals(s, col[(hd * h * w + query) * w + kx], 1e-5);
                    }
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> RelativePositionBias.compute(
                Tensor.wrap(q, (long) h * w, (long) heads * d), h, w, heads, Tensor.wrap(rw, 2 * w - 1, d),
                Tensor.wrap(rw, 2 * w - 1, d)));
    }

    @Test
    void pillowBilinearMatchesPillow() {
        // Pillow 9.4: Image.fromarray(np.array([[0, 100, 200, 240]], np.uint8), "L").resize((2, 1), Image.BILINEAR)
        // gives [71, 203] (shrinking: the triangle stretched to 3 taps, weights 3/7, 3/7, 1/7 and 1/7, 3/7, 3/7);
        // [[0, 100, 200, 240, 17]] resized to (8, 1) gives [0, 44, 106, 169, 213, 238, 115, 17] (enlarging)
        byte[] down = PillowResize.resize(new byte[] {0, 100, (byte) 200, (byte) 240}, 4, 1, 1, 2, 1,
                PillowResize.Filter.BILINEAR);
        assertEquals(71, down[0] & 0xFF);
        assertEquals(203, down[1] & 0xFF);
        byte[] up = PillowResize.resize(new byte[] {0, 100, (byte) 200, (byte) 240, 17}, 5, 1, 1, 8, 1,
                PillowResize.Filter.BILINEAR);
        int[] expected = {0, 44, 106, 169, 213, 238, 115, 17};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], up[i] & 0xFF, "pixel " + i);
        }
    }
}
