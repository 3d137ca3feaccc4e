package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Floats;
import osprey4j.core.tensor.Tensor;

/**
 * {@link Gemm#linear} against {@link GemmReference} (double accumulation, scalar reads).
 *
 * <p>Tolerance: the weights' BF16/F16 to F32 conversion is exact and FMA products are exact, so the only
 * error is F32 rounding of the K-term sum (and of the result). For terms of random sign that error behaves
 * like a random walk, about sqrt(K) * eps * sum_k |x_k w_k| (the worst case is K * eps); we allow
 * 4 * sqrt(K) * eps times that scale, plus one ulp of the result. Any indexing or packing bug (a wrong or
 * missing term) gives an error of the order of a whole term, far above this bound.
 */
class GemmTest {
    private static final double EPS = Math.ulp(1.0f);

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        int[][] mkn = {
                {1, 1, 1}, {1, 7, 5}, {1, 16, 4}, {1, 33, 9}, {1, 300, 37},
                {2, 3, 1}, {5, 17, 31}, {6, 16, 32}, {7, 33, 33}, {13, 300, 47}, {37, 1, 70}, {12, 257, 65},
        };
        for (DType d : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int[] s : mkn) {
                cases.add(Arguments.of(d, s[0], s[1], s[2], true));
            }
            cases.add(Arguments.of(d, 9, 40, 20, false));
            cases.add(Arguments.of(d, 1, 40, 20, false));
        }
        return cases.stream();
    }

    @Test
    void matmulIsLinearOfTheTransposeBitwise() {
        // {M, K, N}: one row, partial tiles and panels, several panels and items
        int[][] mkn = {{1, 9, 5}, {2, 3, 1}, {9, 40, 20}, {56, 128, 300}, {8, 4096, 16}, {100, 33, 97}};
        for (int[] s : mkn) {
            SplittableRandom rnd = new SplittableRandom(11L * s[0] + s[1] + s[2]);
            Tensor x = random(rnd, DType.F32, s[0], s[1]);
            Tensor w = random(rnd, DType.F32, s[1], s[2]);
            Tensor out = Tensor.zeros(DType.F32, s[0], s[2]);
            Gemm.matmul(x, w, out);
            Tensor transposed = transpose(w);
            check(x, transposed, null, out);
            if (s[0] > 1) {
                // the blocked product (one row goes to MatVec in linear, which sums in another order, and larger
                // products to OpenBLAS where the machine has it)
                org.junit.jupiter.api.Assertions.assertArrayEquals(javaLinear(x, transposed, null).toFloatArray(),
                        out.toFloatArray(), java.util.Arrays.toString(s));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(Tensor.zeros(DType.F32, 2, 3),
                Tensor.zeros(DType.F32, 4, 5), Tensor.zeros(DType.F32, 2, 5)));
    }

    @ParameterizedTest(name = "{0} M={1} K={2} N={3} bias={4}")
    @MethodSource("shapes")
    void matchesReference(DType dtype, int m, int k, int n, boolean withBias) {
        SplittableRandom rnd = new SplittableRandom(31L * m + 7L * k + n + dtype.ordinal());
        Tensor x = random(rnd, DType.F32, m, k);
        Tensor w = random(rnd, dtype, n, k);
        Tensor bias = withBias ? random(rnd, DType.F32, n) : null;
        check(x, w, bias, Gemm.linear(x, w, bias));
    }

    @Test
    void mediumShapeSplitAcrossThreadsAndBlocks() {
        // Several work items cut by rows and columns, with a ragged last panel and a ragged last row tile.
        SplittableRandom rnd = new SplittableRandom(5);
        for (DType d : new DType[] {DType.F32, DType.BF16}) {
            Tensor x = random(rnd, DType.F32, 160, 600);
            Tensor w = random(rnd, d, 200, 600);
            Tensor bias = random(rnd, DType.F32, 200);
            check(x, w, bias, Gemm.linear(x, w, bias));
            check(x, w, bias, javaLinear(x, w, bias));
        }
    }

    /** An F32 [R, C] matrix's transpose, [C, R]. */
    static Tensor transpose(Tensor w) {
        int r = w.size(0), c = w.size(1);
        float[] wv = w.toFloatArray(), wt = new float[wv.length];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                wt[j * r + i] = wv[i * c + j];
            }
        }
        return Tensor.wrap(wt, c, r);
    }

    /**
     * The pure-Java blocked product, whatever {@link Gemm#linear} would choose (it sends products of many rows
     * to OpenBLAS where the machine has it), so that the Java path stays tested on such machines too.
     */
    static Tensor javaLinear(Tensor x, Tensor w, Tensor bias) {
        int n = w.size(0);
        int k = w.size(1);
        int m = Math.toIntExact(x.numel() / k);
        Tensor out = Tensor.zeros(DType.F32, m, n);
        Gemm.blocked(x.segment(), m, k, w.dtype(), w.segment(), n, bias == null ? null : bias.toFloatArray(),
                out.segment(), 1L << 26);
        return out;
    }

    @Test
    void deepKCrossesKBlocks() {
        // K past one K block (and not a multiple of it): later blocks accumulate into out.
        SplittableRandom rnd = new SplittableRandom(12);
        int k = 2 * Gemm.KC + 37;
        for (DType d : new DType[] {DType.F32, DType.F16}) {
            Tensor x = random(rnd, DType.F32, 11, k);
            Tensor w = random(rnd, d, 53, k);
            Tensor bias = random(rnd, DType.F32, 53);
            check(x, w, bias, Gemm.linear(x, w, bias));
        }
    }

    @Test
    void oneRowLargeEnoughToSplitAcrossThreads() {
        // Decoding shape big enough for the parallel matrix-vector path, with a K tail and a ragged last block.
        SplittableRandom rnd = new SplittableRandom(11);
        for (DType d : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            Tensor x = random(rnd, DType.F32, 1, 301);
            Tensor w = random(rnd, d, 517, 301);
            Tensor bias = random(rnd, DType.F32, 517);
            check(x, w, bias, Gemm.linear(x, w, bias));
        }
    }

    @Test
    void oneRowProductsOfShrinkingAndGrowingKFromSeveralThreads() throws Exception {
        // One-row products copy x into a buffer their calling thread keeps: a shorter x after a longer one must
        // not read the longer one's leftovers, and threads must not share the buffer.
        int[] ks = {1000, 7, 33, 1000, 301};
        Runnable products = () -> {
            SplittableRandom rnd = new SplittableRandom(Thread.currentThread().threadId());
            for (int rep = 0; rep < 20; rep++) {
                for (int k : ks) {
                    Tensor x = random(rnd, DType.F32, 1, k);
                    Tensor w = random(rnd, DType.BF16, 65, k);
                    check(x, w, null, Gemm.linear(x, w, null));
                }
            }
        };
        Thread other = new Thread(products);
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        other.setUncaughtExceptionHandler((t, e) -> failure.set(e));
        other.start();
        products.run();
        other.join();
        if (failure.get() != null) {
            throw new AssertionError("the second thread failed", failure.get());
        }
    }

    @Test
    void rowItemsShareOnePackedWOrPackTheirOwnWhenWIsLarge() {
        // Narrow W, rows cut into several items: W is packed once for all of them, over two K blocks.
        SplittableRandom rnd = new SplittableRandom(8);
        Tensor x = random(rnd, DType.F32, 90, Gemm.KC + 45);
        Tensor w = random(rnd, DType.BF16, 100, Gemm.KC + 45);
        check(x, w, null, Gemm.linear(x, w, null));
        // W over the shared-packing budget (4.2M floats) with rows still cut: each item packs its own panels.
        Tensor xb = random(rnd, DType.F32, 40, 4200);
        Tensor wb = random(rnd, DType.BF16, 1000, 4200);
        Tensor bias = random(rnd, DType.F32, 1000);
        check(xb, wb, bias, Gemm.linear(xb, wb, bias));
    }

    @Test
    void fewColumnsManyRowsSplitsRows() {
        SplittableRandom rnd = new SplittableRandom(6);
        Tensor x = random(rnd, DType.F32, 301, 70);
        Tensor w = random(rnd, DType.F16, 9, 70);
        check(x, w, null, Gemm.linear(x, w, null));
    }

    @Test
    void rowChunksOfPackedXJoinUp() {
        // A product too big for one packed copy of x is done in chunks of rows; force tiny chunks (16 rows).
        SplittableRandom rnd = new SplittableRandom(10);
        Tensor x = random(rnd, DType.F32, 45, 30);
        Tensor w = random(rnd, DType.BF16, 50, 30);
        Tensor bias = random(rnd, DType.F32, 50);
        Tensor out = Tensor.zeros(DType.F32, 45, 50);
        Gemm.blocked(x.segment(), 45, 30, DType.BF16, w.segment(), 50, bias.toFloatArray(), out.segment(), 16 * 30);
        check(x, w, bias, out);
    }

    @Test
    void leadingDimensionsAreRows() {
        SplittableRandom rnd = new SplittableRandom(7);
        Tensor x = random(rnd, DType.F32, 2, 3, 20);
        Tensor w = random(rnd, DType.BF16, 11, 20);
        Tensor out = Gemm.linear(x, w, null);
        assertEquals(List.of(2L, 3L, 11L), List.of(out.dim(0), out.dim(1), out.dim(2)));
        check(x, w, null, out);
    }

    @Test
    void unalignedWeightsHeapInputAndOutput() {
        // Checkpoint tensors may start at any byte; x and out may wrap Java arrays.
        SplittableRandom rnd = new SplittableRandom(8);
        for (DType d : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int m : new int[] {1, 8}) {
                int n = 21;
                int k = 45;
                Tensor dense = random(rnd, d, n, k);
                MemorySegment raw = Arena.ofAuto().allocate(dense.byteSize() + 1, 64).asSlice(1, dense.byteSize());
                MemorySegment.copy(dense.segment(), 0, raw, 0, dense.byteSize());
                Tensor w = Tensor.of(d, raw, n, k);
                float[] xs = new float[m * k];
                for (int i = 0; i < xs.length; i++) {
                    xs[i] = (float) rnd.nextGaussian();
                }
                Tensor x = Tensor.wrap(xs, m, k);
                Tensor out = Tensor.wrap(new float[m * n], m, n);
                Gemm.linear(x, w, null, out);
                check(x, w, null, out);
            }
        }
    }

    @Test
    void emptyDimensions() {
        SplittableRandom rnd = new SplittableRandom(9);
        Tensor bias = random(rnd, DType.F32, 3);
        // K = 0: an empty sum, so out is the bias.
        Tensor out = Gemm.linear(Tensor.zeros(DType.F32, 2, 0), Tensor.zeros(DType.BF16, 3, 0), bias);
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(bias.getFloat(j), out.getFloat(i * 3L + j));
            }
        }
        assertEquals(0, Gemm.linear(Tensor.zeros(DType.F32, 0, 4), Tensor.zeros(DType.F32, 3, 4), bias).numel());
        assertEquals(0, Gemm.linear(Tensor.zeros(DType.F32, 5, 4), Tensor.zeros(DType.F32, 0, 4), null).numel());
    }

    @Test
    void rejectsBadShapesAndTypes() {
        Tensor x = Tensor.zeros(DType.F32, 4, 8);
        Tensor w = Tensor.zeros(DType.F32, 3, 8);
        assertMessage("does not end in K = 7", () -> Gemm.linear(x, Tensor.zeros(DType.F32, 3, 7), null));
        assertMessage("weight must be [N, K]", () -> Gemm.linear(x, Tensor.zeros(DType.F32, 24), null));
        assertMessage("weight must be F32, F16, BF16, Q8_0 or Q4_0", () -> Gemm.linear(x, Tensor.zeros(DType.I8, 3, 8), null));
        assertMessage("x must be F32", () -> Gemm.linear(Tensor.zeros(DType.BF16, 4, 8), w, null));
        assertMessage("bias has shape [4], expected [3]", () -> Gemm.linear(x, w, Tensor.zeros(DType.F32, 4)));
        assertMessage("out has shape [4, 4], expected [4, 3]",
                () -> Gemm.linear(x, w, null, Tensor.zeros(DType.F32, 4, 4)));
        assertMessage("out must be F32", () -> Gemm.linear(x, w, null, Tensor.zeros(DType.BF16, 4, 3)));
        Tensor square = Tensor.zeros(DType.F32, 4, 4);
        assertMessage("must not share memory", () -> Gemm.linear(square, Tensor.zeros(DType.F32, 4, 4), null, square));
    }

    @Test
    void halfAndBfloatConversionIsExactForEveryBitPattern() {
        MemorySegment all = Arena.ofAuto().allocate(2 * 65536 + 2).asSlice(2);
        for (int i = 0; i < 65536; i++) {
            all.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) i);
        }
        float[] got = new float[65536];
        VectorConvert.toFloats(DType.F16, all, 0, got, 0, 65536);
        for (int i = 0; i < 65536; i++) {
            float want = Floats.f16ToFloat((short) i);
            if (Float.isNaN(want) ? !Float.isNaN(got[i]) : Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got[i])) {
                fail("f16 " + Integer.toHexString(i) + ": want " + want + " got " + got[i]);
            }
        }
        VectorConvert.toFloats(DType.BF16, all, 0, got, 0, 65536);
        for (int i = 0; i < 65536; i++) {
            assertEquals(Float.floatToRawIntBits(Floats.bf16ToFloat((short) i)), Float.floatToRawIntBits(got[i]),
                    "bf16 " + Integer.toHexString(i));
        }
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), () -> "message '" + e.getMessage() + "' lacks '" + part + "'");
    }

    static void check(Tensor x, Tensor w, Tensor bias, Tensor out) {
        double[] want = GemmReference.linear(x, w, bias);
        double[] scale = GemmReference.absLinear(x, w, bias);
        int k = w.size(1);
        double factor = 4 * Math.sqrt(Math.max(1, k)) * EPS;
        assertEquals(want.length, out.numel());
        for (int i = 0; i < want.length; i++) {
            double got = out.getFloat(i);
            double tol = factor * scale[i] + Math.ulp((float) want[i]);
            if (!(Math.abs(got - want[i]) <= tol)) {
                int n = w.size(0);
                fail("out[" + i / n + "][" + i % n + "] = " + got + ", want " + want[i] + " (tolerance " + tol
                        + ", x " + java.util.Arrays.toString(x.shape()) + ", w " + w.dtype() + " "
                        + java.util.Arrays.toString(w.shape()) + ")");
            }
        }
    }

    /** Gaussian values rounded to {@code dtype}. */
    static Tensor random(SplittableRandom rnd, DType dtype, long... shape) {
        Tensor t = Tensor.zeros(dtype, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.setFloat(i, (float) rnd.nextGaussian());
        }
        return t;
    }
}
