package osprey4j.eval.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
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
