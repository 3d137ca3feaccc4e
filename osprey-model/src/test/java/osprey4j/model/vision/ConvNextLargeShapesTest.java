package osprey4j.model.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Floats;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.vision.ConvNextTower.Features;

/**
 * The tower at Osprey-7B's real size, ConvNeXt-Large (dims 192/384/768/1536, depths 3/3/27/3, 198M parameters),
 * with random F16 weights made here in the open_clip layout of the CLIP file (the Osprey weights hold no tower,
 * so everything comes from the CLIP file), run on a 512 x 512 image: every output has the reference's shape
 * and is finite. Prints the forward time (set {@code -Dosprey.vision.runs=3} for warmed-up figures).
 */
class ConvNextLargeShapesTest {
    private static final int[] DIMS = {192, 384, 768, 1536};
    private static final int[] DEPTHS = {3, 3, 27, 3};

    @Test
    void convNextLargeRunsOnA512Image() {
        long t0 = System.nanoTime();
        MemoryCheckpoint clip = convNextLarge(new SplittableRandom(7), "visual.trunk.");
        long t1 = System.nanoTime();
        ConvNextTower tower = ConvNextTower.load(new MemoryCheckpoint(), clip);
        assertArrayEquals(new int[] {192, 192, 384, 768, 1536}, tower.channels());
        assertArrayEquals(DEPTHS, tower.depths());

        Tensor pixels = random(new SplittableRandom(11), DType.F32, 2f, 3, 512, 512);
        // One run keeps the suite fast; -Dosprey.vision.runs=3 times warmed-up runs too (the first includes JIT).
        int runs = Math.max(1, Integer.getInteger("osprey.vision.runs", 1));
        Features f = null;
        for (int r = 0; r < runs; r++) {
            long start = System.nanoTime();
            f = tower.forward(pixels);
            System.out.printf("ConvNeXt-Large (random F16 weights) on 512x512, run %d: %.2f s on %d threads%s%n", r + 1,
                    (System.nanoTime() - start) / 1e9, osprey4j.core.concurrent.ComputePool.threads(),
                    r == 0 ? " (includes JIT compilation; weights made in " + String.format("%.2f", (t1 - t0) / 1e9) + " s)" : "");
        }
        assertArrayEquals(new long[] {192, 128, 128}, f.stem().shape());
        assertArrayEquals(new long[] {192, 128, 128}, f.res2().shape());
        assertArrayEquals(new long[] {384, 64, 64}, f.res3().shape());
        assertArrayEquals(new long[] {768, 32, 32}, f.res4().shape());
        assertArrayEquals(new long[] {1536, 16, 16}, f.res5().shape());
        for (Tensor t : new Tensor[] {f.stem(), f.res2(), f.res3(), f.res4(), f.res5()}) {
            assertFiniteAndAlive(t);
        }
    }

    private static void assertFiniteAndAlive(Tensor t) {
        float[] v = t.toFloatArray();
        double sumSq = 0;
        for (float x : v) {
            assertTrue(Float.isFinite(x), "non-finite value in " + t);
            sumSq += (double) x * x;
        }
        double rms = Math.sqrt(sumSq / v.length);
        assertTrue(rms > 1e-3 && rms < 1e3, "rms " + rms + " of " + t + " is implausible");
    }

    /** ConvNeXt-Large's trunk with random F16 weights, scaled so activations stay of order 1. */
    static MemoryCheckpoint convNextLarge(SplittableRandom rng, String prefix) {
        MemoryCheckpoint c = new MemoryCheckpoint();
        DType d = DType.F16;
        c.put(prefix + "stem.0.weight", random(rng, d, 1 / (float) Math.sqrt(48), DIMS[0], 3, 4, 4));
        c.put(prefix + "stem.0.bias", random(rng, d, 0.1f, DIMS[0]));
        c.put(prefix + "stem.1.weight", around(rng, d, 1f, 0.1f, DIMS[0]));
        c.put(prefix + "stem.1.bias", random(rng, d, 0.1f, DIMS[0]));
        int prev = DIMS[0];
        for (int s = 0; s < 4; s++) {
            int ch = DIMS[s];
            String p = prefix + "stages." + s + ".";
            if (s > 0) {
                c.put(p + "downsample.0.weight", around(rng, d, 1f, 0.1f, prev));
                c.put(p + "downsample.0.bias", random(rng, d, 0.1f, prev));
                c.put(p + "downsample.1.weight", random(rng, d, 1 / (float) Math.sqrt(4.0 * prev), ch, prev, 2, 2));
                c.put(p + "downsample.1.bias", random(rng, d, 0.1f, ch));
            }
            for (int b = 0; b < DEPTHS[s]; b++) {
                String q = p + "blocks." + b + ".";
                c.put(q + "gamma", around(rng, d, 0.1f, 0.05f, ch));
                c.put(q + "conv_dw.weight", random(rng, d, 1 / 7f, ch, 1, 7, 7));
                c.put(q + "conv_dw.bias", random(rng, d, 0.1f, ch));
                c.put(q + "norm.weight", around(rng, d, 1f, 0.1f, ch));
                c.put(q + "norm.bias", random(rng, d, 0.1f, ch));
                c.put(q + "mlp.fc1.weight", random(rng, d, 1 / (float) Math.sqrt(ch), 4 * ch, ch));
                c.put(q + "mlp.fc1.bias", random(rng, d, 0.1f, 4 * ch));
                c.put(q + "mlp.fc2.weight", random(rng, d, 1 / (float) Math.sqrt(4.0 * ch), ch, 4 * ch));
                c.put(q + "mlp.fc2.bias", random(rng, d, 0.1f, ch));
            }
            prev = ch;
        }
        return c;
    }

    /** Uniform in [-scale, scale]. */
    static Tensor random(SplittableRandom rng, DType dtype, float scale, long... shape) {
        return around(rng, dtype, 0f, scale, shape);
    }

    /** Uniform in [center - spread, center + spread], written straight into the segment. */
    static Tensor around(SplittableRandom rng, DType dtype, float center, float spread, long... shape) {
        Tensor t = Tensor.zeros(dtype, shape);
        MemorySegment s = t.segment();
        long n = t.numel();
        for (long i = 0; i < n; i++) {
            float v = center + spread * (float) (2 * rng.nextDouble() - 1);
            if (dtype == DType.F16) {
                s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.floatToF16(v));
            } else {
                t.setFloat(i, v);
            }
        }
        return t;
    }
}
