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

    @ParameterizedTest(name = "M={0} N={1} K={2} java={3}")
    @CsvSource({"1,1,1,false", "3,5,7,false", "4,9,64,false", "7,20,20,false", "5,33,65,false", "9,16,130,false",
            "13,300,47,false", "64,70,129,false", "2,1000,20,false", "8,33,40,false", "100,300,70,false",
            "64,129,300,false", "64,129,300,true", "17,2000,65,false", "17,2000,65,true", "300,512,193,false",
            "300,512,193,true"})
    void inputGradMatchesScalar(int m, int n, int k, boolean javaOnly) {
        SplittableRandom rnd = new SplittableRandom(m * 1000L + n * 10L + k);
        float[] dy = random(rnd, m * n), w = random(rnd, n * k), start = random(rnd, m * k);
        for (boolean accumulate : new boolean[] {false, true}) {
            float[] dx = start.clone();
            run(javaOnly, () -> GemmGrad.inputGrad(dy, w, dx, m, n, k, accumulate));
            for (int i = 0; i < m; i++) {
                for (int c = 0; c < k; c++) {
                    int row = i, col = c;
                    assertSum(accumulate ? start[i * k + c] : 0, n, j -> (double) dy[row * n + j] * w[j * k + col],
                            dx[i * k + c], "dX[" + i + "," + c + "] accumulate=" + accumulate);
                }
            }
        }
    }

    @ParameterizedTest(name = "M={0} N={1} K={2} java={3}")
    @CsvSource({"1,1,1,false", "3,5,7,false", "4,9,64,false", "7,20,20,false", "5,33,65,false", "9,16,130,false",
            "300,13,47,false", "70,64,129,false", "20,1000,20,false", "8,33,40,false", "300,100,70,false",
            "129,64,300,false", "129,64,300,true", "2000,17,65,false", "2000,17,65,true", "601,193,257,false",
            "601,193,257,true"})
    void weightGradMatchesScalar(int m, int n, int k, boolean javaOnly) {
        SplittableRandom rnd = new SplittableRandom(m * 1000L + n * 10L + k + 1);
        float[] dy = random(rnd, m * n), x = random(rnd, m * k), start = random(rnd, n * k);
        float[] dw = start.clone();
        run(javaOnly, () -> GemmGrad.weightGrad(dy, x, dw, m, n, k));
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < k; c++) {
                int row = j, col = c;
                assertSum(start[j * k + c], m, i -> (double) dy[i * n + row] * x[i * k + col], dw[j * k + c],
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

    /**
     * The Java path of {@link Gemm#matmulTransposedX} packs x in slices of the reduction when x is large; with a
     * small budget the slices (each after the first added to out) give the same sums.
     */
    @Test
    void transposedXInSlicesOfTheReduction() {
        SplittableRandom rnd = new SplittableRandom(11);
        int k = 37, m = 21, n = 29;
        float[] xT = random(rnd, k * m), w = random(rnd, k * n), start = random(rnd, m * n);
        for (boolean accumulate : new boolean[] {false, true}) {
            float[] out = start.clone();
            Gemm.transposedXBlocked(java.lang.foreign.MemorySegment.ofArray(xT), k, m,
                    java.lang.foreign.MemorySegment.ofArray(w), n, java.lang.foreign.MemorySegment.ofArray(out),
                    accumulate, 5L * (m + Gemm.MR));
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    int row = i, col = j;
                    assertSum(accumulate ? start[i * n + j] : 0, k, kk -> (double) xT[kk * m + row] * w[kk * n + col],
                            out[i * n + j], "out[" + i + "," + j + "] accumulate=" + accumulate);
                }
            }
        }
    }

    /**
     * {@code actual} against start + the sum of {@code terms} terms in double, within the tolerance of the class
     * comment: 4 sqrt(J) eps times the sum of |terms| (start included), plus a ulp of the result.
     */
    private static void assertSum(double start, int terms, java.util.function.IntToDoubleFunction term, float actual,
                                  String what) {
        double s = start, scale = Math.abs(start);
        for (int t = 0; t < terms; t++) {
            double v = term.applyAsDouble(t);
            s += v;
            scale += Math.abs(v);
        }
        assertEquals(s, actual, 4 * Math.sqrt(terms + 1) * EPS * scale + Math.ulp((float) s), what);
    }

    private static void run(boolean javaOnly, Runnable product) {
        if (javaOnly) {
            Gemm.inJava(product);
        } else {
            product.run();
        }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }

    /**
     * The in-place product bitwise against its own order of operations done in scalars: per element of C, F32
     * fused multiply-adds over j from zero, then added to C. Shapes cover full panels, narrow panels of whole and
     * partial vectors, and the row edge, for both layouts of A.
     */
    @Test
    void productSameBitsAsScalarFusedMultiplyAdds() {
        SplittableRandom rnd = new SplittableRandom(23);
        for (int ni : new int[] {1, 3, 4, 5, 8, 9}) {
            for (int nk : new int[] {1, 3, 7, 8, 9, 16, 17, 31, 32, 33, 40, 47, 64, 65, 70, 100}) {
                for (int nj : new int[] {1, 2, 17}) {
                    for (boolean aT : new boolean[] {false, true}) {
                        float[] a = random(rnd, ni * nj), b = random(rnd, nj * nk), start = random(rnd, ni * nk);
                        for (boolean accumulate : new boolean[] {false, true}) {
                            float[] c = start.clone();
                            GemmGrad.product(a, aT, b, c, ni, nj, nk, accumulate);
                            float[] expected = new float[ni * nk];
                            for (int i = 0; i < ni; i++) {
                                for (int kk = 0; kk < nk; kk++) {
                                    float acc = 0f;
                                    for (int j = 0; j < nj; j++) {
                                        acc = Math.fma(b[j * nk + kk], aT ? a[j * ni + i] : a[i * nj + j], acc);
                                    }
                                    expected[i * nk + kk] = (accumulate ? start[i * nk + kk] : 0f) + acc;
                                }
                            }
                            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, c, "I=" + ni + " J=" + nj
                                    + " K=" + nk + " aT=" + aT + " accumulate=" + accumulate);
                        }
                    }
                }
            }
        }
    }
}
