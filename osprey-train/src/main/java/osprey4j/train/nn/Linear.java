package osprey4j.train.nn;

import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.GemmGrad;
import osprey4j.core.tensor.Tensor;

/** {@code nn.Linear} y[M,N] = x[M,K] · W[N,K]^T + b[N] and its backward, on row-major F32 arrays. */
public final class Linear {
    private Linear() {
    }

    /** y = x · W^T + b (b may be null). */
    public static float[] forward(float[] x, int m, float[] w, float[] b, int n, int k) {
        float[] y = new float[m * n];
        if (m == 0) {
            return y;
        }
        Gemm.linear(Tensor.wrap(x, m, k), Tensor.wrap(w, n, k), b == null ? null : Tensor.wrap(b, n), Tensor.wrap(y, m, n));
        return y;
    }

    /**
     * Accumulates dW += dy^T · x and db += column sums of dy (each skipped when null) and returns
     * dx = dy · W, or null when {@code needInput} is false.
     */
    public static float[] backward(float[] dy, float[] x, int m, float[] w, float[] dw, float[] db, int n, int k,
                                   boolean needInput) {
        if (m > 0 && dw != null) {
            GemmGrad.weightGrad(dy, x, dw, m, n, k);
        }
        if (m > 0 && db != null) {
            GemmGrad.biasGrad(dy, db, m, n);
        }
        if (!needInput) {
            return null;
        }
        float[] dx = new float[m * k];
        if (m > 0) {
            GemmGrad.inputGrad(dy, w, dx, m, n, k, false);
        }
        return dx;
    }
}
