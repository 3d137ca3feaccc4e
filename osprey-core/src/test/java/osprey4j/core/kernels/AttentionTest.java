package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class AttentionTest {
    // float dot products of up to 128 terms and a float softmax against double: a few 1e-6 relative
    private static final double ABS = 2e-6, REL = 2e-5;

    @Test
    void matchesScalarReferenceOnAwkwardSizes() {
        Random rnd = new Random(5);
        int[][] headShapes = {{1, 1}, {4, 4}, {4, 2}, {6, 1}};
        for (int d : new int[]{1, 3, 17, 64, 128}) {
            for (int[] hs : headShapes) {
                for (int queries : new int[]{0, 1, 5}) {
                    for (int keys : new int[]{1, 7, 33}) {
                        check(rnd, queries, keys, hs[0], hs[1], d, Attention.NOT_CAUSAL, false);
                        check(rnd, queries, keys, hs[0], hs[1], d, Attention.NOT_CAUSAL, true);
                        if (keys >= queries) {
                            check(rnd, queries, keys, hs[0], hs[1], d, keys - queries, false);
                            check(rnd, queries, keys, hs[0], hs[1], d, 0, true);
                        }
                    }
                }
            }
        }
    }

    private static void check(Random rnd, int queries, int keys, int heads, int kvHeads, int d, int causalFrom,
                              boolean withBias) {
        float[] q = Close.random(rnd, queries * heads * d, -1f, 1f);
        float[] k = Close.random(rnd, keys * kvHeads * d, -1f, 1f);
        float[] v = Close.random(rnd, keys * kvHeads * d, -1f, 1f);
        float[] bias = withBias ? Close.random(rnd, heads * queries * keys, -3f, 3f) : null;
        Tensor out = Tensor.zeros(DType.F32, queries, (long) heads * d);
        Attention.attend(Tensor.copyOf(q, queries, (long) heads * d), Tensor.copyOf(k, keys, (long) kvHeads * d),
                Tensor.copyOf(v, keys, (long) kvHeads * d), heads, kvHeads, causalFrom,
                bias == null ? null : Attention.ScoreBias.of(Tensor.copyOf(bias, heads, queries, keys)), null, out);
        String what = "attention q=" + queries + " k=" + keys + " heads=" + heads + "/" + kvHeads + " d=" + d
                + " causalFrom=" + causalFrom + (withBias ? " bias" : "");
        Close.assertClose(ScalarKernels.attention(q, k, v, queries, keys, heads, kvHeads, d, causalFrom, bias),
                out.toFloatArray(), ABS, REL, what);
    }

    /**
     * Keys and values in pages (a KV cache's): F32 pages give the single tensor's result bit for bit, and BF16 or F16
     * pages that of F32 attention over the same values widened to float, whatever the page size (ragged last pages,
     * head_dim off the vector width, grouped heads, causal).
     */
    @Test
    void pagedRowsAreReadAsTheRowsTheyHold() {
        Random rnd = new Random(8);
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int pageRows : new int[] {1, 3, 16, 64}) {
                for (int d : new int[] {5, 32, 40}) {
                    int queries = 4, keys = 37, heads = 4, kvHeads = 2;
                    long width = (long) kvHeads * d;
                    Tensor q = Tensor.copyOf(Close.random(rnd, queries * heads * d, -1f, 1f), queries,
                            (long) heads * d);
                    Tensor k = Tensor.copyOf(Close.random(rnd, (int) (keys * width), -2f, 2f), keys, width)
                            .to(dtype);
                    Tensor v = Tensor.copyOf(Close.random(rnd, (int) (keys * width), -2f, 2f), keys, width)
                            .to(dtype);
                    Tensor expected = Tensor.zeros(DType.F32, queries, (long) heads * d);
                    Attention.attend(q, k.to(DType.F32), v.to(DType.F32), heads, kvHeads, keys - queries, null, null,
                            expected);
                    Tensor got = Tensor.zeros(DType.F32, queries, (long) heads * d);
                    Attention.attend(q, paged(k, pageRows), paged(v, pageRows), heads, kvHeads, keys - queries, null,
                            null, got);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(expected.toFloatArray(), got.toFloatArray(),
                            dtype + " pages of " + pageRows + " rows, head_dim " + d);
                }
            }
        }
    }

    /**
     * Q8_0 pages (a quantised KV cache's) give the F32 attention over the same rows dequantised, up to the order of
     * float roundings: a score multiplies each block's sum by its scale once instead of every quant, a value row
     * scales the probability instead of each element. Over 37 keys of head_dim 32 to 128 that is a few float
     * roundings of values of order 1, hence 1e-5 absolute and relative.
     */
    @Test
    void q8PagesAreReadAsTheirDequantisedRows() {
        Random rnd = new Random(9);
        for (int pageRows : new int[] {1, 16, 64}) {
            for (int d : new int[] {32, 64, 128}) {
                for (int[] hs : new int[][] {{4, 2}, {3, 3}}) {
                    int queries = 4, keys = 37, heads = hs[0], kvHeads = hs[1];
                    long width = (long) kvHeads * d;
                    Tensor q = Tensor.copyOf(Close.random(rnd, queries * heads * d, -1f, 1f), queries,
                            (long) heads * d);
                    Tensor k = Quantize.quantize(Tensor.copyOf(Close.random(rnd, (int) (keys * width), -2f, 2f), keys,
                            width), DType.Q8_0);
                    Tensor v = Quantize.quantize(Tensor.copyOf(Close.random(rnd, (int) (keys * width), -2f, 2f), keys,
                            width), DType.Q8_0);
                    Tensor expected = Tensor.zeros(DType.F32, queries, (long) heads * d);
                    Attention.attend(q, k.to(DType.F32), v.to(DType.F32), heads, kvHeads, keys - queries, null, null,
                            expected);
                    Tensor got = Tensor.zeros(DType.F32, queries, (long) heads * d);
                    Attention.attend(q, paged(k, pageRows), paged(v, pageRows), heads, kvHeads, keys - queries, null,
                            null, got);
                    Close.assertClose(expected.toFloatArray(), got.toFloatArray(), 1e-5, 1e-5,
                            "Q8_0 pages of " + pageRows + " rows, head_dim " + d + ", heads " + heads + "/" + kvHeads);
                }
            }
        }
    }

    /** The rows of t copied into separate pages of pageRows rows (each page a separate allocation). */
    private static PagedRows paged(Tensor t, int pageRows) {
        int rows = t.size(0);
        long rowBytes = t.byteSize() / rows;
        java.lang.foreign.MemorySegment[] pages = new java.lang.foreign.MemorySegment[Math.ceilDiv(rows, pageRows)];
        for (int p = 0; p < pages.length; p++) {
            pages[p] = java.lang.foreign.Arena.ofAuto().allocate(pageRows * rowBytes);
            int n = Math.min(pageRows, rows - p * pageRows);
            java.lang.foreign.MemorySegment.copy(t.segment(), p * pageRows * rowBytes, pages[p], 0, n * rowBytes);
        }
        return new PagedRows(t.dtype(), t.dim(1), pageRows, pages, rows);
    }

    @Test
    void pagedRowsAreChecked() {
        java.lang.foreign.MemorySegment page = java.lang.foreign.Arena.ofAuto().allocate(4 * 8 * 4);
        assertThrows(IllegalArgumentException.class,
                () -> new PagedRows(DType.F32, 8, 4, new java.lang.foreign.MemorySegment[] {page}, 5));
        assertThrows(IllegalArgumentException.class,
                () -> new PagedRows(DType.Q4_0, 32, 4, new java.lang.foreign.MemorySegment[] {page}, 1));
        assertThrows(IllegalArgumentException.class, // not whole blocks
                () -> new PagedRows(DType.Q8_0, 40, 4, new java.lang.foreign.MemorySegment[] {page}, 1));
        PagedRows q8 = new PagedRows(DType.Q8_0, 32, 4, new java.lang.foreign.MemorySegment[] {page}, 3);
        Tensor q16 = Tensor.zeros(DType.F32, 1, 32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Attention.attend(q16, q8, q8,
                2, 2, Attention.NOT_CAUSAL, null, null, Tensor.zeros(DType.F32, 1, 32)));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("not whole Q8_0 blocks"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new PagedRows(DType.F32, 16, 4, new java.lang.foreign.MemorySegment[] {page}, 4));
        PagedRows ok = new PagedRows(DType.F32, 8, 4, new java.lang.foreign.MemorySegment[] {page}, 4);
        Tensor q = Tensor.zeros(DType.F32, 1, 8);
        PagedRows fewer = new PagedRows(DType.F32, 8, 4, new java.lang.foreign.MemorySegment[] {page}, 3);
        assertThrows(IllegalArgumentException.class, () -> Attention.attend(q, ok, fewer, 1, 1,
                Attention.NOT_CAUSAL, null, null, Tensor.zeros(DType.F32, 1, 8)));
    }

    /** Keys and values as views of the first rows of a larger cache, with one workspace for every step. */
    @Test
    void readsCacheViewsStepByStep() {
        Random rnd = new Random(6);
        int capacity = 40, heads = 8, kvHeads = 2, d = 24, prompt = 11;
        float[] k = Close.random(rnd, capacity * kvHeads * d, -1f, 1f);
        float[] v = Close.random(rnd, capacity * kvHeads * d, -1f, 1f);
        Tensor keys = Tensor.copyOf(k, capacity, (long) kvHeads * d);
        Tensor values = Tensor.copyOf(v, capacity, (long) kvHeads * d);
        Attention.Workspace ws = new Attention.Workspace(capacity, d);
        for (int pos = prompt, n = prompt; pos + n <= capacity; pos += n, n = 1) {
            int from = pos - (n == prompt ? prompt : 0);
            int seen = from + n;
            float[] q = Close.random(rnd, n * heads * d, -1f, 1f);
            Tensor out = Tensor.zeros(DType.F32, n, heads, d);
            Attention.attend(Tensor.copyOf(q, n, heads, d), keys.slice(0, seen), values.slice(0, seen), heads, kvHeads,
                    from, null, ws, out);
            float[] kSeen = java.util.Arrays.copyOf(k, seen * kvHeads * d);
            float[] vSeen = java.util.Arrays.copyOf(v, seen * kvHeads * d);
            Close.assertClose(ScalarKernels.attention(q, kSeen, vSeen, n, seen, heads, kvHeads, d, from, null),
                    out.toFloatArray(), ABS, REL, "cache step at " + from);
        }
    }

    /** SAM's windowed attention: non-causal, no GQA, a decomposed 2-d relative bias, against the dense form. */
    @Test
    void decomposedBiasEqualsItsDenseForm() {
        Random rnd = new Random(10);
        int heads = 3, d = 20, kh = 5, kw = 7, keys = kh * kw, queries = keys;
        float[] q = Close.random(rnd, queries * heads * d, -1f, 1f);
        float[] k = Close.random(rnd, keys * heads * d, -1f, 1f);
        float[] v = Close.random(rnd, keys * heads * d, -1f, 1f);
        float[] rows = Close.random(rnd, heads * queries * kh, -2f, 2f);
        float[] cols = Close.random(rnd, heads * queries * kw, -2f, 2f);
        float[] dense = new float[heads * queries * keys];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < queries; i++) {
                for (int j = 0; j < keys; j++) {
                    dense[(h * queries + i) * keys + j] = rows[(h * queries + i) * kh + j / kw]
                            + cols[(h * queries + i) * kw + j % kw];
                }
            }
        }
        Tensor out = Tensor.zeros(DType.F32, queries, (long) heads * d);
        Attention.attend(Tensor.copyOf(q, queries, (long) heads * d), Tensor.copyOf(k, keys, (long) heads * d),
                Tensor.copyOf(v, keys, (long) heads * d), heads, heads, Attention.NOT_CAUSAL,
                Attention.ScoreBias.decomposed(Tensor.copyOf(rows, heads, queries, kh), Tensor.copyOf(cols, heads, queries, kw)),
                null, out);
        Close.assertClose(ScalarKernels.attention(q, k, v, queries, keys, heads, heads, d, -1, dense), out.toFloatArray(),
                ABS, REL, "decomposed bias");
    }

    @Test
    void refusesMismatchedShapes() {
        Tensor q = Tensor.zeros(DType.F32, 3, 12);
        Tensor kv = Tensor.zeros(DType.F32, 5, 6);
        Tensor out = Tensor.zeros(DType.F32, 3, 12);
        assertThrows(IllegalArgumentException.class, () -> Attention.attend(q, kv, kv, 4, 3, -1, null, null, out));
        assertThrows(IllegalArgumentException.class, () -> Attention.attend(q, kv, kv, 4, 2, 3, null, null, out));
        assertThrows(IllegalArgumentException.class, () -> Attention.attend(q, kv, kv, 2, 2, -1, null, null, out));
        assertThrows(IllegalArgumentException.class,
                () -> Attention.attend(q, kv, kv, 4, 2, -1, null, new Attention.Workspace(4, 3), out));
        assertThrows(IllegalArgumentException.class, () -> Attention.attend(q, kv, kv, 4, 2, -1, null, null, q));
    }
}
