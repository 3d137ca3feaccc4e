package osprey4j.core.kernels;

import osprey4j.core.tensor.Tensor;

/**
 * The plain definition of {@code Linear}, out[i][j] = bias[j] + sum_k x[i][k] W[j][k], with every element
 * read through {@link Tensor#getFloat} (the tensor's own scalar conversion) and summed in double, so it is
 * independent of the vector kernels and accurate well beyond F32.
 */
final class GemmReference {
    private GemmReference() {
    }

    /** x [M, K] (any leading shape flattened), w [N, K], bias null or [N]: returns M x N doubles row-major. */
    static double[] linear(Tensor x, Tensor w, Tensor bias) {
        int n = w.size(0);
        int k = w.size(1);
        int m = k == 0 ? rows(x) : Math.toIntExact(x.numel() / k);
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = bias == null ? 0 : bias.getFloat(j);
                for (int kk = 0; kk < k; kk++) {
                    s += (double) x.getFloat((long) i * k + kk) * w.getFloat((long) j * k + kk);
                }
                out[i * n + j] = s;
            }
        }
        return out;
    }

    /** sum_k |x[i][k] W[j][k]| + |bias[j]|: the scale that F32 rounding errors of the sum are relative to. */
    static double[] absLinear(Tensor x, Tensor w, Tensor bias) {
        int n = w.size(0);
        int k = w.size(1);
        int m = k == 0 ? rows(x) : Math.toIntExact(x.numel() / k);
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = bias == null ? 0 : Math.abs(bias.getFloat(j));
                for (int kk = 0; kk < k; kk++) {
                    s += Math.abs((double) x.getFloat((long) i * k + kk) * w.getFloat((long) j * k + kk));
                }
                out[i * n + j] = s;
            }
        }
        return out;
    }

    private static int rows(Tensor x) {
        long r = 1;
        for (int d = 0; d < x.rank() - 1; d++) {
            r *= x.dim(d);
        }
        return Math.toIntExact(r);
    }
}
