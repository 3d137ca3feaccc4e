package osprey4j.data.world;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.mask.Mask;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.datasets.CocoAnnotation;
import osprey4j.data.datasets.CocoCategory;
import osprey4j.data.datasets.CocoStyleFile;
import osprey4j.data.datasets.ImageAnnotations;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.samples.Recipe;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TrainingSample;
import osprey4j.data.samples.TrainingSamples;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticWorldTest {
    private static final int IMAGES = 5;

    private static SyntheticWorld.Options options(long seed, int threads) {
        return new SyntheticWorld.Options(IMAGES, seed, 128, 112, threads);
    }

    @Test
    void sameSeedGivesByteIdenticalFilesWhateverTheThreadCount(@TempDir Path dir) throws Exception {
        SyntheticWorld.generate(options(7, 1), dir.resolve("a"), null);
        SyntheticWorld.generate(options(7, 4), dir.resolve("b"), null, 2);   // batches of 2: 2 + 2 + 1 images
        SyntheticWorld.generate(options(8, 2), dir.resolve("c"), null);
        Map<String, String> a = digests(dir.resolve("a"));
        assertEquals(3 + IMAGES, a.size(), a.keySet().toString());
        assertEquals(a, digests(dir.resolve("b")));
        Map<String, String> c = digests(dir.resolve("c"));
        assertNotEquals(a.get("instances.json"), c.get("instances.json"));
        assertNotEquals(a.get("images/000001.png"), c.get("images/000001.png"));
    }

    @Test
    void writtenMasksDecodeToTheRasterisedOnes(@TempDir Path dir) throws IOException {
        SyntheticWorld.Options o = options(11, 2);
        Path out = dir.resolve("world");
        SyntheticWorld.Summary summary = SyntheticWorld.generate(o, out, null);

        ReadReport report = ReadReport.strict();
        CocoStyleFile instances = CocoStyleFile.index(out.resolve("instances.json"), report);
        CocoStyleFile parts = CocoStyleFile.index(out.resolve("parts.json"), report);
        CocoStyleFile captions = CocoStyleFile.index(out.resolve("captions.json"), report);
        assertEquals(Catalog.CATEGORIES.size(), instances.categories().size());
        assertEquals(IMAGES, instances.imageList().size());
        assertEquals(summary.objects(), instances.annotationCount());
        assertEquals(summary.objects() + summary.parts(), parts.annotationCount());
        assertEquals(summary.captions(), captions.annotationCount());
        assertFalse(parts.attributes().isEmpty());

        List<ImageAnnotations> objectImages;
        List<ImageAnnotations> partImages;
        try (Stream<ImageAnnotations> s = instances.images(); Stream<ImageAnnotations> p = parts.images()) {
            objectImages = s.toList();
            partImages = p.toList();
        }
        for (int i = 0; i < IMAGES; i++) {
            Rasterizer.Rendering r = SyntheticWorld.render(o, i);
            ImageAnnotations img = objectImages.get(i);
            assertEquals(SyntheticWorld.fileName(i), img.image().fileName());
            assertEquals(r.objects().size(), img.annotations().size());
            Mask covered = Mask.empty(o.width(), o.height());
            for (int k = 0; k < r.objects().size(); k++) {
                Rasterizer.VisibleObject expected = r.objects().get(k);
                CocoAnnotation a = img.annotations().get(k);
                Mask decoded = CocoMasks.decode(a.segmentation(), o.height(), o.width());
                assertEquals(expected.mask(), decoded, "image " + i + " object " + k);
                assertEquals(expected.object().category().name(), instances.categories().get(a.categoryId()).name());
                assertEquals(decoded.area(), (long) a.area());
                assertArrayEquals(CocoMasks.toBbox(decoded), a.bbox());
                assertFalse(a.crowd());
                List<String> attrs = java.util.Arrays.stream(a.attributeIds())
                        .mapToObj(id -> instances.attributes().stream().filter(x -> x.id() == id).findFirst()
                                .orElseThrow())
                        .map(x -> x.type() + "=" + x.name())
                        .toList();
                WorldObject w = expected.object();
                assertEquals(List.of("color=" + w.colour().word, "pattern_marking=" + w.pattern().word,
                        "size=" + w.size().word, "shading=" + (w.shaded() ? "shaded" : "flat")), attrs);
                assertTrue(covered.intersection(decoded).isEmpty(), "instance masks overlap");
                covered = covered.union(decoded);
            }

            // parts.json: objects (same ids) with attributes, then parts pointing at them with obj_ann_id.
            Map<Long, Mask> objectMasks = new TreeMap<>();
            Map<Long, Mask> unionOfParts = new TreeMap<>();
            Map<Long, String> objectNames = new TreeMap<>();
            for (CocoAnnotation a : img.annotations()) {
                objectMasks.put(a.id(), CocoMasks.decode(a.segmentation(), o.height(), o.width()));
                objectNames.put(a.id(), instances.categories().get(a.categoryId()).name());
            }
            int partIndex = 0;
            for (CocoAnnotation a : partImages.get(i).annotations()) {
                assertTrue(a.attributeIds().length >= 3);
                if (a.objectAnnotationId() == null) {
                    assertTrue(objectMasks.containsKey(a.id()), "object annotation ids match instances.json");
                    continue;
                }
                Mask m = CocoMasks.decode(a.segmentation(), o.height(), o.width());
                assertFalse(m.isEmpty());
                CocoCategory cat = parts.categories().get(a.categoryId());
                String owner = objectNames.get(a.objectAnnotationId());
                assertNotNull(owner, "obj_ann_id " + a.objectAnnotationId() + " names an object of the same image");
                assertTrue(cat.name().startsWith(owner + ":"), cat.name() + " belongs to " + owner);
                unionOfParts.merge(a.objectAnnotationId(), m, Mask::union);
                Rasterizer.VisiblePart expected = r.objects().stream().flatMap(v -> v.parts().stream()).toList()
                        .get(partIndex++);
                assertEquals(expected.mask(), m);
            }
            assertEquals(objectMasks, unionOfParts, "each instance mask is the union of its parts' masks");

            BufferedImage png = ImageIO.read(out.resolve("images").resolve(img.image().fileName()).toFile());
            int[] pixels = png.getRGB(0, 0, o.width(), o.height(), null, 0, o.width());
            for (int p = 0; p < pixels.length; p++) {
                pixels[p] &= 0xFFFFFF;
            }
            assertArrayEquals(r.rgb(), pixels);
        }
        assertEquals(0, report.skipped());
    }

    @Test
    void theTrainingSampleRecipesReadTheWorld(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("world");
        SyntheticWorld.Summary summary = SyntheticWorld.generate(options(3, 1), out, null);
        SampleOptions so = SampleOptions.of(out.resolve("images"), 0);
        for (String[] recipe : new String[][] {{"coco", "instances.json"}, {"paco", "parts.json"},
                {"coco_captions", "captions.json"}}) {
            ReadReport report = ReadReport.strict();
            List<TrainingSample> samples;
            try (Stream<TrainingSample> s = TrainingSamples.build(Recipe.byId(recipe[0]), out.resolve(recipe[1]), so,
                    report)) {
                samples = s.toList();
            }
            assertEquals(IMAGES, samples.size(), recipe[0]);
            assertEquals(0, report.skipped(), recipe[0]);
        }
        assertTrue(summary.parts() > summary.objects());
    }

    @Test
    void refusesANonEmptyOutputAndLeavesNothingBehindOnFailure(@TempDir Path dir) throws IOException {
        Path full = Files.createDirectories(dir.resolve("full"));
        Files.writeString(full.resolve("x.txt"), "keep");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SyntheticWorld.generate(options(1, 1), full, null));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThrows(IOException.class, () -> SyntheticWorld.generate(options(1, 1), file.resolve("sub"), null));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("file", "full"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new SyntheticWorld.Options(0, 1, 64, 64, 1));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticWorld.Options(1, 1, 8, 64, 1));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticWorld.Options(1, 1, 64, 64, 0));
    }

    private static Map<String, String> digests(Path root) throws IOException, NoSuchAlgorithmException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                byte[] d = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f));
                out.put(root.relativize(f).toString().replace('\\', '/'), HexFormat.of().formatHex(d));
            }
        }
        return out;
    }
}
