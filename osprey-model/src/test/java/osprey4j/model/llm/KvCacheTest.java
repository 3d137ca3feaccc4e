package osprey4j.model.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The paged KV cache on the parity model (2 layers, kv_dim 64): a sequence longer than two pages, prefixes shared
 * without copying (and left intact by whatever the caches built on them write), and the 16-bit element types.
 */
class KvCacheTest {
    /** Positions of the test sequence: several pages, ending inside the last (pages of up to 64 positions). */
    private static final int LENGTH = 149;
    private static final int PAGES = Math.ceilDiv(LENGTH, KvCache.PAGE_POSITIONS);

    private static Checkpoint weights;
    private static Llama llama;
    private static Tensor sequence;

    @BeforeAll
    static void load() {
        weights = Checkpoints.open(LlamaParityTest.parity("model"));
        llama = Llama.load(weights, LlamaConfig.read(LlamaParityTest.parity("model/config.json")));
        SplittableRandom rnd = new SplittableRandom(5);
        int[] ids = new int[LENGTH];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 3 + rnd.nextInt(llama.config().vocabSize() - 3);
        }
        sequence = llama.embed(ids);
    }

    @AfterAll
    static void close() {
        weights.close();
    }

    private static Tensor rows(int from, int to) {
        return sequence.slice(from, to).copy();
    }

    /** The logits after running rows [0, split) and then [split, LENGTH) into a fresh cache of this type. */
    private static float[] inTwoSteps(int split, DType dtype) {
        try (KvCache cache = llama.newCache(LENGTH, dtype)) {
            llama.forward(rows(0, split), cache);
            return llama.forward(rows(split, LENGTH), cache);
        }
    }

    @Test
    void aRestoredPrefixGivesTheLogitsOfTheSequenceRunWhole() {
        for (int shared : new int[] {KvCache.PAGE_POSITIONS, KvCache.PAGE_POSITIONS + 7, LENGTH - 1}) {
            float[] expected = inTwoSteps(shared, DType.F32);
            try (KvCache first = llama.newCache(LENGTH, DType.F32)) {
                llama.forward(rows(0, LENGTH), first); // the prefix comes from a longer run, as in Osprey.ask
                KvCache.Prefix prefix = first.prefix(LENGTH);
                try (KvCache next = llama.newCache(LENGTH, DType.F32)) {
                    next.restore(prefix, shared);
                    assertEquals(shared, next.length());
                    float[] got = llama.forward(rows(shared, LENGTH), next);
                    // the same layers see the same keys and values: only where the prefix's rows were computed
                    // differs (one run of LENGTH rows against one of `shared`), so compare with a tolerance
                    assertClose(expected, got, 1e-4, "prefix of " + shared);
                }
                prefix.close();
            }
        }
    }

    @Test
    void writingAfterARestoreNeverChangesThePrefix() {
        try (KvCache owner = llama.newCache(LENGTH, DType.F32)) {
            llama.forward(rows(0, LENGTH), owner);
            try (KvCache.Prefix prefix = owner.prefix(LENGTH)) {
                float[] reference;
                try (KvCache a = llama.newCache(LENGTH, DType.F32)) {
                    a.restore(prefix, 100);
                    reference = llama.forward(rows(100, LENGTH), a);
                }
                long pagesBefore = prefix.byteSize();
                // The owner and another cache overwrite positions inside the prefix's pages, from 70 and 90 on.
                owner.truncate(70);
                llama.forward(reversed(70, LENGTH), owner);
                try (KvCache b = llama.newCache(LENGTH, DType.F32)) {
                    b.restore(prefix, 90);
                    llama.forward(reversed(90, LENGTH), b);
                }
                try (KvCache c = llama.newCache(LENGTH, DType.F32)) {
                    c.restore(prefix, 100);
                    assertArrayEquals(reference, llama.forward(rows(100, LENGTH), c),
                            "the prefix's keys and values are unchanged, bit for bit");
                }
                assertEquals(pagesBefore, prefix.byteSize());
            }
        }
    }

    /** Rows [from, to) of the sequence in reverse order: other inputs at the same positions. */
    private static Tensor reversed(int from, int to) {
        Tensor out = Tensor.zeros(DType.F32, to - from, sequence.dim(1));
        long rowBytes = sequence.dim(1) * Float.BYTES;
        for (int r = 0; r < to - from; r++) {
            MemorySegment.copy(sequence.segment(), (to - 1 - r) * rowBytes, out.segment(), r * rowBytes, rowBytes);
        }
        return out;
    }

    @Test
    void aPrefixSharesPagesInsteadOfCopyingThem() {
        try (KvCache owner = llama.newCache(LENGTH, DType.F32)) {
            llama.forward(rows(0, LENGTH), owner);
            long pageBytes = owner.byteSize() / PAGES;
            assertEquals(PAGES * pageBytes, owner.byteSize(), PAGES + " pages hold " + LENGTH + " positions");
            try (KvCache.Prefix prefix = owner.prefix(KvCache.PAGE_POSITIONS + 1);
                 KvCache next = llama.newCache(LENGTH, DType.F32)) {
                assertEquals(2 * pageBytes, prefix.byteSize());
                next.restore(prefix, KvCache.PAGE_POSITIONS + 1);
                assertEquals(2 * pageBytes, next.byteSize(), "restored pages are shared, not copied");
                llama.forward(rows(KvCache.PAGE_POSITIONS + 1, KvCache.PAGE_POSITIONS + 2), next);
                assertEquals(2 * pageBytes, next.byteSize(), "the partly shared page was copied before the write");
            }
        }
    }

    /** A long input runs in chunks (here of at most 40 positions: 149 -> 38 + 37 + 37 + 37) with the same result. */
    @Test
    void chunkedPrefillGivesTheLogitsOfOneStep() {
        float[] whole;
        Tensor wholeAll;
        try (KvCache cache = llama.newCache(LENGTH, DType.F32)) {
            whole = llama.forward(rows(0, LENGTH), cache, LENGTH);
        }
        try (KvCache cache = llama.newCache(LENGTH, DType.F32)) {
            wholeAll = llama.forwardAll(rows(0, LENGTH), cache, LENGTH);
        }
        try (KvCache cache = llama.newCache(LENGTH, DType.F32)) {
            assertClose(whole, llama.forward(rows(0, LENGTH), cache, 40), 1e-4, "forward in chunks");
            assertEquals(LENGTH, cache.length());
        }
        try (KvCache cache = llama.newCache(LENGTH, DType.F32)) {
            Tensor chunked = llama.forwardAll(rows(0, LENGTH), cache, 40);
            assertClose(wholeAll.toFloatArray(), chunked.toFloatArray(), 1e-4, "forwardAll in chunks");
            assertArrayEquals(whole, chunked.slice(LENGTH - 1, LENGTH).toFloatArray(), 1e-4f);
        }
    }

    @Test
    void sixteenBitCachesStayCloseToTheFloatOne() {
        float[] f32 = inTwoSteps(LENGTH - 1, DType.F32);
        float[] bf16 = inTwoSteps(LENGTH - 1, DType.BF16);
        float[] f16 = inTwoSteps(LENGTH - 1, DType.F16);
        // bf16 keeps 8 significant bits (relative error 2^-9 per key and value), f16 11; the parity model's logits
        // are of order 1, so their errors stay far under these bounds, and f16 is the closer one.
        double bfError = maxDifference(f32, bf16);
        double fError = maxDifference(f32, f16);
        assertTrue(bfError > 0 && bfError < 5e-2, "bf16 cache: max logit difference " + bfError);
        assertTrue(fError < bfError && fError < 1e-2, "f16 cache: max logit difference " + fError);
        try (KvCache cache = llama.newCache(LENGTH, DType.BF16)) {
            llama.forward(rows(0, 2), cache);
            assertEquals(2L * 2 * KvCache.PAGE_POSITIONS * 64 * 2, cache.byteSize(), "half the F32 page");
        }
    }

    @Test
    void prefixesOnlyRestoreIntoCachesOfTheirType() {
        try (KvCache f32 = llama.newCache(LENGTH, DType.F32); KvCache bf16 = llama.newCache(LENGTH, DType.BF16)) {
            llama.forward(rows(0, 5), f32);
            try (KvCache.Prefix prefix = f32.prefix(5)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bf16.restore(prefix, 5));
                assertTrue(e.getMessage().contains("element type"), e.getMessage());
            }
            KvCache.Prefix closed = f32.prefix(5);
            closed.close();
            assertThrows(IllegalStateException.class, () -> f32.restore(closed, 5));
        }
        IllegalArgumentException q8 = assertThrows(IllegalArgumentException.class, () -> llama.newCache(4, DType.Q8_0));
        assertTrue(q8.getMessage().contains("head_dim") && q8.getMessage().contains("16"), q8.getMessage());
        assertThrows(IllegalArgumentException.class, () -> llama.newCache(4, DType.Q4_0));
    }

    @Test
    void theCacheTypeFollowsThePropertyOrTheWeights() {
        assertEquals(DType.F32, Llama.chooseKvCacheType("auto", false, 128));
        assertEquals(DType.Q8_0, Llama.chooseKvCacheType("auto", true, 128), "quantised weights, whole blocks");
        assertEquals(DType.BF16, Llama.chooseKvCacheType("auto", true, 48), "quantised weights, head_dim 48");
        assertEquals(DType.F16, Llama.chooseKvCacheType(" F16 ", true, 128));
        assertEquals(DType.F32, Llama.chooseKvCacheType("f32", true, 128));
        assertEquals(DType.BF16, Llama.chooseKvCacheType("bf16", false, 128));
        assertEquals(DType.Q8_0, Llama.chooseKvCacheType("Q8_0", false, 64));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Llama.chooseKvCacheType("q4_0", false, 128));
        assertTrue(e.getMessage().contains("-Dosprey.kvCache=q4_0"), e.getMessage());
        IllegalArgumentException q8 = assertThrows(IllegalArgumentException.class,
                () -> Llama.chooseKvCacheType("q8_0", true, 48));
        assertTrue(q8.getMessage().contains("head_dim") && q8.getMessage().contains("48"), q8.getMessage());
        assertEquals(DType.F32, llama.kvCacheType(), "an F32 model caches in F32 by default");
    }

    private static double maxDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    private static void assertClose(float[] expected, float[] got, double tolerance, String what) {
        double d = maxDifference(expected, got);
        assertTrue(d <= tolerance, what + ": max logit difference " + d);
    }
}
