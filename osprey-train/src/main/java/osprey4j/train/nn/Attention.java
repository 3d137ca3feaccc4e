package osprey4j.train.nn;

import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.GemmGrad;
import osprey4j.core.kernels.RotaryEmbedding;
import osprey4j.core.kernels.Softmax;
import osprey4j.core.kernels.SoftmaxGrad;
import osprey4j.core.tensor.Tensor;

/**
 * Causal grouped-query self-attention core of HF {@code LlamaAttention} (4.31), between the q/k/v and the
 * o projections, for one sequence at positions 0..T-1:
 * <pre>
 *   q, k = rope(q), rope(k)        rotate_half, the angles of position t
 *   P_h  = softmax((q_h / sqrt(d)) k_g^T + causal)  g = h / (heads / kvHeads)
 *   out_h = P_h v_g
 * </pre>
 * Right padding needs no mask here: a padded key is only ever seen by padded queries, whose losses are ignored,
 * so a sample is computed at its own length. Activations are kept head-major ([head][T][d]) for the backward:
 * dP = dout v^T, dv += P^T dout, dS = P * (dP - rowsum(P * dP)) / sqrt(d), dq = dS k, dk += dS^T q, then the
 * inverse rotation of dq and dk.
 */
public final class Attention {
    /** Saved activations of one forward. */
    public static final class Saved {
        final int t;
        final float[][] q;
        final float[][] k;
        final float[][] v;
        final float[][] p;

        Saved(int t, float[][] q, float[][] k, float[][] v, float[][] p) {
            this.t = t;
            this.q = q;
            this.k = k;
            this.v = v;
            this.p = p;
        }
    }

    private final int heads;
    private final int kvHeads;
    private final int d;
    private final RotaryEmbedding rope;

    public Attention(int heads, int kvHeads, int headDim, double theta, int maxPositions) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.d = headDim;
        this.rope = new RotaryEmbedding(headDim, theta, maxPositions);
    }

    /**
     * @param qLin [T, heads*d], kLin and vLin [T, kvHeads*d] (projection outputs)
     * @param out  [T, heads*d], written
     */
    public Saved forward(float[] qLin, float[] kLin, float[] vLin, int t, float[] out) {
        if (t > rope.maxPositions()) {
            throw new IllegalArgumentException("sequence of " + t + " positions is longer than max_position_embeddings "
                    + rope.maxPositions());
        }
        float[][] q = new float[heads][];
        float[][] k = new float[kvHeads][];
        float[][] v = new float[kvHeads][];
        float[][] p = new float[heads][];
        for (int g = 0; g < kvHeads; g++) {
            k[g] = headRows(kLin, t, kvHeads, g, true);
            v[g] = headRows(vLin, t, kvHeads, g, false);
        }
        int group = heads / kvHeads;
        float scale = (float) (1 / Math.sqrt(d));
        ComputePool.parallelFor(heads, (from, to) -> {
            for (int h = from; h < to; h++) {
                q[h] = headRows(qLin, t, heads, h, true);
                int g = h / group;
                float[] s = new float[t * t];
                float[] scaled = q[h].clone();
                for (int i = 0; i < scaled.length; i++) {
                    scaled[i] *= scale;
                }
                Gemm.linear(Tensor.wrap(scaled, t, d), Tensor.wrap(k[g], t, d), null, Tensor.wrap(s, t, t));
                Softmax.softmaxCausal(Tensor.wrap(s, t, t), 0);
                p[h] = s;
                float[] o = new float[t * d];
                GemmGrad.inputGrad(s, v[g], o, t, t, d, false);
                int w = heads * d;
                for (int i = 0; i < t; i++) {
                    System.arraycopy(o, i * d, out, i * w + h * d, d);
                }
            }
        });
        return new Saved(t, q, k, v, p);
    }

    /**
     * @param dOut [T, heads*d]
     * @param dq   [T, heads*d], dk and dv [T, kvHeads*d]: written (projection-output gradients)
     */
    public void backward(Saved s, float[] dOut, float[] dq, float[] dk, float[] dv) {
        int t = s.t;
        int group = heads / kvHeads;
        float scale = (float) (1 / Math.sqrt(d));
        float[][] dqh = new float[heads][];
        float[][] dkh = new float[heads][];
        float[][] dvh = new float[heads][];
        ComputePool.parallelFor(heads, (from, to) -> {
            for (int h = from; h < to; h++) {
                int g = h / group;
                float[] doh = headRows(dOut, t, heads, h, false);
                float[] p = s.p[h];
                float[] dp = new float[t * t];
                Gemm.linear(Tensor.wrap(doh, t, d), Tensor.wrap(s.v[g], t, d), null, Tensor.wrap(dp, t, t));
                float[] dvl = new float[t * d];
                GemmGrad.weightGrad(p, doh, dvl, t, t, d);
                SoftmaxGrad.backwardCausal(p, dp, t, t, 0, scale);
                float[] dql = new float[t * d];
                GemmGrad.inputGrad(dp, s.k[g], dql, t, t, d, false);
                float[] dkl = new float[t * d];
                GemmGrad.weightGrad(dp, s.q[h], dkl, t, t, d);
                dqh[h] = dql;
                dkh[h] = dkl;
                dvh[h] = dvl;
            }
        });
        java.util.Arrays.fill(dk, 0f);
        java.util.Arrays.fill(dv, 0f);
        for (int h = 0; h < heads; h++) {
            int g = h / group;
            scatterHead(dqh[h], t, heads, h, dq, true, false);
            scatterHead(dkh[h], t, kvHeads, g, dk, true, true);
            scatterHead(dvh[h], t, kvHeads, g, dv, false, true);
        }
    }

    /** Head h's rows [T, d] of x [T, n*d], rotated when asked. */
    private float[] headRows(float[] x, int t, int n, int h, boolean rotate) {
        float[] r = new float[t * d];
        int half = d / 2;
        for (int i = 0; i < t; i++) {
            int src = i * n * d + h * d;
            int dst = i * d;
            if (!rotate) {
                System.arraycopy(x, src, r, dst, d);
                continue;
            }
            for (int e = 0; e < half; e++) {
                float c = rope.cos(i, e), sn = rope.sin(i, e);
                float a = x[src + e], b = x[src + e + half];
                r[dst + e] = a * c - b * sn;
                r[dst + e + half] = b * c + a * sn;
            }
        }
        return r;
    }

    /** Writes (or adds) head rows back into [T, n*d], applying the transposed rotation when asked. */
    private void scatterHead(float[] r, int t, int n, int h, float[] x, boolean unrotate, boolean add) {
        int half = d / 2;
        for (int i = 0; i < t; i++) {
            int dst = i * n * d + h * d;
            int src = i * d;
            for (int e = 0; e < half; e++) {
                float a, b;
                if (unrotate) {
                    float c = rope.cos(i, e), sn = rope.sin(i, e);
                    float ga = r[src + e], gb = r[src + e + half];
                    a = ga * c + gb * sn;
                    b = gb * c - ga * sn;
                } else {
                    a = r[src + e];
                    b = r[src + e + half];
                }
                if (add) {
                    x[dst + e] += a;
                    x[dst + e + half] += b;
                } else {
                    x[dst + e] = a;
                    x[dst + e + half] = b;
                }
            }
        }
    }
}
