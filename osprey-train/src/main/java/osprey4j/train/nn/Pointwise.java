package osprey4j.train.nn;

import osprey4j.core.kernels.ActivationGrads;
import osprey4j.core.kernels.Activations;
import osprey4j.core.tensor.Tensor;

/**
 * The element-wise activations of the trainable path and their derivatives: the forward passes are the
 * inference kernels ({@link Activations}), the derivatives {@link ActivationGrads}.
 */
public final class Pointwise {
    private Pointwise() {
    }

    /** GELU (erf form, torch's default): x * Phi(x). */
    public static float[] gelu(float[] x) {
        float[] y = new float[x.length];
        if (x.length > 0) {
            Activations.gelu(Tensor.wrap(x, x.length), Tensor.wrap(y, y.length));
        }
        return y;
    }

    /** dx = dy * (Phi(x) + x * phi(x)). */
    public static float[] geluBackward(float[] dy, float[] x) {
        float[] dx = new float[x.length];
        ActivationGrads.geluBackward(x, dy, dx, x.length);
        return dx;
    }

    public static float[] relu(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.max(x[i], 0f);
        }
        return y;
    }

    /** dx = dy where the ReLU's output is positive (torch's threshold_backward: 0 at 0). */
    public static float[] reluBackward(float[] dy, float[] y) {
        float[] dx = new float[y.length];
        for (int i = 0; i < y.length; i++) {
            dx[i] = y[i] > 0 ? dy[i] : 0f;
        }
        return dx;
    }

    /** LLaMA's MLP gate: silu(g) * u. */
    public static float[] siluGate(float[] g, float[] u) {
        float[] y = new float[g.length];
        if (g.length > 0) {
            Activations.siluMul(Tensor.wrap(g, g.length), Tensor.wrap(u, u.length), Tensor.wrap(y, y.length));
        }
        return y;
    }

    /** dg = dy * u * silu'(g) with silu'(g) = s * (1 + g * (1 - s)), du = dy * silu(g). */
    public static void siluGateBackward(float[] dy, float[] g, float[] u, float[] dg, float[] du) {
        ActivationGrads.siluGateBackward(g, u, dy, dg, du, g.length);
    }
}
