package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class ResidualTest {
    /** Exactly torch's rounding: the product rounded to float, then the sum (row lengths around a vector's lanes). */
    @Test
    void addScaledMultipliesThenAddsPerChannel() {
        Random rnd = new Random(5);
        for (int c : new int[] {1, 7, 16, 67}) {
            int rows = 13;
            float[] y = Close.random(rnd, rows * c, -1f, 1f);
            float[] x = Close.random(rnd, rows * c, -1f, 1f);
            float[] g = Close.random(rnd, c, -1f, 1f);
            Tensor xt = Tensor.copyOf(x, rows, c);
            Residual.addScaled(Tensor.copyOf(y, rows, c), g, xt);
            for (int i = 0; i < rows * c; i++) {
                float scaled = y[i] * g[i % c];
                assertEquals(scaled + x[i], xt.getFloat(i), "element " + i + " of rows of " + c);
            }
        }
    }

    /** x += y exactly, for sizes around the vector width and the block size, including 0 and 1. */
    @Test
    void addSumsElementwise() {
        Random rnd = new Random(6);
        for (int n : new int[] {0, 1, 15, 16, 17, 4095, 4096, 4097, 70001}) {
            float[] y = Close.random(rnd, n, -1f, 1f);
            float[] x = Close.random(rnd, n, -1f, 1f);
            Tensor xt = Tensor.copyOf(x, n);
            Residual.add(Tensor.copyOf(y, n), xt);
            for (int i = 0; i < n; i++) {
                assertEquals(x[i] + y[i], xt.getFloat(i), "element " + i + " of " + n);
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> Residual.add(Tensor.zeros(DType.F32, 2, 3), Tensor.zeros(DType.F32, 3, 2)));
    }

    @Test
    void rejectsMismatches() {
        assertThrows(IllegalArgumentException.class,
                () -> Residual.addScaled(Tensor.zeros(DType.F32, 2, 3), new float[2], Tensor.zeros(DType.F32, 2, 3)));
        assertThrows(IllegalArgumentException.class,
                () -> Residual.addScaled(Tensor.zeros(DType.F32, 2, 3), new float[3], Tensor.zeros(DType.F32, 3, 2)));
    }
}
