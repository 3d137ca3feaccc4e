package osprey4j.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised transcendental functions in float, written from their range reductions so that every lane
 * costs a handful of fused multiply-adds (the Vector API's own EXP is a per-lane call where no SVML stub
 * exists). Accuracy is stated per function and checked against {@link Math} in double by the tests.
 */
final class VectorMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in a part with few significant bits (exact products with small n) and the remainder. */
    private static final float LN2_HI = 0.693145751953125f;
    private static final float LN2_LO = 1.42860682030941723212e-6f;
    /** Adding then subtracting 1.5 x 2^23 rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUND_MAGIC = 12582912f;
    /** Largest input whose exp is still computed; exp(88) = 1.65e38 is below Float.MAX_VALUE. */
    private static final float EXP_HI = 88f;
    /** Below this the result would be subnormal; exp returns 0 there (torch returns a subnormal). */
    private static final float EXP_LO = -87.33654f;

    /*
     * erf coefficients, fitted by tools/kernels/fit_erf.py (weighted least squares in double, rounded to
     * float). For |x| < 1: erf(x) = x * P(x^2). For 1 <= |x| < 4: erf(x) = 1 - exp(-x^2) * Q(|x| - 2.5).
     * For |x| >= 4, erf(x) = +-1 in float (erfc(4) = 1.5e-8 is below half an ulp of 1).
     */
    private static final float P6 = 7.897586e-05f, P5 = -0.0008024152f, P4 = 0.0051900283f,
            P3 = -0.026854793f, P2 = 0.11283612f, P1 = -0.3761263f, P0 = 1.1283792f;
    private static final float Q8 = 0.0001027895f, Q7 = 0.0002019995f, Q6 = 0.00049352203f,
            Q5 = -0.0007082644f, Q4 = 0.0022914317f, Q3 = -0.008119704f, Q2 = 0.024923345f,
            Q1 = -0.07434079f, Q0 = 0.21080755f;

    private VectorMath() {
    }

    /**
     * e^x per lane. Relative error below 2 ulp for x in [-87.3, 88]; exactly 0 below -87.34 (including
     * -infinity, which softmax relies on); inputs above 88 are clamped to 88. NaN stays NaN.
     *
     * <p>exp(x) = 2^n * exp(r) with n = round(x / ln 2) and |r| <= ln2 / 2; exp(r) is its Taylor polynomial
     * of degree 7, whose truncation error r^8/8! < 5.2e-9 is below float resolution.
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> underflow = x.compare(VectorOperators.LT, EXP_LO);
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        FloatVector n = xc.fma(LOG2E, ROUND_MAGIC).sub(ROUND_MAGIC);
        FloatVector r = n.fma(bc(-LN2_HI), xc);
        r = n.fma(bc(-LN2_LO), r);
        FloatVector p = r.fma(1f / 5040f, 1f / 720f);
        p = step(p, r, 1f / 120f);
        p = step(p, r, 1f / 24f);
        p = step(p, r, 1f / 6f);
        p = step(p, r, 0.5f);
        p = step(p, r, 1f);
        p = step(p, r, 1f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = (FloatVector) bits.reinterpretAsFloats();
        return p.mul(scale).blend(0f, underflow);
    }

    /**
     * The error function per lane: absolute error below 1.5e-7 everywhere and relative error below
     * 2e-7 for |x| < 1 (the tests check it against a double-precision series for erf).
     */
    static FloatVector erf(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector s = ax.mul(ax);
        FloatVector small = s.fma(P6, P5);
        small = step(small, s, P4);
        small = step(small, s, P3);
        small = step(small, s, P2);
        small = step(small, s, P1);
        small = step(small, s, P0).mul(ax);
        // Clamp so the polynomial and exp stay finite for huge |x|; the result there rounds to 1 anyway.
        FloatVector ac = ax.min(4f);
        FloatVector u = ac.sub(2.5f);
        FloatVector q = u.fma(Q8, Q7);
        q = step(q, u, Q6);
        q = step(q, u, Q5);
        q = step(q, u, Q4);
        q = step(q, u, Q3);
        q = step(q, u, Q2);
        q = step(q, u, Q1);
        q = step(q, u, Q0);
        FloatVector large = exp(ac.mul(ac).neg()).mul(q).neg().add(1f);
        FloatVector magnitude = small.blend(large, ax.compare(VectorOperators.GE, 1f));
        // copy the sign of x (erf is odd)
        IntVector sign = x.reinterpretAsInts().and(0x80000000);
        return (FloatVector) magnitude.reinterpretAsInts().or(sign).reinterpretAsFloats();
    }

    /** One Horner step: p * x + c. */
    private static FloatVector step(FloatVector p, FloatVector x, float c) {
        return p.fma(x, FloatVector.broadcast(F, c));
    }

    private static FloatVector bc(float c) {
        return FloatVector.broadcast(F, c);
    }

    /** Scalar versions of the same formulas, used where a kernel has a single value to transform. */
    static float exp(float x) {
        return exp(FloatVector.broadcast(F, x)).lane(0);
    }

    static float erf(float x) {
        return erf(FloatVector.broadcast(F, x)).lane(0);
    }
}
