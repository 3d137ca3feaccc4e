package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class MaskPoolingTest {
    @Test
    void matchesScalarReference() {
        Random rnd = new Random(7);
        int[][] maps = {{0, 3, 3}, {1, 1, 1}, {3, 5, 7}, {17, 4, 9}, {33, 8, 8}};
        int[][] masks = {{1, 1}, {5, 7}, {2, 3}, {23, 11}, {64, 64}};
        for (int[] m : maps) {
            int c = m[0], h = m[1], w = m[2];
            float[] f = Close.random(rnd, c * h * w, -2f, 2f);
            for (int[] ms : masks) {
                for (double density : new double[]{0, 0.02, 0.5, 1}) {
                    float[] mask = new float[ms[0] * ms[1]];
                    for (int i = 0; i < mask.length; i++) {
                        mask[i] = rnd.nextDouble() < density ? 1f : 0f;
                    }
                    Tensor out = Tensor.zeros(DType.F32, 2, c);
                    int count = MaskPooling.pool(Tensor.copyOf(f, c, h, w), Tensor.copyOf(mask, ms[0], ms[1]), out.row(1));
                    float[] resized = ScalarKernels.bilinear(mask, 1, ms[0], ms[1], h, w);
                    int inside = 0;
                    for (float v : resized) {
                        inside += v > 0 ? 1 : 0;
                    }
                    String what = "pool " + c + "x" + h + "x" + w + " over " + ms[0] + "x" + ms[1] + " density " + density;
                    assertEquals(inside, count, what + ": inside pixels");
                    float[] expected = new float[2 * c];
                    double weight = 1f / (inside + 1e-8f);
                    for (int ch = 0; ch < c; ch++) {
                        double sum = 0;
                        for (int p = 0; p < h * w; p++) {
                            sum += resized[p] > 0 ? f[ch * h * w + p] : 0;
                        }
                        expected[c + ch] = (float) (sum * weight);
                    }
                    Close.assertClose(expected, out.toFloatArray(), 1e-7, 1e-6, what);
                }
            }
        }
    }

    @Test
    void refusesBadShapes() {
        Tensor f = Tensor.zeros(DType.F32, 4, 3, 3);
        assertThrows(IllegalArgumentException.class,
                () -> MaskPooling.pool(f, Tensor.zeros(DType.F32, 3, 3), Tensor.zeros(DType.F32, 3)));
        assertThrows(IllegalArgumentException.class,
                () -> MaskPooling.pool(f, Tensor.zeros(DType.F32, 0, 3), Tensor.zeros(DType.F32, 4)));
        assertThrows(IllegalArgumentException.class,
                () -> MaskPooling.pool(f, Tensor.zeros(DType.F32, 9), Tensor.zeros(DType.F32, 4)));
    }
}
