package osprey4j.eval.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.eval.bench.PaperEval;
import osprey4j.model.GenerationOptions;

class EvalRunTest {
    @TempDir
    Path tmp;

    static EvalRun.Options options(String benchmark, Path out, int limit, Shard shard, GenerationOptions g) {
        return new EvalRun.Options(benchmark, out, limit, shard, g, null);
    }

    static List<String> ids(Path samples) throws IOException {
        List<String> ids = new ArrayList<>();
        for (String line : Files.readAllLines(samples)) {
            ids.add(new ObjectMapper().readTree(line).get("id").asText());
        }
        return ids;
    }

    @Test
    void lvisRunEncodesEachImageOnceAndReportsTheMeans() throws IOException {
        Path data = EvalData.categoryFile(tmp, 6);
        ScriptedAsker asker = new ScriptedAsker(q -> "The category is: Dog.", -1, 0);
        Path out = tmp.resolve("out");
        ObjectNode summary = PaperEval.LVIS.run(data, tmp.resolve("images"),
                options("lvis", out, 0, Shard.ALL, GenerationOptions.greedy(8)), asker);
        assertEquals(6, asker.opened.get(), "one session per image");
        assertEquals("<image>\nThis provides an overview of the picture.\nWhat is the category of <mask><pos>? "
                + "Using only one word or phrase.", asker.questions().getFirst());
        assertEquals(12, asker.asked.get(), "1 + 2 + 3 regions per three images, twice");
        assertEquals(12, summary.get("samples").asInt());
        // Every region's answer cleans to " Dog ": S-IoU is 1 for dog regions, 0 for the others.
        List<String> truths = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve(EvalRun.SAMPLES))) {
            JsonNode n = new ObjectMapper().readTree(line);
            assertEquals(" Dog ", n.get("cleaned").asText());
            truths.add(n.get("truth").asText());
        }
        double dogs = truths.stream().filter("dog"::equals).count();
        assertEquals(dogs / truths.size(), summary.get("semantic_iou").asDouble(), 1e-12);
        assertTrue(truths.contains("mug handle") && truths.contains("car (automobile)"), truths.toString());
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| Semantic IoU | " + String.format(java.util.Locale.ROOT, "%.2f",
                100 * dogs / truths.size()) + " | 38.19 |"), md);
        assertTrue(Files.readString(out.resolve(EvalRun.RUN)).contains("\"greedy\" : true"));
    }

    @Test
    void aCrashLosesNothingAndTheRerunNeitherRepeatsNorSkips() throws IOException {
        Path data = EvalData.popeFile(tmp, 10);
        Path out = tmp.resolve("crash");
        GenerationOptions sampled = GenerationOptions.reference().withSeed(7);
        ScriptedAsker first = new ScriptedAsker(q -> q.contains("thing3") ? "No, there is not." : "Yes.", 4, 0);
        assertThrows(IllegalStateException.class, () -> PaperEval.POPE.run(data, tmp.resolve("images"),
                options("pope", out, 0, Shard.ALL, sampled), first));
        assertEquals(4, ids(out.resolve(EvalRun.SAMPLES)).size(), "every answer before the crash is kept");
        assertEquals("<image>\nIs there a thing0 in the image?", first.questions().getFirst());
        // A process killed while writing leaves half a line: it is dropped and that sample asked again.
        Files.writeString(out.resolve(EvalRun.SAMPLES), "{\"id\": \"pope:q5\", \"ans", StandardOpenOption.APPEND);

        ScriptedAsker second = new ScriptedAsker(q -> q.contains("thing3") ? "No, there is not." : "Yes.", -1, 0);
        ObjectNode s = PaperEval.POPE.run(data, tmp.resolve("images"), options("pope", out, 0, Shard.ALL, sampled),
                second);
        assertEquals(6, second.asked.get(), "only the six unanswered questions");
        List<String> ids = ids(out.resolve(EvalRun.SAMPLES));
        assertEquals(10, ids.size());
        assertEquals(10, new HashSet<>(ids).size(), "no sample twice: " + ids);
        assertEquals(10, s.get("samples").asInt());
        assertEquals(5, s.get("tp").asInt());
        assertEquals(1, s.get("tn").asInt(), "only thing3 (label no) was answered no");

        // The same run uninterrupted gives the same answers: each sample has its own seed.
        Path clean = tmp.resolve("clean");
        PaperEval.POPE.run(data, tmp.resolve("images"), options("pope", clean, 0, Shard.ALL, sampled),
                new ScriptedAsker(q -> q.contains("thing3") ? "No, there is not." : "Yes.", -1, 0));
        assertEquals(answers(clean), answers(out));
    }

    static Map<String, String> answers(Path out) throws IOException {
        Map<String, String> m = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(out.resolve(EvalRun.SAMPLES))) {
            JsonNode n = new ObjectMapper().readTree(line);
            m.put(n.get("id").asText(), n.get("answer").asText());
        }
        return m;
    }

    @Test
    void shardsSplitWholeImagesAndTogetherCoverEverySampleOnce() throws IOException {
        Path data = EvalData.categoryFile(tmp, 7);
        Set<String> all = new HashSet<>();
        int total = 0;
        for (int i = 0; i < 3; i++) {
            ScriptedAsker a = new ScriptedAsker(q -> "dog", -1, 0);
            Path out = tmp.resolve("shard" + i);
            PaperEval.LVIS.run(data, tmp.resolve("images"), options("lvis", out, 0, new Shard(i, 3),
                    GenerationOptions.greedy(8)), a);
            assertEquals(new HashSet<>(a.openedImages).size(), a.opened.get(), "an image is opened once");
            List<String> ids = ids(out.resolve(EvalRun.SAMPLES));
            all.addAll(ids);
            total += ids.size();
        }
        assertEquals(13, total, "7 images with 1, 2, 3, 1, 2, 3, 1 regions");
        assertEquals(13, all.size());
    }

    @Test
    void limitTakesTheFirstSamplesAndAGrowingLimitResumes() throws IOException {
        Path data = EvalData.categoryFile(tmp, 5);
        Path out = tmp.resolve("limit");
        ScriptedAsker a = new ScriptedAsker(q -> "dog", -1, 0);
        PaperEval.LVIS.run(data, tmp.resolve("images"), options("lvis", out, 4, Shard.ALL,
                GenerationOptions.greedy(8)), a);
        assertEquals(4, a.asked.get());
        ScriptedAsker b = new ScriptedAsker(q -> "dog", -1, 0);
        ObjectNode s = PaperEval.LVIS.run(data, tmp.resolve("images"), options("lvis", out, 7, Shard.ALL,
                GenerationOptions.greedy(8)), b);
        assertEquals(3, b.asked.get());
        assertEquals(7, s.get("samples").asInt());
    }

    @Test
    void aFolderNeverMixesTwoDecodingsAndMissingFilesAreOneClearError() throws IOException {
        Path data = EvalData.popeFile(tmp, 4);
        Path out = tmp.resolve("mix");
        PaperEval.POPE.run(data, tmp.resolve("images"), options("pope", out, 0, Shard.ALL,
                GenerationOptions.greedy(8)), new ScriptedAsker(q -> "yes", -1, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PaperEval.POPE.run(data,
                tmp.resolve("images"), options("pope", out, 0, Shard.ALL, GenerationOptions.reference()),
                new ScriptedAsker(q -> "yes", -1, 0)));
        assertTrue(e.getMessage().contains("decoding") && e.getMessage().contains("another --out"), e.getMessage());
        assertEquals(4, ids(out.resolve(EvalRun.SAMPLES)).size(), "nothing written is lost");

        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> PaperEval.LVIS.run(
                tmp.resolve("nope.json"), tmp.resolve("images"), options("lvis", tmp.resolve("x"), 0, Shard.ALL,
                        GenerationOptions.greedy(8)), new ScriptedAsker(q -> "dog", -1, 0)));
        assertTrue(missing.getMessage().startsWith("evaluation file not found"), missing.getMessage());

        Files.delete(tmp.resolve("images").resolve("COCO_val2014_000000000001.jpg"));
        Path out2 = tmp.resolve("noimage");
        IOException noImage = assertThrows(IOException.class, () -> PaperEval.POPE.run(data, tmp.resolve("images"),
                options("pope", out2, 0, Shard.ALL, GenerationOptions.greedy(8)), new ScriptedAsker(q -> "no", -1, 0)));
        assertTrue(noImage.getMessage().contains("image file not found"), noImage.getMessage());
        assertEquals(2, ids(out2.resolve(EvalRun.SAMPLES)).size(), "the first image's answers stay");
    }

    @Test
    void refcocogWritesTheReferencesCaptionFilesAndScoresThem() throws IOException {
        Files.createDirectories(tmp.resolve("images"));
        for (String n : List.of("000000000001.jpg", "000000000002.jpg")) {
            Files.writeString(tmp.resolve("images").resolve(n), "placeholder");
        }
        Path data = Files.writeString(tmp.resolve("finetune_refcocog_val_with_mask.json"), """
                {"images": [
                  {"id": 10, "file_name": "COCO_train2014_000000000001.jpg", "height": 16, "width": 24,
                   "caption": "the man in a red shirt"},
                  {"id": 11, "file_name": "COCO_train2014_000000000002.jpg", "height": 16, "width": 24,
                   "caption": "a brown dog on the grass"}],
                 "annotations": [
                  {"id": 101, "image_id": 10, "category_id": 1, "bbox": [2, 2, 8, 8], "area": 64, "iscrowd": 0,
                   "segmentation": [[2, 2, 10, 2, 10, 10, 2, 10]]},
                  {"id": 102, "image_id": 11, "category_id": 1, "bbox": [2, 2, 8, 8], "area": 64, "iscrowd": 0,
                   "segmentation": [[2, 2, 10, 2, 10, 10, 2, 10]]}],
                 "categories": [{"id": 1, "name": "object"}]}
                """);
        Path out = tmp.resolve("rc");
        ScriptedAsker asker = new ScriptedAsker(q -> "Region: The man in a red shirt.", -1, 0);
        ObjectNode s = PaperEval.REFCOCOG.run(data, tmp.resolve("images"), options("refcocog", out, 0, Shard.ALL,
                GenerationOptions.greedy(8)), asker);
        // The reference's preamble "<image>.\nThis..." after preprocess_multimodal moved the image token to the front.
        assertEquals("<image>\n.\nThis provides an overview of the picture.\n"
                + "Please give me a short description of <mask><pos>.", asker.questions().getFirst());
        JsonNode cand = new ObjectMapper().readTree(out.resolve("captions_refcocog_osprey.json").toFile());
        assertEquals("101", cand.get(0).get("image_id").asText());
        assertEquals(" The man in a red shirt.\n", cand.get(0).get("caption").asText());
        JsonNode gt = new ObjectMapper().readTree(out.resolve("captions_refcocog_gt.json").toFile());
        assertEquals("a brown dog on the grass", gt.get("annotations").get(1).get("caption").asText());
        assertEquals(2, s.get("samples").asInt());
        assertTrue(s.get("cider_d").asDouble() > 0 && s.get("bleu_1").asDouble() > 0, s.toString());
        assertTrue(s.get("meteor").isNull());
        assertTrue(Files.readString(out.resolve("report.md")).contains("| METEOR | not computed |"));

        // With METEOR data (the METEOR fixture's folder), the rerun resumes and adds METEOR: METEOR 1.5 on these
        // tokenised captions and data scores the segments 1.0 and 0.0667 and the corpus 0.318, not their mean.
        Path meteorData;
        try {
            meteorData = Path.of(getClass().getResource("/fixtures/eval/meteor-data").toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        ObjectNode withMeteor = PaperEval.REFCOCOG.run(data, tmp.resolve("images"), options("refcocog", out, 0,
                Shard.ALL, GenerationOptions.greedy(8)), asker, null, meteorData);
        assertEquals(0.3180829341940137, withMeteor.get("meteor").asDouble(), 1e-15);
        assertEquals(s.get("cider_d").asDouble(), withMeteor.get("cider_d").asDouble());
        assertTrue(Files.readString(out.resolve("report.md")).contains("| METEOR | 31.81 |"),
                Files.readString(out.resolve("report.md")));
    }

    @Test
    void sampleSeedsDependOnRunSeedAndId() {
        assertEquals(EvalRun.sampleSeed(3, "lvis:#1/0"), EvalRun.sampleSeed(3, "lvis:#1/0"));
        assertFalse(EvalRun.sampleSeed(3, "lvis:#1/0") == EvalRun.sampleSeed(4, "lvis:#1/0"));
        assertFalse(EvalRun.sampleSeed(3, "lvis:#1/0") == EvalRun.sampleSeed(3, "lvis:#1/1"));
    }

    @Test
    void severalSeedsReportTheirSpread() throws IOException {
        Path data = EvalData.popeFile(tmp, 6);
        Path out = tmp.resolve("seeds");
        // The answer depends on the sample's seed: the figures differ between run seeds.
        RegionAsker a = image -> (r, q, o) -> (o.seed() & 1) == 0 ? "yes" : "no";
        ObjectNode spread = PaperEval.POPE.runSeeds(data, tmp.resolve("images"), options("pope", out, 0, Shard.ALL,
                GenerationOptions.reference()), List.of(1L, 2L, 3L), a);
        JsonNode acc = spread.get("metrics").get("accuracy");
        assertEquals(3, acc.get("values").size());
        double mean = 0;
        for (JsonNode v : acc.get("values")) {
            mean += v.asDouble() / 3;
        }
        assertEquals(mean, acc.get("mean").asDouble(), 1e-12);
        assertTrue(Files.isRegularFile(out.resolve("seed-2").resolve("report.md")));
        assertTrue(Files.readString(out.resolve("spread.md")).contains("| accuracy |"));
    }
}
