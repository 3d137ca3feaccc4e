package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * {@link ActivationGrads} against scalar double formulas (erf from a double series). Tolerance: VectorMath's
 * erf and exp are within ~2e-7 (absolute/relative), and the formulas add a few F32 roundings: 2e-6 times
 * max(1, |x|) times |dy| covers them; a wrong derivative is off by O(1).
 */
class ActivationGradsTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 1023, 1025, 5000})
    void matchScalarFormulas(int n) {
        SplittableRandom rnd = new SplittableRandom(n);
        float[] x = new float[n], u = new float[n], dy = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextDouble() * 16 - 8);
            u[i] = (float) (rnd.nextDouble() * 4 - 2);
            dy[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        float[] dx = new float[n], dg = new float[n], du = new float[n];
        ActivationGrads.geluBackward(x, dy, dx, n);
        ActivationGrads.siluGateBackward(x, u, dy, dg, du, n);
        for (int i = 0; i < n; i++) {
            double v = x[i];
            double cdf = 0.5 * (1 + erf(v / Math.sqrt(2)));
            double gelu = dy[i] * (cdf + v * Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI));
            double tol = 2e-6 * Math.max(1, Math.abs(v)) * Math.abs(dy[i]) + 1e-30;
            assertEquals(gelu, dx[i], tol, "gelu' at " + v);
            double s = 1 / (1 + Math.exp(-v));
            assertEquals(dy[i] * v * s, du[i], tol, "du at " + v);
            assertEquals(dy[i] * u[i] * s * (1 + v * (1 - s)), dg[i], tol * Math.max(1, Math.abs(u[i])), "dg at " + v);
        }
    }

    /** erf by its Maclaurin series (|x| < 3) or 1 - erfc continued fraction, in double. */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 3) {
            double term = ax, sum = ax;
            for (int k = 1; k < 200; k++) {
                term *= -ax * ax / k;
                sum += term / (2 * k + 1);
            }
            r = sum * 2 / Math.sqrt(Math.PI);
        } else {
            double f = ax;
            for (int k = 60; k >= 1; k--) {
                f = ax + k / 2.0 / f;
            }
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    /**
     * Bitwise against the kernels' formulas one element at a time (VectorMath's erf and exp of one value are the
     * same vector formulas): whole vectors and the masked tail give the same bits, for sizes around the vector
     * width and the 1024-float blocks.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 1023, 1024, 1025, 2053, 70_001})
    void sameBitsAsTheFormulasOneElementAtATime(int n) {
        SplittableRandom rnd = new SplittableRandom(n + 17);
        float[] x = new float[n], u = new float[n], dy = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextDouble() * 18 - 9);
            u[i] = (float) (rnd.nextDouble() * 4 - 2);
            dy[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        float[] dx = new float[n], dg = new float[n], du = new float[n];
        ActivationGrads.geluBackward(x, dy, dx, n);
        ActivationGrads.siluGateBackward(x, u, dy, dg, du, n);
        float[] edx = new float[n], edg = new float[n], edu = new float[n];
        for (int i = 0; i < n; i++) {
            float v = x[i];
            float cdf = (VectorMath.erf(v * 0.70710678118654752f) + 1f) * 0.5f;
            float pdf = VectorMath.exp(v * v * -0.5f) * 0.3989422804014327f;
            edx[i] = dy[i] * Math.fma(v, pdf, cdf);
            float s = 1f / (VectorMath.exp(-v) + 1f);
            edu[i] = dy[i] * v * s;
            edg[i] = dy[i] * u[i] * (s * (v * (-s + 1f) + 1f));
        }
        assertArrayEquals(edx, dx, "gelu' n=" + n);
        assertArrayEquals(edu, du, "du n=" + n);
        assertArrayEquals(edg, dg, "dg n=" + n);
    }
}
