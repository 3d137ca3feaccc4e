package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
}
