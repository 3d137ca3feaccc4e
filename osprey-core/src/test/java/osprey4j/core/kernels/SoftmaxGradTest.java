package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link SoftmaxGrad#backwardCausal} against the scalar double formula. Tolerance: an F32 dot of up to n terms
 * (relative ~sqrt(n) eps) then two roundings: 1e-6 relative to sum |p dp| + |dp|.
 */
class SoftmaxGradTest {
    @ParameterizedTest
    @CsvSource({"1,1,0", "3,3,0", "7,7,0", "5,20,15", "33,33,0", "17,40,10"})
    void matchesScalar(int rows, int n, int first) {
        SplittableRandom rnd = new SplittableRandom(rows * 100 + n);
        float[] p = new float[rows * n], dp = new float[rows * n];
        for (int r = 0; r < rows; r++) {
            int len = first + r + 1;
            double sum = 0;
            for (int j = 0; j < len; j++) {
                p[r * n + j] = (float) rnd.nextDouble();
                sum += p[r * n + j];
            }
            for (int j = 0; j < len; j++) {
                p[r * n + j] /= (float) sum;
            }
            for (int j = 0; j < n; j++) {
                dp[r * n + j] = (float) (rnd.nextDouble() * 2 - 1);
            }
        }
        float[] in = dp.clone();
        SoftmaxGrad.backwardCausal(p, dp, rows, n, first, 0.37f);
        for (int r = 0; r < rows; r++) {
            int len = first + r + 1;
            double dot = 0, scale = 0;
            for (int j = 0; j < len; j++) {
                dot += (double) p[r * n + j] * in[r * n + j];
                scale += Math.abs((double) p[r * n + j] * in[r * n + j]);
            }
            for (int j = 0; j < n; j++) {
                double expected = j < len ? p[r * n + j] * (in[r * n + j] - dot) * 0.37 : 0;
                assertEquals(expected, dp[r * n + j], 1e-6 * (scale + Math.abs(in[r * n + j])), "row " + r + " col " + j);
            }
        }
    }
}
