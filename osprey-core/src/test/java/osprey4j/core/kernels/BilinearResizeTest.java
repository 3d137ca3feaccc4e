package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class BilinearResizeTest {
    @Test
    void matchesTorchInterpolate() {
        for (Fixtures.Case c : Fixtures.cases("torch_bilinear")) {
            Tensor out = BilinearResize.resize(c.tensor("input"), c.param("out_height"), c.param("out_width"));
            assertArrayEquals(c.shape("output"), new int[]{out.size(0), out.size(1), out.size(2)}, c.name());
            // Same taps and weights as torch; torch's compiled kernel orders/fuses the four multiply-adds
            // differently, which moves results by up to 2 ulp: 4.8e-7 for values of size <= 3 (inputs in [-3, 3]).
            Close.assertClose(c.floats("output"), out.toFloatArray(), 5e-7, 0, c.name());
        }
    }

    @Test
    void matchesScalarReference() {
        Random rnd = new Random(41);
        int[][] cases = {{3, 10, 10, 10, 10}, {1, 7, 5, 19, 33}, {2, 40, 31, 9, 4}, {1, 1, 1, 1, 1}, {1, 1, 20, 3, 17},
            {1, 20, 1, 33, 2}, {2, 64, 64, 512, 512}, {1, 100, 3, 17, 3}};
        for (int[] cs : cases) {
            int c = cs[0], h = cs[1], w = cs[2], oh = cs[3], ow = cs[4];
            float[] x = Close.random(rnd, c * h * w, -2f, 2f);
            Tensor out = BilinearResize.resize(Tensor.copyOf(x, c, h, w), oh, ow);
            // the reference combines the same float weights in double: a few float roundings apart
            Close.assertClose(ScalarKernels.bilinear(x, c, h, w, oh, ow), out.toFloatArray(), 1e-6, 1e-6,
                    java.util.Arrays.toString(cs));
        }
    }

    @Test
    void resizeCropResizeIsBitwiseTheThreeSteps() {
        Random rnd = new Random(43);
        // {c, h, w, midH, midW, cropH, cropW, outH, outW}: SAM's shapes (256 -> 1024, crop, to the original size,
        // smaller or larger), axes that do not change, and odd sizes
        int[][] cases = {{3, 16, 16, 64, 64, 48, 64, 30, 40}, {3, 16, 16, 64, 64, 64, 48, 100, 75},
            {2, 16, 16, 64, 64, 64, 64, 64, 64}, {1, 16, 16, 64, 64, 48, 64, 48, 64}, {1, 7, 9, 13, 21, 13, 5, 3, 17},
            {2, 5, 5, 5, 5, 5, 5, 9, 2}, {1, 1, 1, 8, 8, 3, 8, 1, 1}, {1, 32, 32, 128, 128, 96, 128, 240, 320},
            {4, 64, 64, 256, 256, 192, 256, 377, 502}};
        for (int[] cs : cases) {
            int c = cs[0], h = cs[1], w = cs[2];
            float[] x = Close.random(rnd, c * h * w, -20f, 20f);
            Tensor in = Tensor.copyOf(x, c, h, w);
            Tensor mid = BilinearResize.resize(in, cs[3], cs[4]);
            Tensor cropped = Tensor.zeros(DType.F32, c, cs[5], cs[6]);
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < cs[5]; y++) {
                    for (int xx = 0; xx < cs[6]; xx++) {
                        cropped.setFloat(((long) ch * cs[5] + y) * cs[6] + xx,
                                mid.getFloat(((long) ch * cs[3] + y) * cs[4] + xx));
                    }
                }
            }
            float[] expected = BilinearResize.resize(cropped, cs[7], cs[8]).toFloatArray();
            Tensor fused = BilinearResize.resizeCropResize(in, cs[3], cs[4], cs[5], cs[6], cs[7], cs[8]);
            assertArrayEquals(new long[]{c, cs[7], cs[8]}, fused.shape());
            assertArrayEquals(expected, fused.toFloatArray(), java.util.Arrays.toString(cs));
        }
        assertThrows(IllegalArgumentException.class,
                () -> BilinearResize.resizeCropResize(Tensor.zeros(DType.F32, 1, 4, 4), 8, 8, 9, 8, 4, 4));
    }

    @Test
    void emptyAndInvalidSizes() {
        assertArrayEquals(new long[]{2, 0, 5}, BilinearResize.resize(Tensor.zeros(DType.F32, 2, 3, 3), 0, 5).shape());
        assertThrows(IllegalArgumentException.class, () -> BilinearResize.resize(Tensor.zeros(DType.F32, 1, 0, 3), 2, 2));
        assertThrows(IllegalArgumentException.class, () -> BilinearResize.resize(Tensor.zeros(DType.F32, 1, 3, 3), -1, 2));
    }
}
