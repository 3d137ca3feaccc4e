package osprey4j.train.nn;

/**
 * LLaMA's RMSNorm, y = w * x / sqrt(mean(x^2) + eps) (HF {@code LlamaRMSNorm}: the mean in F32), per row.
 * Backward, with r = 1/sqrt(mean(x^2) + eps): dw += sum_rows dy * x * r and
 * dx = r * (w * dy) - x * r^3 / D * sum(w * dy * x).
 */
public final class RmsNorm {
    private RmsNorm() {
    }

    /** Writes y and the per-row r (kept for the backward). */
    public static void forward(float[] x, float[] w, float eps, int rows, int d, float[] y, float[] r) {
        for (int t = 0; t < rows; t++) {
            int o = t * d;
            float ss = 0;
            for (int i = 0; i < d; i++) {
                ss += x[o + i] * x[o + i];
            }
            float rt = (float) (1 / Math.sqrt(ss / d + eps));
            r[t] = rt;
            for (int i = 0; i < d; i++) {
                y[o + i] = w[i] * (x[o + i] * rt);
            }
        }
    }

    /** Adds dx into {@code dx} and (when non-null) dw into {@code dw}. */
    public static void backward(float[] dy, float[] x, float[] w, float[] r, int rows, int d, float[] dx, float[] dw) {
        for (int t = 0; t < rows; t++) {
            int o = t * d;
            float rt = r[t];
            double dot = 0;
            for (int i = 0; i < d; i++) {
                dot += (double) w[i] * dy[o + i] * x[o + i];
                if (dw != null) {
                    dw[i] += dy[o + i] * x[o + i] * rt;
                }
            }
            float c = (float) (dot * rt * rt * rt / d);
            for (int i = 0; i < d; i++) {
                dx[o + i] += rt * w[i] * dy[o + i] - x[o + i] * c;
            }
        }
    }
}
