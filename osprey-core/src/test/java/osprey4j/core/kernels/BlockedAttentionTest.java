package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.Tensor;

/**
 * The GEMM-blocked attention against {@link Attention#attend} (itself checked against a scalar reference and
 * torch), with and without a decomposed relative-position bias, over more query rows than one block.
 */
class BlockedAttentionTest {
    private static Tensor random(SplittableRandom rng, long... shape) {
        float[] v = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (2 * rng.nextDouble() - 1);
        }
        return Tensor.wrap(v, shape);
    }

    @Test
    void matchesTheRowAttention() {
        SplittableRandom rng = new SplittableRandom(3);
        int h = 20, w = 15, heads = 3, d = 8, n = h * w;
        Tensor q = random(rng, n, heads * d), k = random(rng, n, heads * d), v = random(rng, n, heads * d);
        Tensor relH = random(rng, 2 * h - 1, d), relW = random(rng, 2 * w - 1, d);
        for (boolean withBias : new boolean[] {false, true}) {
            Attention.ScoreBias bias = withBias ? RelativePositionBias.compute(q, h, w, heads, relH, relW).scoreBias() : null;
            Tensor expected = Tensor.zeros(osprey4j.core.tensor.DType.F32, n, heads * d);
            Attention.attend(q, k, v, heads, heads, Attention.NOT_CAUSAL, bias, null, expected);
            Tensor actual = Tensor.zeros(osprey4j.core.tensor.DType.F32, n, heads * d);
            BlockedAttention.attend(q, k, v, heads, bias, actual);
            float[] a = expected.toFloatArray(), b = actual.toFloatArray();
            double max = 0;
            for (int i = 0; i < a.length; i++) {
                max = Math.max(max, Math.abs(a[i] - b[i]));
            }
            assertTrue(max < 1e-5, "max |diff| " + max + (withBias ? " with" : " without") + " bias");
        }
    }

    @Test
    void refusesMismatchedShapes() {
        SplittableRandom rng = new SplittableRandom(4);
        Tensor q = random(rng, 4, 6), k = random(rng, 5, 4);
        assertThrows(IllegalArgumentException.class, () -> BlockedAttention.attend(q, k, k, 2, null,
                Tensor.zeros(osprey4j.core.tensor.DType.F32, 4, 6)));
    }
}
