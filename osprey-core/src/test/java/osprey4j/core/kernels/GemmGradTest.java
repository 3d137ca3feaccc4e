package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * {@link GemmGrad} against scalar double-precision loops. Tolerance as in {@link GemmTest}: F32 rounding of
 * a J-term sum of random-sign terms is about sqrt(J) * eps * (sum of |terms|); we allow 4 sqrt(J) eps times
 * that scale plus a ulp of the result. A wrong or missing term is off by a whole term, far above this.
 * The shapes cover the in-place tiles (full 4-row panels, narrow and masked panels, row edges) and, from
 * {@link GemmGrad#GEMM_FMAS} multiply-adds on, the transposed route through {@link Gemm}.
 */
class GemmGradTest {
    private static final double EPS = Math.ulp(1.0f);

    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @CsvSource({"1,1,1", "3,5,7", "4,9,64", "7,20,20", "5,33,65", "9,16,130", "13,300,47", "64,70,129", "2,1000,20", "8,33,40",
            "100,300,70", "64,129,300", "17,2000,65"})
    void inputGradMatchesScalar(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(m * 1000L + n * 10L + k);
        float[] dy = random(rnd, m * n), w = random(rnd, n * k), start = random(rnd, m * k);
        for (boolean accumulate : new boolean[] {false, true}) {
            float[] dx = start.clone();
            GemmGrad.inputGrad(dy, w, dx, m, n, k, accumulate);
            for (int i = 0; i < m; i++) {
                for (int c = 0; c < k; c++) {
                    double s = accumulate ? start[i * k + c] : 0, scale = Math.abs(s);
                    for (int j = 0; j < n; j++) {
                        s += (double) dy[i * n + j] * w[j * k + c];
                        scale += Math.abs((double) dy[i * n + j] * w[j * k + c]);
                    }
                    assertEquals(s, dx[i * k + c], 4 * Math.sqrt(n + 1) * EPS * scale + Math.ulp((float) s),
                            "dX[" + i + "," + c + "] accumulate=" + accumulate);
                }
            }
        }
    }

    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @CsvSource({"1,1,1", "3,5,7", "4,9,64", "7,20,20", "5,33,65", "9,16,130", "300,13,47", "70,64,129", "20,1000,20", "8,33,40",
            "300,100,70", "129,64,300", "2000,17,65"})
    void weightGradMatchesScalar(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(m * 1000L + n * 10L + k + 1);
        float[] dy = random(rnd, m * n), x = random(rnd, m * k), start = random(rnd, n * k);
        float[] dw = start.clone();
        GemmGrad.weightGrad(dy, x, dw, m, n, k);
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < k; c++) {
                double s = start[j * k + c], scale = Math.abs(s);
                for (int i = 0; i < m; i++) {
                    s += (double) dy[i * n + j] * x[i * k + c];
                    scale += Math.abs((double) dy[i * n + j] * x[i * k + c]);
                }
                assertEquals(s, dw[j * k + c], 4 * Math.sqrt(m + 1) * EPS * scale + Math.ulp((float) s),
                        "dW[" + j + "," + c + "]");
            }
        }
    }

    @Test
    void biasGradAndDot() {
        SplittableRandom rnd = new SplittableRandom(5);
        int m = 7, n = 37;
        float[] dy = random(rnd, m * n), db = random(rnd, n), start = db.clone();
        GemmGrad.biasGrad(dy, db, m, n);
        for (int j = 0; j < n; j++) {
            double s = start[j];
            for (int i = 0; i < m; i++) {
                s += dy[i * n + j];
            }
            assertEquals(s, db[j], 1e-5);
        }
        float[] x = random(rnd, 45), y = random(rnd, 45);
        double d = 0;
        for (int i = 0; i < 43; i++) {
            d += (double) x[i + 2] * y[i];
        }
        assertEquals(d, GemmGrad.dot(x, 2, y, 0, 43), 1e-5);
    }

    @Test
    void tooSmallArraysAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> GemmGrad.inputGrad(new float[5], new float[6], new float[6], 2, 3, 2, false));
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }
}
