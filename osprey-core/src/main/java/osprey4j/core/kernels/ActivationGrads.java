package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import osprey4j.core.concurrent.ComputePool;

/**
 * Derivatives of the activations in {@link Activations}, for training (F32 heap arrays):
 * <ul>
 *   <li>GELU (erf): dx = dy * (Phi(x) + x * phi(x)), Phi(x) = (1 + erf(x / sqrt 2)) / 2,
 *       phi(x) = exp(-x^2 / 2) / sqrt(2 pi) (torch's gelu_backward, approximate='none');</li>
 *   <li>the SiLU gate y = silu(g) * u: du = dy * silu(g), dg = dy * u * s * (1 + g * (1 - s)) with
 *       s = sigmoid(g).</li>
 * </ul>
 * Block by block as {@link Activations} works: erf and exp run in {@link VectorMath}'s loops over
 * cache-resident scratch blocks, the rest in small per-block methods.
 */
public final class ActivationGrads {
    private static final int BLOCK = 1024;
    private static final int MIN_CHUNK = 1 << 15;
    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final float INV_SQRT_2PI = 0.3989422804014327f;

    private ActivationGrads() {
    }

    /** dx[i] = dy[i] * GELU'(x[i]) for i < n. */
    public static void geluBackward(float[] x, float[] dy, float[] dx, int n) {
        check(n, x, dy, dx);
        int blocks = (n + BLOCK - 1) / BLOCK;
        ComputePool.parallelFor(blocks, MIN_CHUNK / BLOCK, (from, to) -> {
            float[] erf = new float[BLOCK];
            float[] exp = new float[BLOCK];
            for (int b = from; b < to; b++) {
                int base = b * BLOCK;
                int len = Math.min(BLOCK, n - base);
                geluPrepare(x, base, len, erf, exp);
                VectorMath.erfInPlace(erf, len);
                VectorMath.expInPlace(exp, len);
                geluFinish(x, dy, dx, base, len, erf, exp);
            }
        });
    }

    // The block loops here run whole vectors unmasked, then at most one masked tail: masked loads and stores in the
    // loop body are left to the Vector API's Java fallback on AVX2 machines (several times slower). The lanes and
    // the arithmetic are the same either way, so are the results. The scratch blocks hold whole vectors.

    private static void geluPrepare(float[] x, int base, int len, float[] erf, float[] exp) {
        int full = F.loopBound(len);
        for (int i = 0; i < full; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, base + i);
            v.mul(INV_SQRT2).intoArray(erf, i);
            v.mul(v).mul(-0.5f).intoArray(exp, i);
        }
        if (full < len) {
            VectorMask<Float> m = F.indexInRange(full, len);
            FloatVector v = FloatVector.fromArray(F, x, base + full, m);
            v.mul(INV_SQRT2).intoArray(erf, full);
            v.mul(v).mul(-0.5f).intoArray(exp, full);
        }
    }

    private static void geluFinish(float[] x, float[] dy, float[] dx, int base, int len, float[] erf, float[] exp) {
        int full = F.loopBound(len);
        for (int i = 0; i < full; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, base + i);
            FloatVector cdf = FloatVector.fromArray(F, erf, i).add(1f).mul(0.5f);
            FloatVector pdf = FloatVector.fromArray(F, exp, i).mul(INV_SQRT_2PI);
            FloatVector g = v.fma(pdf, cdf);
            FloatVector.fromArray(F, dy, base + i).mul(g).intoArray(dx, base + i);
        }
        if (full < len) {
            VectorMask<Float> m = F.indexInRange(full, len);
            FloatVector v = FloatVector.fromArray(F, x, base + full, m);
            FloatVector cdf = FloatVector.fromArray(F, erf, full).add(1f).mul(0.5f);
            FloatVector pdf = FloatVector.fromArray(F, exp, full).mul(INV_SQRT_2PI);
            FloatVector g = v.fma(pdf, cdf);
            FloatVector.fromArray(F, dy, base + full, m).mul(g).intoArray(dx, base + full, m);
        }
    }

    /** du = dy * silu(g), dg = dy * u * silu'(g), for i < n. */
    public static void siluGateBackward(float[] g, float[] u, float[] dy, float[] dg, float[] du, int n) {
        check(n, g, u, dy, dg, du);
        int blocks = (n + BLOCK - 1) / BLOCK;
        ComputePool.parallelFor(blocks, MIN_CHUNK / BLOCK, (from, to) -> {
            float[] e = new float[BLOCK];
            for (int b = from; b < to; b++) {
                int base = b * BLOCK;
                int len = Math.min(BLOCK, n - base);
                negate(g, base, len, e);
                VectorMath.expInPlace(e, len);
                siluFinish(g, u, dy, dg, du, base, len, e);
            }
        });
    }

    private static void negate(float[] g, int base, int len, float[] e) {
        int full = F.loopBound(len);
        for (int i = 0; i < full; i += F.length()) {
            FloatVector.fromArray(F, g, base + i).neg().intoArray(e, i);
        }
        if (full < len) {
            FloatVector.fromArray(F, g, base + full, F.indexInRange(full, len)).neg().intoArray(e, full);
        }
    }

    private static void siluFinish(float[] g, float[] u, float[] dy, float[] dg, float[] du, int base, int len, float[] e) {
        int full = F.loopBound(len);
        for (int i = 0; i < full; i += F.length()) {
            FloatVector gv = FloatVector.fromArray(F, g, base + i);
            FloatVector s = FloatVector.broadcast(F, 1f).div(FloatVector.fromArray(F, e, i).add(1f));
            FloatVector d = FloatVector.fromArray(F, dy, base + i);
            d.mul(gv).mul(s).intoArray(du, base + i);
            FloatVector deriv = s.mul(gv.mul(s.neg().add(1f)).add(1f));
            d.mul(FloatVector.fromArray(F, u, base + i)).mul(deriv).intoArray(dg, base + i);
        }
        if (full < len) {
            VectorMask<Float> m = F.indexInRange(full, len);
            FloatVector gv = FloatVector.fromArray(F, g, base + full, m);
            FloatVector s = FloatVector.broadcast(F, 1f).div(FloatVector.fromArray(F, e, full).add(1f));
            FloatVector d = FloatVector.fromArray(F, dy, base + full, m);
            d.mul(gv).mul(s).intoArray(du, base + full, m);
            FloatVector deriv = s.mul(gv.mul(s.neg().add(1f)).add(1f));
            d.mul(FloatVector.fromArray(F, u, base + full, m)).mul(deriv).intoArray(dg, base + full, m);
        }
    }

    private static void check(int n, float[]... arrays) {
        if (n < 0) {
            throw new IllegalArgumentException("negative length " + n);
        }
        for (float[] a : arrays) {
            if (a.length < n) {
                throw new IllegalArgumentException("array of " + a.length + " floats, need " + n);
            }
        }
    }
}
