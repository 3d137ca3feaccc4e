package osprey4j.core.kernels;

/**
 * Plain scalar references for the kernels, written straight from the math (mostly in double) with no
 * vectorisation, tiling or parallelism, so that the kernels' tests have an independent oracle.
 * All arrays are row-major.
 */
final class ScalarKernels {
    private ScalarKernels() {
    }

    /**
     * erf in double from its everywhere-convergent series with positive terms:
     * {@code erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))} (no cancellation), which
     * is accurate to ~1e-15; above |x| = 6 erf is 1 to double precision.
     */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (ax > 6) {
            return Math.signum(x);
        }
        double term = ax;
        double sum = ax;
        for (int n = 1; n < 500 && term > 1e-18 * sum; n++) {
            term *= 2 * ax * ax / (2 * n + 1);
            sum += term;
        }
        return Math.copySign(2 / Math.sqrt(Math.PI) * Math.exp(-ax * ax) * sum, x);
    }

    static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /** softmax of the first {@code length} entries of each row of [rows, n]; the rest 0. */
    static float[] softmax(float[] x, int rows, int n, int[] lengthOfRow) {
        float[] out = new float[x.length];
        for (int r = 0; r < rows; r++) {
            int len = lengthOfRow[r];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < len; i++) {
                max = Math.max(max, x[r * n + i]);
            }
            double sum = 0;
            for (int i = 0; i < len; i++) {
                sum += Math.exp(x[r * n + i] - max);
            }
            for (int i = 0; i < len; i++) {
                out[r * n + i] = (float) (Math.exp(x[r * n + i] - max) / sum);
            }
        }
        return out;
    }

    /**
     * Scaled dot-product attention in double: q [queries, heads * d], k and v [keys, kvHeads * d], query head h
     * reading kv head h / (heads / kvHeads); causalFrom < 0 for none, else query i sees keys 0..causalFrom + i;
     * bias [heads, queries, keys] or null.
     */
    static float[] attention(float[] q, float[] k, float[] v, int queries, int keys, int heads, int kvHeads, int d,
                             int causalFrom, float[] bias) {
        float[] out = new float[queries * heads * d];
        int groups = heads / kvHeads;
        for (int i = 0; i < queries; i++) {
            int visible = causalFrom < 0 ? keys : causalFrom + i + 1;
            for (int h = 0; h < heads; h++) {
                int g = h / groups;
                double[] s = new double[visible];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                    double dot = 0;
                    for (int e = 0; e < d; e++) {
                        dot += (double) q[(i * heads + h) * d + e] * k[(j * kvHeads + g) * d + e];
                    }
                    s[j] = dot / Math.sqrt(d) + (bias == null ? 0 : bias[(h * queries + i) * keys + j]);
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < visible; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int e = 0; e < d; e++) {
                    double o = 0;
                    for (int j = 0; j < visible; j++) {
                        o += s[j] / sum * v[(j * kvHeads + g) * d + e];
                    }
                    out[(i * heads + h) * d + e] = (float) o;
                }
            }
        }
        return out;
    }

    /** LayerNorm over the last dimension of [rows, c], in double. */
    static float[] layerNorm(float[] x, int rows, int c, float[] w, float[] b, double eps) {
        float[] out = new float[x.length];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int i = 0; i < c; i++) {
                mean += x[r * c + i];
            }
            mean /= c;
            double var = 0;
            for (int i = 0; i < c; i++) {
                double d = x[r * c + i] - mean;
                var += d * d;
            }
            var /= c;
            double rstd = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < c; i++) {
                out[r * c + i] = (float) ((x[r * c + i] - mean) * rstd * w[i] + b[i]);
            }
        }
        return out;
    }

    /** LayerNorm across channels of a [c, h*w] map, per pixel: transpose, layerNorm, transpose back. */
    static float[] layerNorm2d(float[] x, int c, int pixels, float[] w, float[] b, double eps) {
        float[] t = new float[x.length];
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < pixels; p++) {
                t[p * c + ch] = x[ch * pixels + p];
            }
        }
        float[] n = layerNorm(t, pixels, c, w, b, eps);
        float[] out = new float[x.length];
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < pixels; p++) {
                out[ch * pixels + p] = n[p * c + ch];
            }
        }
        return out;
    }

    static float[] rmsNorm(float[] x, int rows, int c, float[] w, double eps) {
        float[] out = new float[x.length];
        for (int r = 0; r < rows; r++) {
            double ms = 0;
            for (int i = 0; i < c; i++) {
                ms += (double) x[r * c + i] * x[r * c + i];
            }
            double rs = 1 / Math.sqrt(ms / c + eps);
            for (int i = 0; i < c; i++) {
                out[r * c + i] = (float) (w[i] * (x[r * c + i] * rs));
            }
        }
        return out;
    }

    /**
     * Rotary embedding of [seq, heads, d] with rotate_half, the angle computed as Hugging Face does in float
     * (inv_freq and position * inv_freq rounded to float) and the rotation in double.
     */
    static float[] rotary(float[] x, int seq, int heads, int d, double theta, int[] positions) {
        float[] out = new float[x.length];
        int half = d / 2;
        for (int s = 0; s < seq; s++) {
            for (int h = 0; h < heads; h++) {
                int base = (s * heads + h) * d;
                for (int i = 0; i < d; i++) {
                    int fi = i % half;
                    float invFreq = 1f / (float) Math.pow((float) theta, (float) (2 * fi) / (float) d);
                    float angle = (float) positions[s] * invFreq;
                    double rotated = i < half ? -x[base + i + half] : x[base + i - half];
                    out[base + i] = (float) (x[base + i] * Math.cos(angle) + rotated * Math.sin(angle));
                }
            }
        }
        return out;
    }

    /** conv2d with stride = k, no padding, batch 1: x [c,h,w], weight [o,c,k,k]. */
    static float[] patchify(float[] x, int c, int h, int w, float[] weight, float[] bias, int o, int k) {
        int oh = h / k, ow = w / k;
        float[] out = new float[o * oh * ow];
        for (int oc = 0; oc < o; oc++) {
            for (int py = 0; py < oh; py++) {
                for (int px = 0; px < ow; px++) {
                    double s = bias == null ? 0 : bias[oc];
                    for (int ch = 0; ch < c; ch++) {
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                s += (double) weight[((oc * c + ch) * k + ky) * k + kx]
                                        * x[(ch * h + py * k + ky) * w + px * k + kx];
                            }
                        }
                    }
                    out[(oc * oh + py) * ow + px] = (float) s;
                }
            }
        }
        return out;
    }

    /** Depthwise conv2d, k x k, stride 1, zero padding k/2: x [c,h,w], weight [c,1,k,k]. */
    static float[] depthwise(float[] x, int c, int h, int w, float[] weight, float[] bias, int k) {
        int pad = k / 2;
        float[] out = new float[c * h * w];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    double s = bias == null ? 0 : bias[ch];
                    for (int ky = 0; ky < k; ky++) {
                        for (int kx = 0; kx < k; kx++) {
                            int iy = y + ky - pad, ix = xx + kx - pad;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                s += (double) weight[(ch * k + ky) * k + kx] * x[(ch * h + iy) * w + ix];
                            }
                        }
                    }
                    out[(ch * h + y) * w + xx] = (float) s;
                }
            }
        }
        return out;
    }

    /**
     * Bilinear, align_corners=False, per output pixel, from torch's coordinate mapping: the float ratio
     * in / out, src = max(0, ratio * (dst + 0.5) - 0.5) in double; taps floor(src) and the next (clamped).
     */
    static float[] bilinear(float[] x, int c, int h, int w, int oh, int ow) {
        float[] out = new float[c * oh * ow];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < oh; y++) {
                double sy = h == oh ? y : Math.max(0, (double) ((float) h / oh) * (y + 0.5) - 0.5);
                int y0 = (int) sy, y1 = Math.min(y0 + 1, h - 1);
                float ly = (float) (sy - y0);
                for (int xx = 0; xx < ow; xx++) {
                    double sx = w == ow ? xx : Math.max(0, (double) ((float) w / ow) * (xx + 0.5) - 0.5);
                    int x0 = (int) sx, x1 = Math.min(x0 + 1, w - 1);
                    float lx = (float) (sx - x0);
                    double top = x[(ch * h + y0) * w + x0] * (1.0 - lx) + x[(ch * h + y0) * w + x1] * (double) lx;
                    double bottom = x[(ch * h + y1) * w + x0] * (1.0 - lx) + x[(ch * h + y1) * w + x1] * (double) lx;
                    out[(ch * oh + y) * ow + xx] = (float) (top * (1.0 - ly) + bottom * ly);
                }
            }
        }
        return out;
    }
}
