package osprey4j.train.nn;

import osprey4j.core.concurrent.ComputePool;

/**
 * LayerNorm over the last dimension of row-major [rows, d] arrays, as torch's {@code F.layer_norm} (biased
 * variance, eps inside the root): y = w * (x - mean) * rstd + b. Backward, with xhat = (x - mean) * rstd and
 * g = w * dy: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), dw += sum_rows dy * xhat, db += sum_rows dy.
 * The ConvNeXt tower uses it channels-last for both its {@code LayerNorm2d} and its blocks' norms.
 *
 * <p>Rows run in parallel on the compute pool. The weight and bias gradients are sums over rows: each of a fixed
 * number of row parts sums into its own buffer and the parts are added in order, so results do not depend on
 * thread timing.
 */
public final class LayerNorm {
    private LayerNorm() {
    }

    /** Values a part of rows holds at least: enough that the part outweighs handing it to a thread. */
    private static final int MIN_VALUES_PER_PART = 1 << 14;

    /** Writes y and the per-row mean and rstd (kept for the backward). */
    public static void forward(float[] x, float[] w, float[] b, float eps, int rows, int d, float[] y, float[] mean,
                               float[] rstd) {
        ComputePool.parallelFor(rows, minRows(d), (from, to) -> forwardRows(x, w, b, eps, from, to, d, y, mean, rstd));
    }

    private static int minRows(int d) {
        return Math.max(1, MIN_VALUES_PER_PART / Math.max(1, d));
    }

    private static void forwardRows(float[] x, float[] w, float[] b, float eps, int from, int to, int d, float[] y,
                                    float[] mean, float[] rstd) {
        for (int t = from; t < to; t++) {
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
        int parts = rows == 0 ? 0 : (int) Math.min(ComputePool.threads(), Math.max(1, rows / minRows(d)));
        float[][] pdw = new float[parts][], pdb = new float[parts][];
        ComputePool.parallelFor(parts, 1, (from, to) -> {
            for (int part = from; part < to; part++) {
                pdw[part] = dw == null ? null : new float[d];
                pdb[part] = db == null ? null : new float[d];
                int r0 = (int) ((long) rows * part / parts), r1 = (int) ((long) rows * (part + 1) / parts);
                backwardRows(dy, x, w, mean, rstd, r0, r1, d, dx, pdw[part], pdb[part]);
            }
        });
        for (int part = 0; part < parts; part++) {
            for (int i = 0; i < d; i++) {
                if (dw != null) {
                    dw[i] += pdw[part][i];
                }
                if (db != null) {
                    db[i] += pdb[part][i];
                }
            }
        }
    }

    private static void backwardRows(float[] dy, float[] x, float[] w, float[] mean, float[] rstd, int from, int to,
                                     int d, float[] dx, float[] dw, float[] db) {
        for (int t = from; t < to; t++) {
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
