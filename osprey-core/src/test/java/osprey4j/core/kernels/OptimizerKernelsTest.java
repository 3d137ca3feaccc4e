package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link OptimizerKernels} against the scalar F32 formulas written as torch's AdamW does them. Tolerance: the
 * vector code performs the same F32 operations in the same order except the divisions by bc2Sqrt and the
 * denominator, which may differ in the last bit: 4 ulps of the result (relative 5e-7) for AdamW, 1e-6
 * relative for the sum of squares (F32 partial sums), exact for scaling.
 */
class OptimizerKernelsTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 15, 17, 1000, 16384, 40000})
    void adamWMatchesTheScalarUpdate(int n) {
        SplittableRandom rnd = new SplittableRandom(n);
        float[] w = new float[n], g = new float[n], m = new float[n], v = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) rnd.nextDouble(-1, 1);
            g[i] = (float) rnd.nextDouble(-1, 1);
            m[i] = (float) rnd.nextDouble(-0.1, 0.1);
            v[i] = (float) rnd.nextDouble(0, 0.01);
        }
        float[] w2 = w.clone(), m2 = m.clone(), v2 = v.clone();
        float keep = 0.999f, b1 = 0.9f, b2 = 0.999f, step = 1.3e-3f, bc2 = 0.2f, eps = 1e-8f;
        OptimizerKernels.adamW(w, g, m, v, n, keep, b1, b2, step, bc2, eps);
        for (int i = 0; i < n; i++) {
            float mi = m2[i] * b1 + g[i] * (1f - b1);
            float vi = v2[i] * b2 + (1f - b2) * g[i] * g[i];
            float wi = w2[i] * keep - step * (mi / ((float) Math.sqrt(vi) / bc2 + eps));
            assertEquals(mi, m[i], 4 * Math.ulp(mi));
            assertEquals(vi, v[i], 4 * Math.ulp(vi));
            assertEquals(wi, w[i], 4 * Math.ulp(wi) + 4 * Math.ulp(step));
        }
        double s = 0;
        for (float x : g) {
            s += (double) x * x;
        }
        assertEquals(s, OptimizerKernels.sumOfSquares(g, n), 1e-6 * s);
        float[] c = g.clone();
        OptimizerKernels.scale(c, n, 0.37f);
        for (int i = 0; i < n; i++) {
            assertEquals(g[i] * 0.37f, c[i]);
        }
    }
}
