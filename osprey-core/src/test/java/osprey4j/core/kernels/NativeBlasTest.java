package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The OpenBLAS backend of {@link Gemm#linear}, where the machine has the library (skipped elsewhere; the
 * pure-Java path is then the only one, and {@link GemmTest} covers it either way). Products are checked
 * against {@link GemmReference} with {@link GemmTest#check}'s bound: OpenBLAS sums in another order, and the
 * bound holds for any order of an F32 sum.
 */
class NativeBlasTest {
    @Test
    void saysWhetherItIsUsedAndWhy() {
        assertTrue(NativeBlas.library().isPresent() || NativeBlas.unavailableReason() != null);
        assertFalse(NativeBlas.handles(NativeBlas.MIN_ROWS - 1, 4096, 4096, DType.F32), "few rows stay in Java");
        assertFalse(NativeBlas.handles(4096, 16, 16, DType.F32), "small products stay in Java");
    }

    @Test
    void largeProductsMatchTheReferenceForEveryWeightType() {
        Assumptions.assumeTrue(NativeBlas.library().isPresent(), "no OpenBLAS: " + NativeBlas.unavailableReason());
        assertTrue(NativeBlas.handles(NativeBlas.MIN_ROWS + 5, 700, 704, DType.BF16));
        SplittableRandom rnd = new SplittableRandom(3);
        // N above the slice of rows converted per call (512), so the slices' column offsets are exercised.
        for (DType d : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0, DType.Q4_0}) {
            int k = 704;
            Tensor x = GemmTest.random(rnd, DType.F32, NativeBlas.MIN_ROWS + 5, k);
            Tensor w = d.isBlockQuantized() ? Quantize.quantize(GemmTest.random(rnd, DType.F32, 700, k), d)
                    : GemmTest.random(rnd, d, 700, k);
            Tensor bias = GemmTest.random(rnd, DType.F32, 700);
            GemmTest.check(x, w, bias, Gemm.linear(x, w, bias));
            GemmTest.check(x, w, null, Gemm.linear(x, w, null));
        }
    }

    @Test
    void smallProductsGoToTheLibraryOnlyWhereTrainingAsks() {
        Assumptions.assumeTrue(NativeBlas.library().isPresent(), "no OpenBLAS: " + NativeBlas.unavailableReason());
        // a ConvNeXt block's fc1 at 32x32: 1024 x 32 -> 128, 8 MFLOP, under the usual threshold
        int m = 1024, k = 32, n = 128;
        assertFalse(NativeBlas.handles(m, n, k, DType.F32));
        SplittableRandom rnd = new SplittableRandom(8);
        Tensor x = GemmTest.random(rnd, DType.F32, m, k);
        Tensor w = GemmTest.random(rnd, DType.F32, n, k);
        Tensor bias = GemmTest.random(rnd, DType.F32, n);
        Tensor java = Tensor.zeros(DType.F32, m, n);
        Gemm.linearInJava(x, w, bias, java);
        Tensor lib = Tensor.zeros(DType.F32, m, n);
        NativeBlas.linear(x.segment(), m, k, DType.F32, w.segment(), n, bias.toFloatArray(), lib.segment());
        Tensor scoped = Gemm.withSmallProductsNative(() -> Gemm.linear(x, w, bias));
        org.junit.jupiter.api.Assertions.assertArrayEquals(lib.toFloatArray(), scoped.toFloatArray(),
                "inside the scope the library computes it");
        org.junit.jupiter.api.Assertions.assertArrayEquals(java.toFloatArray(), Gemm.linear(x, w, bias).toFloatArray(),
                "after the scope the Java kernel does again");
        GemmTest.check(x, w, bias, scoped);
        // fewer rows than the library's minimum stay in Java even inside the scope
        Tensor few = GemmTest.random(rnd, DType.F32, NativeBlas.MIN_ROWS - 1, k);
        Tensor fewJava = Tensor.zeros(DType.F32, NativeBlas.MIN_ROWS - 1, n);
        Gemm.linearInJava(few, w, bias, fewJava);
        org.junit.jupiter.api.Assertions.assertArrayEquals(fewJava.toFloatArray(),
                Gemm.withSmallProductsNative(() -> Gemm.linear(few, w, bias)).toFloatArray());
    }

    @Test
    void largeMatmulsMatchTheReference() {
        Assumptions.assumeTrue(NativeBlas.library().isPresent(), "no OpenBLAS: " + NativeBlas.unavailableReason());
        // {M, K, N}: SAM's token-to-image product, a ragged N (not a multiple of the 64-column items), one item
        int[][] mkn = {{56, 4096, 256}, {NativeBlas.MIN_ROWS, 2048, 333}, {40, 8192, 64}};
        SplittableRandom rnd = new SplittableRandom(6);
        for (int[] s : mkn) {
            assertTrue(NativeBlas.handles(s[0], s[2], s[1], DType.F32));
            Tensor x = GemmTest.random(rnd, DType.F32, s[0], s[1]);
            Tensor w = GemmTest.random(rnd, DType.F32, s[1], s[2]);
            Tensor out = Tensor.zeros(DType.F32, s[0], s[2]);
            out.segment().fill((byte) 0x7f);   // beta = 0: whatever out held is not read
            Gemm.matmul(x, w, out);
            GemmTest.check(x, GemmTest.transpose(w), null, out);
            Tensor heapOut = Tensor.wrap(new float[s[0] * s[2]], s[0], s[2]);
            Gemm.matmul(Tensor.wrap(x.toFloatArray(), s[0], s[1]), Tensor.wrap(w.toFloatArray(), s[1], s[2]), heapOut);
            org.junit.jupiter.api.Assertions.assertArrayEquals(out.toFloatArray(), heapOut.toFloatArray(),
                    "heap operands are copied to native memory and give the same product");
        }
    }

    @Test
    void nativeAndHeapOperandsGiveTheSameProduct() {
        Assumptions.assumeTrue(NativeBlas.library().isPresent(), "no OpenBLAS: " + NativeBlas.unavailableReason());
        SplittableRandom rnd = new SplittableRandom(4);
        Tensor x = GemmTest.random(rnd, DType.F32, 40, 700);
        Tensor w = GemmTest.random(rnd, DType.F32, 700, 700);
        // a shared arena (the pool's threads split the columns) and a confined one (the calling thread does all)
        for (Arena arena : new Arena[] {Arena.ofShared(), Arena.ofConfined()}) {
            Tensor nx = Tensor.zeros(arena, DType.F32, 40, 700);
            nx.segment().copyFrom(x.segment());
            Tensor nw = Tensor.zeros(arena, DType.F32, 700, 700);
            nw.segment().copyFrom(w.segment());
            Tensor nout = Tensor.zeros(arena, DType.F32, 40, 700);
            Gemm.linear(nx, nw, null, nout);
            assertNotNull(nout);
            GemmTest.check(x, w, null, nout);
            org.junit.jupiter.api.Assertions.assertArrayEquals(Gemm.linear(x, w, null).toFloatArray(),
                    nout.toFloatArray(), "the same library calls on copies of the operands");
            arena.close();
        }
    }
}
