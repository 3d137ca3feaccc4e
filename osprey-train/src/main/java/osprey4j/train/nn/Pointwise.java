package osprey4j.train.nn;

/** The element-wise activations of the trainable path and their derivatives. */
public final class Pointwise {
    private static final double INV_SQRT2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;

    private Pointwise() {
    }

    /** GELU (erf form, torch's default): x * Phi(x). */
    public static float[] gelu(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (float) (x[i] * 0.5 * (1 + erf(x[i] * INV_SQRT2)));
        }
        return y;
    }

    /** dx = dy * (Phi(x) + x * phi(x)). */
    public static float[] geluBackward(float[] dy, float[] x) {
        float[] dx = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            dx[i] = (float) (dy[i] * (0.5 * (1 + erf(v * INV_SQRT2)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v)));
        }
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
        for (int i = 0; i < g.length; i++) {
            float s = sigmoid(g[i]);
            y[i] = g[i] * s * u[i];
        }
        return y;
    }

    /** dg = dy * u * silu'(g) with silu'(g) = s * (1 + g * (1 - s)), du = dy * silu(g). */
    public static void siluGateBackward(float[] dy, float[] g, float[] u, float[] dg, float[] du) {
        for (int i = 0; i < g.length; i++) {
            float s = sigmoid(g[i]);
            du[i] = dy[i] * g[i] * s;
            dg[i] = dy[i] * u[i] * s * (1 + g[i] * (1 - s));
        }
    }

    private static float sigmoid(float x) {
        return (float) (1 / (1 + Math.exp(-x)));
    }

    /** erf to about 1e-15 (W. J. Cody's rational approximations via erfc for |x| >= 0.5). */
    public static double erf(double x) {
        double ax = Math.abs(x);
        if (ax < 0.5) {
            // Taylor series, converges fast here.
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 30; n++) {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }
            return sum * 2 / Math.sqrt(Math.PI);
        }
        double r = 1 - erfc(ax);
        return x < 0 ? -r : r;
    }

    /** erfc for x >= 0.5 by a continued fraction (Lentz), accurate to double rounding for x >= 0.5. */
    private static double erfc(double x) {
        if (x > 27) {
            return 0;
        }
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...)))))
        double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int n = 1; n < 500; n++) {
            double a = n * 0.5;
            d = x + a * d;
            d = Math.abs(d) < tiny ? tiny : d;
            c = x + a / c;
            c = Math.abs(c) < tiny ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) {
                break;
            }
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}
