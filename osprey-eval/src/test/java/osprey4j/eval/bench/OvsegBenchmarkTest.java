package osprey4j.eval.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.mask.Mask;
import osprey4j.eval.metrics.OvsegClasses;
import osprey4j.eval.metrics.SentenceEncoder;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.RegionAsker;
import osprey4j.eval.runner.SamplesFile;
import osprey4j.eval.runner.Shard;
import osprey4j.model.GenerationOptions;

/** {@code osprey eval ovseg}'s runner on the tiny sample layouts, with answers scripted from the true classes. */
class OvsegBenchmarkTest {
    /** Answers each segment with its true class's first sentence (or a fixed text), failing after some answers. */
    static final class Oracle implements RegionAsker {
        final String dataset;
        final OvsegClasses classes;
        final int failAfter;
        final String fixed;
        final AtomicInteger asked = new AtomicInteger();
        final AtomicInteger opened = new AtomicInteger();
        final List<String> questions = new ArrayList<>();

        Oracle(String dataset, int failAfter, String fixed) {
            this.dataset = dataset;
            this.classes = OvsegClasses.of(dataset);
            this.failAfter = failAfter;
            this.fixed = fixed;
        }

        @Override
        public Image open(Path image) {
            opened.incrementAndGet();
            String name = image.getFileName().toString();
            String id = name.replace("_leftImg8bit.png", "").replace(".jpg", "");
            Map<Long, Integer> classOf = OvsegSampleData.classOfSegment(dataset, id);
            List<OvsegSampleData.Segment> segs = OvsegSampleData.segments(dataset).get(id);
            return (regions, question, options) -> {
                if (failAfter >= 0 && asked.get() >= failAfter) {
                    throw new IllegalStateException("crash");
                }
                asked.incrementAndGet();
                questions.add(question);
                if (fixed != null) {
                    return fixed;
                }
                Mask m = regions.getFirst();
                for (OvsegSampleData.Segment s : segs) {
                    if (m.get(s.x0(), s.y0())) {
                        return " " + OvsegClasses.TEMPLATE.formatted(
                                classes.classes().get(classOf.get(s.id())).names().getFirst()) + "</s>";
                    }
                }
                throw new AssertionError("mask of no segment");
            };
        }

        @Override
        public String name() {
            return "oracle";
        }
    }

    private static final Map<String, OvsegClasses.Scorer> SCORERS = new java.util.concurrent.ConcurrentHashMap<>();

    /** One scorer per dataset for the whole class: embedding every class sentence takes a while. */
    static OvsegClasses.Scorer scorer(OvsegClasses classes) {
        return SCORERS.computeIfAbsent(classes.dataset(), d -> classes.scorer(SentenceEncoder.get()));
    }

    static EvalRun.Options options(Path out, int limit) {
        return new EvalRun.Options("ovseg", out, limit, Shard.ALL, GenerationOptions.greedy(8), null);
    }

    @Test
    void trueAnswersScorePerfectlyOnAde(@TempDir Path dir) throws IOException {
        OvsegSampleData.write(dir, "ade");
        OvsegClasses classes = OvsegClasses.of("ade");
        Oracle oracle = new Oracle("ade", -1, null);
        OvsegBenchmark.Result r = OvsegBenchmark.run("ade", dir, options(dir.resolve("out"), 0), oracle,
                scorer(classes), classes);
        assertEquals(7, oracle.asked.get(), "one question per segment");
        assertEquals(2, oracle.opened.get(), "each image encoded once");
        assertEquals(OvsegBenchmark.PROMPT, oracle.questions.getFirst());
        assertEquals("<image>\nThis provides an overview of the picture.\nWhat is in <mask><pos>? Using a short "
                + "phrase.", oracle.questions.getFirst());
        assertEquals(100.0, r.summary().get("PQ").asDouble(), 1e-9);
        assertEquals(100.0, r.summary().get("mIoU").asDouble(), 1e-9);
        assertEquals(100.0, r.summary().get("AP").asDouble(), 1e-9);
        assertEquals(41.89, r.summary().get("paper_osprey_7b").get("PQ").asDouble());
        String md = Files.readString(dir.resolve("out/report.md"));
        assertTrue(md.contains("| PQ | 100.00 | 41.89 |"), md);
        var lines = SamplesFile.read(dir.resolve("out").resolve(EvalRun.SAMPLES));
        assertEquals(7, lines.size());
        assertEquals("wall", lines.get("ADE_val_00000001#0").get("best").asText());
        assertEquals(150, lines.get("ADE_val_00000001#0").get("scores").size());
        assertEquals(7, r.summary().get("segments_right").asInt());
        assertEquals(0, r.summary().get("worst").size(), "no segment was taken for another class");
        assertTrue(md.contains("0 of 7 segments asked got another class than their own."), md);
        assertEquals(1, r.summary().get("per_class").get("bed").get("segments").asInt());
        assertEquals(1, r.summary().get("per_class").get("bed").get("segments_right").asInt());
        assertTrue(md.contains("![charts](chart.png)"), md);
        BufferedImage chart = png(dir.resolve("out/chart.png"));
        assertEquals(3 * 720, chart.getWidth(), "overall, things vs stuff, and per-class charts side by side");
        assertTrue(!Files.exists(dir.resolve("out/worst")), "nothing to draw");
    }

