package osprey4j.train.nn;

/**
 * LayerNorm over the last dimension of row-major [rows, d] arrays, as torch's {@code F.layer_norm} (biased
 * variance, eps inside the root): y = w * (x - mean) * rstd + b. Backward, with xhat = (x - mean) * rstd and
 * g = w * dy: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), dw += sum_rows dy * xhat, db += sum_rows dy.
 * The ConvNeXt tower uses it channels-last for both its {@code LayerNorm2d} and its blocks' norms.
 */
public final class LayerNorm {
    private LayerNorm() {
    }

    /** Writes y and the per-row mean and rstd (kept for the backward). */
    public static void forward(float[] x, float[] w, float[] b, float eps, int rows, int d, float[] y, float[] mean,
                               float[] rstd) {
        for (int t = 0; t < rows; t++) {
            int o = t * d;
            double s = 0;
            for (int i = 0; i < d; i++) {
                s += x[o + i];
            }
            float mu = (float) (s / d);
            double v = 0;
            for (int i = 0; i < d; i++) {
                float c = x[o + i] - mu;
                v += c * c;
            }
            float r = (float) (1 / Math.sqrt(v / d + eps));
            mean[t] = mu;
            rstd[t] = r;
            for (int i = 0; i < d; i++) {
                y[o + i] = (x[o + i] - mu) * r * w[i] + b[i];
            }
        }
    }

    /** Adds dx into {@code dx} and (each when non-null) the weight and bias gradients into dw and db. */
    public static void backward(float[] dy, float[] x, float[] w, float[] mean, float[] rstd, int rows, int d,
                                float[] dx, float[] dw, float[] db) {
        for (int t = 0; t < rows; t++) {
            int o = t * d;
            float mu = mean[t], r = rstd[t];
            double sg = 0, sgx = 0;
            for (int i = 0; i < d; i++) {
                float xhat = (x[o + i] - mu) * r;
                float g = w[i] * dy[o + i];
                sg += g;
                sgx += g * xhat;
                if (dw != null) {
                    dw[i] += dy[o + i] * xhat;
                }
                if (db != null) {
                    db[i] += dy[o + i];
                }
            }
            float mg = (float) (sg / d), mgx = (float) (sgx / d);
            if (dx == null) {
                continue;
            }
            for (int i = 0; i < d; i++) {
                float xhat = (x[o + i] - mu) * r;
                dx[o + i] += r * (w[i] * dy[o + i] - mg - xhat * mgx);
            }
        }
    }
}
