package osprey4j.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised exp and erf in float, written from their range reductions so that every lane costs a handful of
 * fused multiply-adds.
 *
 * <p>They are loops over a float buffer rather than functions of one vector on purpose: HotSpot's C2 does not
 * inline a method whose own compiled code is already large, and a Vector API value passed to or returned from
 * a method that is not inlined is boxed on the heap, which makes it ~50x slower. A kernel therefore stages a
 * block of values in a small scratch array, calls one of these loops on it, and finishes the block itself.
 * Buffers must have room for whole vectors: {@code a.length >= roundUp(n)}; lanes past n are computed too
 * and must be ignored by the caller.
 */
final class VectorMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private static final float LOG2E = 1.44269504088896341f;
    /**
     * The sum of v's lanes, in lane order. {@code reduceLanes(ADD)} leaves the order of a float sum open, and the
     * JIT's intrinsic (a tree) and the interpreter's fallback (lane order) do differ: a result would then depend on
     * whether its code was compiled yet (seen: batched SAM clicks against single ones, cold against warm code).
     */
    static float sumLanes(FloatVector v) {
        float s = v.lane(0);
        for (int i = 1; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** ln 2 split into a part with few significant bits (n * LN2_HI is exact for |n| < 512) and the remainder. */
    private static final float LN2_HI = 0.693145751953125f;
    private static final float LN2_LO = 1.42860682030941723212e-6f;
    /** Adding then subtracting 1.5 x 2^23 rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUND_MAGIC = 12582912f;
    /** Largest input whose exp is computed; exp(88) = 1.65e38 is below Float.MAX_VALUE. */
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

    /** n rounded up to a whole number of vectors: the buffer length the loops here need. */
    static int roundUp(int n) {
        return (n + F.length() - 1) / F.length() * F.length();
    }

    /**
     * {@code a[i] = e^a[i]} for i < n (and the rest of the last vector). Relative error below 2 ulp for
     * inputs in [-87.3, 88]; exactly 0 below -87.34 (including -infinity, which softmax relies on); inputs
     * above 88 are clamped to 88. NaN stays NaN.
     *
     * <p>exp(x) = 2^k * exp(r) with k = round(x / ln 2) and |r| <= ln2 / 2; exp(r) is its Taylor polynomial of
     * degree 7, whose truncation error r^8/8! < 5.2e-9 is below float resolution.
     */
    static void expInPlace(float[] a, int n) {
        for (int i = 0; i < n; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            VectorMask<Float> underflow = x.compare(VectorOperators.LT, EXP_LO);
            FloatVector xc = x.max(EXP_LO).min(EXP_HI);
            FloatVector k = xc.fma(LOG2E, ROUND_MAGIC).sub(ROUND_MAGIC);
            FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), xc);
            r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
            FloatVector p = r.fma(1f / 5040f, 1f / 720f);
            p = p.fma(r, FloatVector.broadcast(F, 1f / 120f));
            p = p.fma(r, FloatVector.broadcast(F, 1f / 24f));
            p = p.fma(r, FloatVector.broadcast(F, 1f / 6f));
            p = p.fma(r, FloatVector.broadcast(F, 0.5f));
            p = p.fma(r, FloatVector.broadcast(F, 1f));
            p = p.fma(r, FloatVector.broadcast(F, 1f));
            IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
            p.mul(bits.reinterpretAsFloats()).blend(0f, underflow).intoArray(a, i);
        }
    }

    /**
     * {@code a[i] = erf(a[i])} for i < n (and the rest of the last vector): absolute error below 1.5e-7
     * everywhere and relative error below 2e-7 for |x| < 1 (the tests check both against a double-precision
     * series). The exp inside is {@link #expInPlace}'s formula, written out again so that no vector crosses
     * a call.
     */
    static void erfInPlace(float[] a, int n) {
        for (int i = 0; i < n; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            FloatVector ax = x.abs();
            FloatVector s = ax.mul(ax);
            FloatVector small = s.fma(P6, P5);
            small = small.fma(s, FloatVector.broadcast(F, P4));
            small = small.fma(s, FloatVector.broadcast(F, P3));
            small = small.fma(s, FloatVector.broadcast(F, P2));
            small = small.fma(s, FloatVector.broadcast(F, P1));
            small = small.fma(s, FloatVector.broadcast(F, P0)).mul(ax);
            // Clamp so the polynomial and exp stay finite for huge |x|; the result there rounds to 1 anyway.
            FloatVector ac = ax.min(4f);
            FloatVector u = ac.sub(2.5f);
            FloatVector q = u.fma(Q8, Q7);
            q = q.fma(u, FloatVector.broadcast(F, Q6));
            q = q.fma(u, FloatVector.broadcast(F, Q5));
            q = q.fma(u, FloatVector.broadcast(F, Q4));
            q = q.fma(u, FloatVector.broadcast(F, Q3));
            q = q.fma(u, FloatVector.broadcast(F, Q2));
            q = q.fma(u, FloatVector.broadcast(F, Q1));
            q = q.fma(u, FloatVector.broadcast(F, Q0));
            // exp(-ac^2): the argument lies in [-16, 0], so no clamping is needed
            FloatVector e = ac.mul(ac).neg();
            FloatVector k = e.fma(LOG2E, ROUND_MAGIC).sub(ROUND_MAGIC);
            FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), e);
            r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
            FloatVector p = r.fma(1f / 5040f, 1f / 720f);
            p = p.fma(r, FloatVector.broadcast(F, 1f / 120f));
            p = p.fma(r, FloatVector.broadcast(F, 1f / 24f));
            p = p.fma(r, FloatVector.broadcast(F, 1f / 6f));
            p = p.fma(r, FloatVector.broadcast(F, 0.5f));
            p = p.fma(r, FloatVector.broadcast(F, 1f));
            p = p.fma(r, FloatVector.broadcast(F, 1f));
            IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
            FloatVector large = p.mul(bits.reinterpretAsFloats()).mul(q).neg().add(1f);
            FloatVector magnitude = small.blend(large, ax.compare(VectorOperators.GE, 1f));
            // copy the sign of x (erf is odd); NaN fails the comparison and stays NaN through `small`
            IntVector sign = x.reinterpretAsInts().and(0x80000000);
            magnitude.reinterpretAsInts().or(sign).reinterpretAsFloats().intoArray(a, i);
        }
    }

    /** exp of one value with the vector formula (for tests and set-up code). */
    static float exp(float x) {
        float[] a = new float[F.length()];
        a[0] = x;
        expInPlace(a, 1);
        return a[0];
    }

    /** erf of one value with the vector formula (for tests and set-up code). */
    static float erf(float x) {
        float[] a = new float[F.length()];
        a[0] = x;
        erfInPlace(a, 1);
        return a[0];
    }
}