    /** Reads a file that must be a PNG: its signature, then a decodable image. */
    static BufferedImage png(Path f) throws IOException {
        assertTrue(Files.isRegularFile(f), f + " written");
        byte[] head = Arrays.copyOf(Files.readAllBytes(f), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head, f + " is a PNG");
        BufferedImage img = ImageIO.read(f.toFile());
        assertNotNull(img, f + " decodes");
        return img;
    }

    @Test
    void wrongAnswersAreListedMostWrongFirstAndDrawnWithTheirMasks(@TempDir Path dir) throws IOException {
        OvsegSampleData.write(dir, "ade");
        OvsegClasses classes = OvsegClasses.of("ade");
        Path out = dir.resolve("out");
        // one answer for every segment: all are wrong, and segments of one class tie on the true class's probability
        OvsegBenchmark.Result r = OvsegBenchmark.run("ade", dir, options(out, 0), new Oracle("ade", -1, "a bicycle"),
                scorer(classes), classes);
        JsonNode worst = r.summary().get("worst");
        assertEquals(7, worst.size(), "every segment taken for another class");
        assertEquals(0, r.summary().get("segments_right").asInt());
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < worst.size(); i++) {
            JsonNode w = worst.get(i);
            ids.add(w.get("id").asText());
            assertEquals("bicycle", w.get("predicted").asText());
            assertEquals("a bicycle", w.get("answer").asText());
            if (i > 0) {
                JsonNode prev = worst.get(i - 1);
                double p0 = prev.get("truth_probability").asDouble();
                double p1 = w.get("truth_probability").asDouble();
                assertTrue(p0 <= p1, "lowest probability of the true class first: " + worst);
                if (p0 == p1) {
                    assertTrue(prev.get("area").asLong() >= w.get("area").asLong(), "larger first on ties: " + worst);
                }
            }
        }
        // the two walls (384 and 168 pixels) tie: the larger comes first, right before the smaller
        int bigWall = ids.indexOf("ADE_val_00000001#0");
        assertEquals("wall", worst.get(bigWall).get("truth").asText());
        assertEquals(384, worst.get(bigWall).get("area").asLong());
        assertEquals("ADE_val_00000002#1", ids.get(bigWall + 1));
        assertEquals(168, worst.get(bigWall + 1).get("area").asLong());

        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("7 of 7 segments asked got another class than their own"), md);
        png(out.resolve("chart.png"));
        Map<String, List<OvsegSampleData.Segment>> segments = OvsegSampleData.segments("ade");
        try (var drawn = Files.list(out.resolve("worst"))) {
            assertEquals(6, drawn.count(), "the six most wrong drawn");
        }
        for (int i = 0; i < 6; i++) {
            JsonNode w = worst.get(i);
            String file = w.get("id").asText().replace('#', '_') + ".png";
            assertTrue(md.contains("](worst/" + file + ")"), md);
            assertTrue(md.contains("`" + w.get("id").asText() + "`: true class " + w.get("truth").asText()
                    + ", predicted bicycle, answered \"a bicycle\""), md);
            BufferedImage img = png(out.resolve("worst").resolve(file));
            int scale = img.getWidth() / OvsegSampleData.WIDTH;
            assertEquals(8, scale, "32 pixels wide, enlarged 8 times");
            // the images are blue 120 everywhere: the segment is tinted red (blue halved), the rest untouched
            for (OvsegSampleData.Segment s : segments.get(w.get("image_id").asText())) {
                int rgb = img.getRGB((s.x0() + s.x1()) / 2 * scale + scale / 2,
                        (s.y0() + s.y1()) / 2 * scale + scale / 2);
                boolean tinted = (rgb & 0xff) < 100 && ((rgb >> 16) & 0xff) >= 127;
                assertEquals(s.id() == w.get("segment").asLong(), tinted, file + ", segment " + s.id());
            }
        }
    }

    @Test
    void wrongAnswersLowerTheScoresOnCityscapes(@TempDir Path dir) throws IOException {
        OvsegSampleData.write(dir, "cityscapes");
        OvsegClasses classes = OvsegClasses.of("cityscapes");
        OvsegBenchmark.Result right = OvsegBenchmark.run("cityscapes", dir, options(dir.resolve("right"), 0),
                new Oracle("cityscapes", -1, null), scorer(classes), classes);
        assertEquals(100.0, right.summary().get("PQ").asDouble(), 1e-9);
        assertEquals(100.0, right.summary().get("mIoU").asDouble(), 1e-9);
        assertEquals(100.0, right.summary().get("AP").asDouble(), 1e-9);
        OvsegBenchmark.Result wrong = OvsegBenchmark.run("cityscapes", dir, options(dir.resolve("wrong"), 0),
                new Oracle("cityscapes", -1, "a bicycle"), scorer(classes), classes);
        assertEquals(0.0, wrong.summary().get("PQ").asDouble(), 1e-9);
        assertTrue(wrong.summary().get("mIoU").asDouble() < 10, wrong.summary().toString());
    }

    @Test
    void aCrashedRunResumesWithoutRepeatingOrSkipping(@TempDir Path dir) throws IOException {
        OvsegSampleData.write(dir, "ade");
        OvsegClasses classes = OvsegClasses.of("ade");
        OvsegClasses.Scorer scorer = scorer(classes);
        Path out = dir.resolve("out");
        Oracle crashing = new Oracle("ade", 4, null);
        assertThrows(IllegalStateException.class, () -> OvsegBenchmark.run("ade", dir, options(out, 0), crashing,
                scorer, classes));
        assertEquals(4, SamplesFile.read(out.resolve(EvalRun.SAMPLES)).size(), "answers kept as they came");
        Oracle rest = new Oracle("ade", -1, null);
        OvsegBenchmark.Result r = OvsegBenchmark.run("ade", dir, options(out, 0), rest, scorer, classes);
        assertEquals(3, rest.asked.get(), "only the missing segments asked");
        assertEquals(4, r.resumed());
        var lines = SamplesFile.read(out.resolve(EvalRun.SAMPLES));
        assertEquals(7, lines.size());
        assertEquals(7, new HashSet<>(lines.keySet()).size());
        assertEquals(100.0, r.summary().get("PQ").asDouble(), 1e-9);
        Oracle again = new Oracle("ade", -1, null);
        OvsegBenchmark.run("ade", dir, options(out, 0), again, scorer, classes);
        assertEquals(0, again.asked.get(), "a finished run asks nothing");
        assertEquals(0, again.opened.get(), "nor encodes an image");
    }

    @Test
    void limitSelectsImagesAndMissingFilesSayWhich(@TempDir Path dir) throws IOException {
        OvsegSampleData.write(dir, "ade");
        OvsegClasses classes = OvsegClasses.of("ade");
        Oracle oracle = new Oracle("ade", -1, null);
        OvsegBenchmark.Result r = OvsegBenchmark.run("ade", dir, options(dir.resolve("one"), 1), oracle,
                scorer(classes), classes);
        assertEquals(1, r.images());
        assertEquals(3, oracle.asked.get());
        Files.delete(dir.resolve("ADEChallengeData2016/images/validation/ADE_val_00000002.jpg"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> OvsegBenchmark.run("ade", dir,
                options(dir.resolve("two"), 0), new Oracle("ade", -1, null), scorer(classes),
                classes));
        assertTrue(e.getMessage().contains("ADE_val_00000002.jpg"), e.getMessage());
    }
}
