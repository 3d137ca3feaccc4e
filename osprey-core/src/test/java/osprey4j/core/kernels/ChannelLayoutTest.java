package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/** The layout changes and patch gathering against index arithmetic, on sizes that do not fill the tiles. */
class ChannelLayoutTest {
    @Test
    void toChannelsLastIsATranspose() {
        for (int[] s : new int[][] {{1, 1, 1}, {3, 5, 7}, {70, 9, 15}, {130, 66, 65}}) {
            int c = s[0], h = s[1], w = s[2];
            Tensor x = random(c, DType.F32, c, h, w);
            Tensor y = ChannelLayout.toChannelsLast(x);
            assertArrayEquals(new long[] {(long) h * w, c}, y.shape());
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < h * w; p++) {
                    assertEquals(x.getFloat((long) ch * h * w + p), y.getFloat((long) p * c + ch));
                }
            }
        }
    }

    @Test
    void toChannelsFirstIsTheInverseTranspose() {
        for (int[] s : new int[][] {{1, 1, 1}, {3, 5, 7}, {70, 9, 15}, {130, 66, 65}}) {
            int c = s[0], h = s[1], w = s[2];
            Tensor x = random(c + 1, DType.F32, (long) h * w, c);
            Tensor y = ChannelLayout.toChannelsFirst(x, h, w);
            assertArrayEquals(new long[] {c, h, w}, y.shape());
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < h * w; p++) {
                    assertEquals(x.getFloat((long) p * c + ch), y.getFloat((long) ch * h * w + p));
                }
            }
        }
    }

    /** A k x k stride-k conv as patch rows times tap-major filters equals the direct sum (odd sizes drop edges). */
    @Test
    void patchRowsTimesTapMajorFiltersIsTheStridedConvolution() {
        int c = 5, o = 3, k = 2, h = 7, w = 9;
        Tensor x = random(5, DType.F32, (long) h * w, c); // channels-last
        Tensor filters = random(6, DType.F16, o, c, k, k);
        Tensor rows = Tensor.zeros(DType.F32, (long) (h / k) * (w / k), (long) k * k * c);
        Conv2d.patchRows(x, h, w, k, rows);
        Tensor tapMajor = Conv2d.filtersTapMajor(filters);
        assertArrayEquals(new long[] {o, (long) k * k * c}, tapMajor.shape());
        for (int py = 0; py < h / k; py++) {
            for (int px = 0; px < w / k; px++) {
                int patch = py * (w / k) + px;
                for (int oc = 0; oc < o; oc++) {
                    double direct = 0, viaRows = 0;
                    for (int ch = 0; ch < c; ch++) {
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int pixel = (py * k + ky) * w + px * k + kx;
                                direct += (double) x.getFloat((long) pixel * c + ch)
                                        * filters.getFloat(((long) (oc * c + ch) * k + ky) * k + kx);
                            }
                        }
                    }
                    for (int j = 0; j < k * k * c; j++) {
                        viaRows += (double) rows.getFloat((long) patch * k * k * c + j)
                                * tapMajor.getFloat((long) oc * k * k * c + j);
                    }
                    assertEquals(direct, viaRows, 1e-9);
                }
            }
        }
    }

    @Test
    void imagePatchRowsFollowTheFiltersOwnOrder() {
        int c = 3, k = 4, h = 9, w = 13;
        Tensor img = random(9, DType.F32, c, h, w);
        Tensor rows = Conv2d.imagePatchRows(img, k);
        assertArrayEquals(new long[] {(long) (h / k) * (w / k), (long) c * k * k}, rows.shape());
        for (int py = 0; py < h / k; py++) {
            for (int px = 0; px < w / k; px++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int ky = 0; ky < k; ky++) {
                        for (int kx = 0; kx < k; kx++) {
                            long row = (long) py * (w / k) + px;
                            assertEquals(img.getFloat(((long) ch * h + py * k + ky) * w + px * k + kx),
                                    rows.getFloat(row * c * k * k + (ch * k + ky) * k + kx));
                        }
                    }
                }
            }
        }
    }

    private static Tensor random(long seed, DType dtype, long... shape) {
        float[] a = Close.random(new Random(seed), Math.toIntExact(Tensor.numel(shape)), -1f, 1f);
        return Tensor.copyOf(a, shape).to(dtype);
    }
}
