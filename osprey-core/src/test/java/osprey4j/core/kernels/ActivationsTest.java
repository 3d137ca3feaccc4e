package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import osprey4j.core.tensor.Tensor;

class ActivationsTest {
    /** Sizes around the 16-float vector width, empty, one element, and one big enough to run in parallel. */
    static final int[] SIZES = {0, 1, 15, 16, 17, 100, 1000, 70_001};

    @Test
    void erfMatchesDoubleReferenceOverItsWholeRange() {
        double worstAbs = 0, worstRelSmall = 0;
        for (int i = -700_000; i <= 700_000; i++) {
            float x = i * 1e-5f;
            double e = ScalarKernels.erf(x);
            double a = VectorMath.erf(x);
            worstAbs = Math.max(worstAbs, Math.abs(a - e));
            if (Math.abs(x) < 1 && x != 0) {
                worstRelSmall = Math.max(worstRelSmall, Math.abs(a - e) / Math.abs(e));
            }
        }
        // 1.5e-7 absolute is 2.5 ulp of 1, and 2e-7 relative for |x| < 1 is under 2 ulp: the fitted polynomials'
        // own error is below 1e-8 (tools/kernels/fit_erf.py); the rest is float rounding in their evaluation.
        assertTrue(worstAbs < 1.5e-7, "erf absolute error " + worstAbs);
        assertTrue(worstRelSmall < 2e-7, "erf relative error for |x| < 1: " + worstRelSmall);
        assertEquals(1f, VectorMath.erf(50f));
        assertEquals(-1f, VectorMath.erf(-1e30f));
        assertEquals(0f, VectorMath.erf(0f));
        assertTrue(Float.isNaN(VectorMath.erf(Float.NaN)));
        assertEquals(1e-30f * 1.1283792f, VectorMath.erf(1e-30f), 1e-37f);
    }

    @Test
    void expIsAccurateAndUnderflowsToZero() {
        double worst = 0;
        for (int i = -87_000; i < 88_000; i++) {
            float x = i * 1e-3f;
            worst = Math.max(worst, Math.abs(VectorMath.exp(x) / Math.exp(x) - 1));
        }
        // 2.5e-7 is about 2 ulp: the degree-7 Taylor polynomial is exact to 5e-9 on |r| <= ln2/2.
        assertTrue(worst < 2.5e-7, "exp relative error " + worst);
        assertEquals(0f, VectorMath.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, VectorMath.exp(-100f));
        assertEquals(1f, VectorMath.exp(0f));
        assertTrue(Float.isNaN(VectorMath.exp(Float.NaN)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gelu", "silu", "relu"})
    void matchesScalarReferenceForAllSizes(String op) {
        Random rnd = new Random(op.hashCode());
        DoubleUnaryOperator ref = switch (op) {
            case "gelu" -> ScalarKernels::gelu;
            case "silu" -> ScalarKernels::silu;
            default -> v -> Math.max(v, 0);
        };
        for (int n : SIZES) {
            float[] x = Close.random(rnd, n, -8f, 8f);
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) {
                expected[i] = (float) ref.applyAsDouble(x[i]);
            }
            Tensor in = Tensor.copyOf(x, n);
            Tensor out = Tensor.zeros(in.dtype(), n);
            apply(op, in, out);
            // GELU: erf's 1.5e-7 absolute error times 0.5|x| <= 4 gives 6e-7, plus a few float roundings.
            // SiLU: exp and one division each within 2 ulp. ReLU is exact.
            double abs = op.equals("relu") ? 0 : 1e-6;
            double rel = op.equals("relu") ? 0 : 1e-6;
            Close.assertClose(expected, out.toFloatArray(), abs, rel, op + " n=" + n);
            apply(op, in, in); // in place gives the same result
            assertArrayEquals(out.toFloatArray(), in.toFloatArray(), op + " in place n=" + n);
        }
    }

    private static void apply(String op, Tensor in, Tensor out) {
        switch (op) {
            case "gelu" -> Activations.gelu(in, out);
            case "silu" -> Activations.silu(in, out);
            default -> Activations.relu(in, out);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gelu", "silu"})
    void matchesTorch(String op) {
        Fixtures.Case c = Fixtures.single(op);
        Tensor x = c.tensor("input");
        if (op.equals("gelu")) {
            Activations.gelu(x);
        } else {
            Activations.silu(x);
        }
        // torch's own vectorised erf/exp are float approximations too; 1e-6 + 1e-6 relative covers both sides.
        Close.assertClose(c.floats("output"), x.toFloatArray(), 1e-6, 1e-6, op + " vs torch");
    }

    @Test
    void reluKeepsNaN() {
        Tensor t = Tensor.copyOf(new float[]{Float.NaN, -1f, 2f}, 3);
        Activations.relu(t);
        assertTrue(Float.isNaN(t.getFloat(0)));
        assertEquals(0f, t.getFloat(1));
        assertEquals(2f, t.getFloat(2));
    }

    @Test
    void siluMulIsSiluOfGateTimesUp() {
        Random rnd = new Random(7);
        for (int n : SIZES) {
            float[] g = Close.random(rnd, n, -6f, 6f), u = Close.random(rnd, n, -2f, 2f);
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) {
                expected[i] = (float) (ScalarKernels.silu(g[i]) * u[i]);
            }
            Tensor gate = Tensor.copyOf(g, n);
            Activations.siluMul(gate, Tensor.copyOf(u, n), gate);
            Close.assertClose(expected, gate.toFloatArray(), 1e-6, 1e-6, "siluMul n=" + n);
        }
    }

    @Test
    void rejectsMismatchedShapes() {
        assertThrows(IllegalArgumentException.class, () -> Activations.gelu(Tensor.zeros(osprey4j.core.tensor.DType.F32, 4),
                Tensor.zeros(osprey4j.core.tensor.DType.F32, 5)));
        assertThrows(IllegalArgumentException.class, () -> Activations.gelu(Tensor.zeros(osprey4j.core.tensor.DType.BF16, 4)));
    }

    /**
     * Bitwise against the kernel's formula applied one element at a time (VectorMath's erf and exp of one value
     * are the same vector formulas): whole vectors and the masked tail give the same bits, for sizes around the
     * vector width and the 1024-float blocks.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gelu", "silu", "relu", "siluMul"})
    void sameBitsAsTheFormulaOneElementAtATime(String op) {
        Random rnd = new Random(op.hashCode() + 1);
        for (int n : new int[] {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1023, 1024, 1025, 2053, 70_001}) {
            float[] x = Close.random(rnd, n, -9f, 9f), u = Close.random(rnd, n, -2f, 2f);
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) {
                float v = x[i];
                expected[i] = switch (op) {
                    case "gelu" -> v * 0.5f * (VectorMath.erf(v * 0.70710678118654752f) + 1f);
                    case "silu" -> v / (VectorMath.exp(-v) + 1f);
                    case "siluMul" -> v / (VectorMath.exp(-v) + 1f) * u[i];
                    default -> Math.max(v, 0f);
                };
            }
            Tensor in = Tensor.copyOf(x, n);
            Tensor out = Tensor.zeros(in.dtype(), n);
            if (op.equals("siluMul")) {
                Activations.siluMul(in, Tensor.copyOf(u, n), out);
            } else {
                apply(op, in, out);
            }
            assertArrayEquals(expected, out.toFloatArray(), op + " n=" + n);
        }
    }
}
