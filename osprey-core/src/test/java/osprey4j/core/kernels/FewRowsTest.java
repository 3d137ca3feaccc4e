package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * {@link FewRows}, the product of a few rows with converted weights, through {@link Gemm#linear}: checked against
 * {@link GemmReference} with {@link GemmTest#check}'s bound (it sums in another order than the blocked kernel,
 * and the bound holds for any order of an F32 sum).
 */
class FewRowsTest {
    @Test
    void takesOnlyLargeProductsOfAFewRowsWithConvertedWeights() {
        assertTrue(FewRows.handles(26, 4096, 4096, DType.BF16));
        assertFalse(FewRows.handles(1, 4096, 4096, DType.BF16), "one row is MatVec's");
        assertFalse(FewRows.handles(NativeBlas.MIN_ROWS, 4096, 4096, DType.BF16), "many rows: the blocked product");
        assertFalse(FewRows.handles(26, 4096, 4096, DType.F32), "F32 weights need no conversion");
        assertFalse(FewRows.handles(4, 64, 64, DType.BF16), "small products keep the blocked kernel's sums");
    }

    @Test
    void matchesTheReferenceForEveryConvertedType() {
        SplittableRandom rnd = new SplittableRandom(8);
        // {M, K, N}: whole groups of four x rows, a remainder, an odd N (the last W row alone), K with a tail
        int[][] mkn = {{4, 2048, 2049}, {7, 4096, 1027}, {NativeBlas.MIN_ROWS - 1, 1024, 1100}, {2, 4104, 2051}};
        for (int[] s : mkn) {
            for (DType d : new DType[] {DType.BF16, DType.F16, DType.Q8_0, DType.Q4_0}) {
                if (d.isBlockQuantized() && s[1] % 32 != 0) {
                    continue;
                }
                assertTrue(FewRows.handles(s[0], s[2], s[1], d), java.util.Arrays.toString(s) + " " + d);
                Tensor x = GemmTest.random(rnd, DType.F32, s[0], s[1]);
                Tensor w = d.isBlockQuantized() ? Quantize.quantize(GemmTest.random(rnd, DType.F32, s[2], s[1]), d)
                        : GemmTest.random(rnd, d, s[2], s[1]);
                Tensor bias = GemmTest.random(rnd, DType.F32, s[2]);
                GemmTest.check(x, w, bias, Gemm.linear(x, w, bias));
                GemmTest.check(x, w, null, Gemm.linear(x, w, null));
            }
        }
    }

    @Test
    void operandsConfinedToTheCallerGiveTheSameProduct() {
        SplittableRandom rnd = new SplittableRandom(9);
        Tensor x = GemmTest.random(rnd, DType.F32, 5, 2048);
        Tensor w = GemmTest.random(rnd, DType.BF16, 2000, 2048);
        try (Arena arena = Arena.ofConfined()) {
            Tensor out = Tensor.zeros(arena, DType.F32, 5, 2000);
            Gemm.linear(x, w, null, out);
            assertArrayEquals(Gemm.linear(x, w, null).toFloatArray(), out.toFloatArray());
        }
    }
}
