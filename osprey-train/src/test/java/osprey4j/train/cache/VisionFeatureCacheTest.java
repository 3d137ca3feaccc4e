package osprey4j.train.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.Osprey;

class VisionFeatureCacheTest {
    @TempDir
    Path tmp;

    /** A stand-in tower: maps whose values depend on the file's bytes, counting its calls. */
    static final class FakeEncoder implements VisionFeatureCache.Encoder {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public VisionFeatureCache.Features encode(Path imageFile) throws IOException {
            calls.incrementAndGet();
            byte[] bytes = Files.readAllBytes(imageFile);
            Tensor[] maps = new Tensor[4];
            for (int level = 0; level < 4; level++) {
                int side = 16 >> level;
                Tensor t = Tensor.zeros(DType.F32, 4L << level, side, side);
                for (long i = 0; i < t.numel(); i++) {
                    t.setFloat(i, bytes[(int) (i % bytes.length)] + level * 0.5f + i * 1e-3f);
                }
                maps[level] = t;
            }
            return new VisionFeatureCache.Features(maps[0], maps[1], maps[2], maps[3], 640, 480);
        }
    }

    Path image(String name, String content) throws IOException {
        Path p = tmp.resolve("images").resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        return p;
    }

    static long entryBytes(Path cacheDir) throws IOException {
        try (Stream<Path> files = Files.walk(cacheDir)) {
            return files.filter(f -> f.toString().endsWith(".safetensors")).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    static List<Path> entries(Path cacheDir) throws IOException {
        try (Stream<Path> files = Files.walk(cacheDir)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    static void assertSame(VisionFeatureCache.Features a, VisionFeatureCache.Features b) {
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(a.levels().get(i).shape(), b.levels().get(i).shape());
            assertArrayEquals(a.levels().get(i).toFloatArray(), b.levels().get(i).toFloatArray());
        }
        assertEquals(a.imageWidth(), b.imageWidth());
        assertEquals(a.imageHeight(), b.imageHeight());
    }

    @Test
    void computesOnceAndReadsBackAcrossInstances() throws IOException {
        Path dir = tmp.resolve("cache");
        FakeEncoder enc = new FakeEncoder();
        Path img = image("a.png", "first image");
        VisionFeatureCache cache = new VisionFeatureCache(dir, 1 << 20, "tower-1", 512);
        VisionFeatureCache.Features first = cache.get(img, enc);
        VisionFeatureCache.Features again = cache.get(img, enc);
        assertEquals(1, enc.calls.get());
        assertSame(first, again);
        // Same content under another name: same entry.
        cache.get(image("copy.png", "first image"), enc);
        assertEquals(1, enc.calls.get());
        // A new cache object on the same directory (a later run) reads it too.
        VisionFeatureCache reopened = new VisionFeatureCache(dir, 1 << 20, "tower-1", 512);
        assertSame(first, reopened.get(img, enc));
        assertEquals(1, enc.calls.get());
        assertEquals(1, reopened.stats().entries());
        assertEquals(new VisionFeatureCache.Stats(1, 0, 0, 0, 1, entryBytes(dir)), reopened.stats());
    }

    @Test
    void towerIdentityAndImageSizeArePartOfTheKey() throws IOException {
        Path dir = tmp.resolve("cache");
        FakeEncoder enc = new FakeEncoder();
        Path img = image("a.png", "x");
        new VisionFeatureCache(dir, 1 << 20, "tower-1", 512).get(img, enc);
        new VisionFeatureCache(dir, 1 << 20, "tower-2", 512).get(img, enc);
        new VisionFeatureCache(dir, 1 << 20, "tower-1", 336).get(img, enc);
        assertEquals(3, enc.calls.get());
        Files.writeString(img, "y");
        new VisionFeatureCache(dir, 1 << 20, "tower-1", 512).get(img, enc);
        assertEquals(4, enc.calls.get());
        assertEquals(4, entries(dir).size());
    }

    @Test
    void evictsLeastRecentlyUsedToStayWithinBudget() throws IOException {
        Path dir = tmp.resolve("cache");
        FakeEncoder enc = new FakeEncoder();
        VisionFeatureCache probe = new VisionFeatureCache(tmp.resolve("probe"), 1 << 20, "t", 512);
        probe.get(image("p.png", "probe"), enc);
        long one = probe.stats().bytes();

        VisionFeatureCache cache = new VisionFeatureCache(dir, 3 * one, "t", 512);
        Path a = image("a.png", "a");
        Path b = image("b.png", "b");
        Path c = image("c.png", "c");
        Path d = image("d.png", "d");
        cache.get(a, enc);
        sleepTick();
        cache.get(b, enc);
        sleepTick();
        cache.get(c, enc);
        sleepTick();
        cache.get(a, enc); // a is now the most recent; b the least
        sleepTick();
        int before = enc.calls.get();
        cache.get(d, enc); // over budget: b goes
        assertEquals(3, cache.stats().entries());
        assertEquals(1, cache.stats().evicted());
        assertTrue(entryBytes(dir) <= 3 * one);
        cache.get(a, enc);
        cache.get(c, enc);
        cache.get(d, enc);
        assertEquals(before + 1, enc.calls.get(), "a, c, d still cached");
        cache.get(b, enc);
        assertEquals(before + 2, enc.calls.get(), "b was evicted");

        // A smaller budget on reopening trims at once, and an entry larger than the budget is not kept.
        VisionFeatureCache small = new VisionFeatureCache(dir, one, "t", 512);
        assertEquals(1, small.stats().entries());
        VisionFeatureCache tiny = new VisionFeatureCache(dir, one / 2, "t", 512);
        assertEquals(0, tiny.stats().entries());
        tiny.get(a, enc);
        assertEquals(0, entries(dir).size());
    }

    private static void sleepTick() {
        try {
            Thread.sleep(15); // distinct modification times
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void damagedEntryIsRecomputedAndLeftoverTemporaryFilesRemoved() throws IOException {
        Path dir = tmp.resolve("cache");
        FakeEncoder enc = new FakeEncoder();
        Path img = image("a.png", "content");
        VisionFeatureCache cache = new VisionFeatureCache(dir, 1 << 20, "t", 512);
        VisionFeatureCache.Features good = cache.get(img, enc);
        Path entry = entries(dir).getFirst();

        // Truncated (a disk filled up, a copy interrupted).
        byte[] bytes = Files.readAllBytes(entry);
        Files.write(entry, java.util.Arrays.copyOf(bytes, bytes.length / 2), StandardOpenOption.TRUNCATE_EXISTING);
        assertSame(good, cache.get(img, enc));
        assertEquals(2, enc.calls.get());
        assertEquals(1, cache.stats().damaged());
        // Rewritten whole and readable again.
        assertSame(good, new VisionFeatureCache(dir, 1 << 20, "t", 512).get(img, enc));
        assertEquals(2, enc.calls.get());

        // Garbage header.
        Files.write(entry, new byte[] {1, 2, 3});
        assertSame(good, cache.get(img, enc));
        assertEquals(3, enc.calls.get());

        // A temporary file left by a crashed writer (a pid that does not run) goes; a live writer's stays.
        Path shard = entry.getParent();
        Path dead = shard.resolve(".x.safetensors.999999999-1.part");
        Path live = shard.resolve(".y.safetensors." + ProcessHandle.current().pid() + "-1.part");
        Files.writeString(dead, "partial");
        Files.writeString(live, "partial");
        new VisionFeatureCache(dir, 1 << 20, "t", 512);
        assertFalse(Files.exists(dead));
        assertTrue(Files.exists(live));
    }

    @Test
    void sixteenBitEntriesHalveTheSizeAndReadBackAsWhatTheMissReturned() throws IOException {
        Path dir = tmp.resolve("cache");
        FakeEncoder enc = new FakeEncoder();
        Path img = image("a.png", "some image bytes");
        VisionFeatureCache f32 = new VisionFeatureCache(dir, 1 << 20, "t", 512);
        VisionFeatureCache.Features exact = f32.get(img, enc);
        VisionFeatureCache bf16 = new VisionFeatureCache(dir, 1 << 20, "t", 512, DType.BF16);
        VisionFeatureCache.Features miss = bf16.get(img, enc);
        assertEquals(2, enc.calls.get(), "the stored type is part of the key");
        VisionFeatureCache.Features hit = new VisionFeatureCache(dir, 1 << 20, "t", 512, DType.BF16).get(img, enc);
        assertEquals(2, enc.calls.get());
        assertSame(miss, hit);
        assertEquals(DType.F32, hit.res2().dtype());
        float[] a = exact.res3().toFloatArray();
        float[] b = hit.res3().toFloatArray();
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], Math.abs(a[i]) / 128 + 1e-6f);
        }
        long f32Entry = f32.stats().bytes();
        long bf16Entry = bf16.stats().bytes() - f32Entry; // bf16 found the F32 entry on opening
        assertTrue(bf16Entry < 0.6 * f32Entry, bf16Entry + " vs " + f32Entry);
        assertThrows(IllegalArgumentException.class, () -> new VisionFeatureCache(dir, 1, "t", 512, DType.I32));
    }

    @Test
    void refusesABadBudget() {
        var e = assertThrows(IllegalArgumentException.class, () -> new VisionFeatureCache(tmp, 0, "t", 512));
        assertEquals("the feature cache budget must be positive, got 0", e.getMessage());
    }

    static Path parityModel() {
        try {
            return Path.of(VisionFeatureCacheTest.class.getResource("/export/tokenizer.model").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** With the real tower: cached maps equal a fresh encode; the identity follows the tower's weights. */
    @Test
    void realTowerFeaturesRoundTrip() throws IOException {
        Path model = tmp.resolve("model");
        osprey4j.train.export.OfficialModelWriter.write(model, osprey4j.train.export.OfficialModelWriterTestAccess.shape(),
                osprey4j.train.export.RandomWeights.of(osprey4j.train.export.OfficialModelWriterTestAccess.shape(), 3),
                osprey4j.train.export.OfficialModelWriter.Options.osprey(parityModel().resolve("tokenizer.model"), DType.F32));
        Path other = tmp.resolve("other");
        osprey4j.train.export.OfficialModelWriter.write(other, osprey4j.train.export.OfficialModelWriterTestAccess.shape(),
                osprey4j.train.export.RandomWeights.of(osprey4j.train.export.OfficialModelWriterTestAccess.shape(), 4),
                osprey4j.train.export.OfficialModelWriter.Options.osprey(parityModel().resolve("tokenizer.model"), DType.F32));
        String id = TowerIdentity.of(model);
        assertEquals(64, id.length());
        assertEquals(id, TowerIdentity.of(model));
        assertNotEquals(id, TowerIdentity.of(other));

        Path img = parityModel().resolve("scene_rgb.jpg");
        try (Osprey osprey = Osprey.load(model)) {
            VisionFeatureCache cache = new VisionFeatureCache(tmp.resolve("cache"), 1L << 30, id, 512);
            VisionFeatureCache.Features computed = cache.get(img, VisionFeatureCache.encoderFor(osprey));
            VisionFeatureCache.Features cached = new VisionFeatureCache(tmp.resolve("cache"), 1L << 30, id, 512)
                    .get(img, f -> {
                        throw new AssertionError("must come from the cache");
                    });
            assertSame(computed, cached);
            assertEquals(32, cached.res4().dim(0), "res4 has the third stage's width");
        }
    }
}
