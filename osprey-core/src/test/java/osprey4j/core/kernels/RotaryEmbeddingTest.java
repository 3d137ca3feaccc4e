package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class RotaryEmbeddingTest {
    // The kernel's float cos/sin tables are within half an ulp of the reference's double ones, and each output
    // is two products and a sum in float: 1e-6 absolute for inputs of size <= 2 (outputs <= 2.9).
    private static final double ABS = 1e-6, REL = 1e-6;

    @Test
    void matchesScalarReference() {
        Random rnd = new Random(21);
        for (int d : new int[]{2, 8, 30, 32, 34, 64, 128}) {
            int seq = 6, heads = 3;
            RotaryEmbedding rope = new RotaryEmbedding(d, 10000, 4096);
            float[] x = Close.random(rnd, seq * heads * d, -2f, 2f);
            int[] positions = {0, 1, 17, 511, 2048, 4095};
            Tensor t = Tensor.copyOf(x, seq, heads, d);
            rope.apply(t, positions);
            Close.assertClose(ScalarKernels.rotary(x, seq, heads, d, 10000, positions), t.toFloatArray(), ABS, REL, "d=" + d);

            Tensor u = Tensor.copyOf(x, seq, heads, d);
            new RotaryEmbedding(d, 500000, 64).apply(u, 10);
            Close.assertClose(ScalarKernels.rotary(x, seq, heads, d, 500000, new int[]{10, 11, 12, 13, 14, 15}),
                    u.toFloatArray(), ABS, REL, "theta 5e5, d=" + d);
        }
    }

    @Test
    void positionZeroIsIdentityAndPairsRotateAcrossHalves() {
        RotaryEmbedding rope = new RotaryEmbedding(4, 10000, 8);
        Tensor t = Tensor.copyOf(new float[]{1, 2, 3, 4}, 1, 1, 4);
        rope.apply(t, 0);
        assertEquals(3f, t.getFloat(2));
        // position 1, frequency 1 for i = 0: (x0, x2) = (1, 0) rotates by 1 radian into (cos 1, sin 1)
        Tensor u = Tensor.copyOf(new float[]{1, 0, 0, 0}, 1, 1, 4);
        rope.apply(u, 1);
        assertEquals(Math.cos(1), u.getFloat(0), 1e-7);
        assertEquals(Math.sin(1), u.getFloat(2), 1e-7);
        assertEquals(0f, u.getFloat(1));
    }

    @Test
    void matchesHuggingFaceLlama() {
        Fixtures.Case c = Fixtures.single("rotary");
        int[] s = c.shape("input");
        RotaryEmbedding rope = new RotaryEmbedding(s[2], c.paramDouble("theta"), 2048);
        Tensor x = c.tensor("input");
        rope.apply(x, c.param("first_position"));
        // positions ~1000: torch's float cos/sin of the same float angle agree with ours to an ulp.
        Close.assertClose(c.floats("output"), x.toFloatArray(), 2e-6, 2e-6, "rotary vs transformers");
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new RotaryEmbedding(5, 10000, 8));
        RotaryEmbedding rope = new RotaryEmbedding(8, 10000, 8);
        assertThrows(IllegalArgumentException.class, () -> rope.apply(Tensor.zeros(DType.F32, 2, 1, 8), 7));
        assertThrows(IllegalArgumentException.class, () -> rope.apply(Tensor.zeros(DType.F32, 2, 1, 6), 0));
        rope.apply(Tensor.zeros(DType.F32, 0, 4, 8), 0);
    }
}
