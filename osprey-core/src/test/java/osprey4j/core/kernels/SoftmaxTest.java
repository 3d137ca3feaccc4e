package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class SoftmaxTest {
    // exp within 2 ulp and a float sum of at most a few thousand terms: 2e-6 relative, plus 1e-9 absolute for
    // probabilities that underflow differently (exp of < -87 is 0 here, subnormal in double).
    private static final double REL = 2e-6, ABS = 1e-9;

    @Test
    void matchesScalarReferenceForAllRowLengths() {
        Random rnd = new Random(3);
        for (int n : new int[]{1, 2, 15, 16, 17, 31, 100, 1024, 4099}) {
            int rows = n > 1000 ? 5 : 3;
            float[] x = Close.random(rnd, rows * n, -20f, 20f);
            int[] full = new int[rows];
            Arrays.fill(full, n);
            Tensor t = Tensor.copyOf(x, rows, n);
            Softmax.softmax(t);
            Close.assertClose(ScalarKernels.softmax(x, rows, n, full), t.toFloatArray(), ABS, REL, "softmax n=" + n);
            for (int len : new int[]{0, 1, n / 2, n}) {
                int[] lens = new int[1];
                lens[0] = len;
                float[] row = Arrays.copyOf(x, VectorMath.roundUp(n));
                Softmax.softmax(row, len);
                Close.assertClose(ScalarKernels.softmax(Arrays.copyOf(x, len), 1, len, lens), Arrays.copyOf(row, len),
                        ABS, REL, "softmax of a row prefix n=" + n + " length=" + len);
            }
        }
    }

    @Test
    void groupsAreEachTheScaledSoftmaxOfTheirRun() {
        Random rnd = new Random(5);
        // {rows, groups, group}: SAM's decoder (8 heads x 7 tokens), one group, groups of one
        for (int[] c : new int[][]{{33, 8, 7}, {4, 1, 40}, {3, 5, 1}, {2, 3, 17}}) {
            int n = c[1] * c[2];
            float[] x = Close.random(rnd, c[0] * n, -30f, 30f);
            Tensor t = Tensor.copyOf(x, c[0], n);
            Softmax.softmaxGroups(t, c[2], 4f);
            float[] got = t.toFloatArray();
            for (int r = 0; r < c[0]; r++) {
                for (int g = 0; g < c[1]; g++) {
                    int start = r * n + g * c[2];
                    float[] run = new float[VectorMath.roundUp(c[2])];
                    for (int i = 0; i < c[2]; i++) {
                        run[i] = x[start + i] / 4f;
                    }
                    Softmax.softmax(run, c[2]);
                    // the same steps; only the order of the sum's terms may differ
                    Close.assertClose(Arrays.copyOf(run, c[2]), Arrays.copyOfRange(got, start, start + c[2]), ABS, REL,
                            "row " + r + " group " + g);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Softmax.softmaxGroups(Tensor.zeros(DType.F32, 2, 10), 3, 1f));
    }

    @Test
    void rowFormNeedsRoomForWholeVectors() {
        assertThrows(IllegalArgumentException.class, () -> Softmax.softmax(new float[1], VectorMath.F.length() + 1));
    }

    @Test
    void largeAndMaskedScoresStayFinite() {
        Tensor t = Tensor.copyOf(new float[]{1000f, 999f, Float.NEGATIVE_INFINITY, -1000f}, 4);
        Softmax.softmax(t);
        double e = Math.exp(-1);
        assertEquals(1 / (1 + e), t.getFloat(0), 1e-6);
        assertEquals(e / (1 + e), t.getFloat(1), 1e-6);
        assertEquals(0f, t.getFloat(2));
        assertEquals(0f, t.getFloat(3));
        Tensor allMasked = Tensor.copyOf(new float[]{Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 2);
        Softmax.softmax(allMasked);
        assertTrue(Float.isNaN(allMasked.getFloat(0)), "torch gives NaN for a fully masked row");
        Softmax.softmax(Tensor.zeros(DType.F32, 3, 0)); // empty rows: nothing to do
    }

    @Test
    void matchesTorch() {
        Fixtures.Case c = Fixtures.single("softmax");
        Tensor x = c.tensor("input");
        Softmax.softmax(x);
        Close.assertClose(c.floats("output"), x.toFloatArray(), ABS, REL, "softmax vs torch");
    }
}
