package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Products with Q8_0 and Q4_0 weights, one-row (decoding) and blocked (M > 1), against the product with the
 * dequantised weights summed in double ({@link GemmReference}). Tolerance as for the 16-bit types
 * ({@link GemmTest#check}): 4 sqrt(K) float epsilons times sum |x w| (plus one ulp); the dequantised weights
 * d * q are exact in float (11 + 8 significant bits), so only the summation order differs.
 */
class QuantGemmTest {
    @ParameterizedTest
    @CsvSource({
        "Q8_0, 1, 32, 1", "Q8_0, 1, 64, 7", "Q8_0, 1, 4096, 133", "Q8_0, 1, 1024, 1000",
        "Q4_0, 1, 32, 1", "Q4_0, 1, 64, 7", "Q4_0, 1, 4096, 133", "Q4_0, 1, 1024, 1000",
        "Q8_0, 2, 96, 5", "Q8_0, 9, 320, 70", "Q8_0, 17, 4160, 50",
        "Q4_0, 2, 96, 5", "Q4_0, 9, 320, 70", "Q4_0, 17, 4160, 50"})
    void matchesDequantisedProduct(DType type, int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(m * 1000003L + k * 31L + n);
        Tensor x = GemmTest.random(rnd, DType.F32, m, k);
        Tensor w = Quantize.quantize(GemmTest.random(rnd, DType.F32, n, k), type);
        Tensor bias = n % 2 == 1 ? GemmTest.random(rnd, DType.F32, n) : null;
        Tensor out = Gemm.linear(x, w, bias);
        GemmTest.check(x, w, bias, out);
        // the same product with the weights dequantised to F32 first (the F32 kernels), as a second peer
        Tensor wf = Tensor.copyOf(w.toFloatArray(), n, k);
        Close.assertClose(Gemm.linear(x, wf, bias).toFloatArray(), out.toFloatArray(),
                1e-4 * Math.sqrt(k), 1e-4, type + " vs F32 kernel");
    }

    @ParameterizedTest
    @CsvSource({"Q8_0", "Q4_0"})
    void unalignedWeightsAndAQuantisedMatrixIsNotAZeroProduct(DType type) {
        SplittableRandom rnd = new SplittableRandom(5);
        int n = 37;
        int k = 128;
        Tensor q = Quantize.quantize(GemmTest.random(rnd, DType.F32, n, k), type);
        MemorySegment odd = Arena.ofAuto().allocate(q.byteSize() + 1).asSlice(1);
        odd.copyFrom(q.segment());
        Tensor w = Tensor.of(type, odd, n, k);
        Tensor x = GemmTest.random(rnd, DType.F32, 1, k);
        Tensor out = Gemm.linear(x, w, null);
        GemmTest.check(x, w, null, out);
        double norm = 0;
        for (float v : out.toFloatArray()) {
            norm += Math.abs(v);
        }
        assertTrue(norm > 1, "the product is not trivially zero");
        assertEquals(n, out.numel());
    }
}
