package osprey4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.mask.Mask;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.instruct.InstructEngine;
import osprey4j.data.instruct.InstructOptions;
import osprey4j.data.instruct.InstructSummary;
import osprey4j.data.instruct.MiniLmEmbedder;
import osprey4j.data.instruct.SceneReader;
import osprey4j.data.instruct.Subset;
import osprey4j.data.samples.RegionForm;
import osprey4j.data.world.SyntheticWorld;
import osprey4j.eval.bench.PaperEval;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.SamplesFile;
import osprey4j.eval.runner.ServiceAsker;
import osprey4j.eval.runner.Shard;
import osprey4j.eval.world.OspreyAnswerer;
import osprey4j.eval.world.WorldEval;
import osprey4j.model.GenerationOptions;
import osprey4j.model.image.RgbImage;
import osprey4j.model.sam.AutomaticMaskGenerator;
import osprey4j.model.sam.RandomSam;
import osprey4j.service.DescribeRequest;
import osprey4j.service.GeneratedMask;
import osprey4j.service.OspreyService;
import osprey4j.service.RegionDescription;
import osprey4j.service.SegmentService;

/**
 * {@code osprey spark describe}, {@code eval world} and {@code instruct} on {@code local[2]} (three tries per task)
 * against the single-machine describe, evaluation and instruction-data engine, on a
 * small synthetic world with the bundled demo model.
 */
class SparkJobsTest {
    static final Path MODEL = Path.of("../models/demo");
    static final GenerationOptions DECODING = GenerationOptions.greedy(12);

    @TempDir
    static Path tmp;
    static Path world;
    static SparkSession spark;
    /** The single-machine describe's records, one line each, sorted. */
    static List<String> expected;

    @BeforeAll
    static void setUp() throws Exception {
        world = tmp.resolve("world");
        SyntheticWorld.generate(new SyntheticWorld.Options(5, 11, 128, 128, 1), world, null);
        expected = singleMachine(world);
        spark = SparkSetup.of("local[2,3]", "osprey-spark-test", Map.of("spark.sql.shuffle.partitions", "2")).start();
    }

    @AfterAll
    static void tearDown() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** What {@code osprey describe --masks instances.json --greedy} gives per image, made through the service. */
    static List<String> singleMachine(Path world) throws Exception {
        JsonNode coco = new ObjectMapper().readTree(world.resolve("instances.json").toFile());
        Map<Long, String> files = new LinkedHashMap<>();
        coco.get("images").forEach(i -> files.put(i.get("id").asLong(), i.get("file_name").asText()));
        List<String> lines = new ArrayList<>();
        try (OspreyService service = OspreyService.load(MODEL, null)) {
            for (var e : files.entrySet()) {
                Path file = world.resolve("images").resolve(e.getValue());
                RgbImage image = RgbImage.read(file);
                List<DescribeRequest.Region> regions = new ArrayList<>();
                for (JsonNode a : coco.get("annotations")) {
                    if (a.get("image_id").asLong() == e.getKey()) {
                        Mask m = CocoMasks.decode(SegmentationJson.read(a.get("segmentation")), image.height(),
                                image.width());
                        regions.add(new DescribeRequest.Region(a.get("id").asLong(), m));
                    }
                }
                var result = service.describe(image, new DescribeRequest(file.toString(), regions, null, DECODING),
                        null, null);
                for (RegionDescription d : result.regions()) {
                    lines.add(line(e.getKey(), e.getValue(), d.id(), toList(d.bbox()), d.area(), d.question(),
                            d.answer(), toList(d.tokens()), d.promptTokens()));
                }
            }
        }
        Collections.sort(lines);
        return lines;
    }

    static String line(Object... fields) {
        return java.util.Arrays.deepToString(fields);
    }

    static List<Double> toList(double[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }

    static List<Integer> toList(int[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }

    static List<String> lines(List<Row> rows) {
        List<String> out = new ArrayList<>();
        for (Row r : rows) {
            out.add(line(number(r, "image_id"), r.getString(r.fieldIndex("image")), number(r, "id"),
                    doubles(r.getList(r.fieldIndex("bbox"))), number(r, "area"), r.getString(r.fieldIndex("question")),
                    r.getString(r.fieldIndex("answer")), ints(r.getList(r.fieldIndex("tokens"))),
                    (int) number(r, "prompt_tokens")));
        }
        Collections.sort(out);
        return out;
    }

    static long number(Row r, String field) {
        return ((Number) r.get(r.fieldIndex(field))).longValue();
    }

    static List<Double> doubles(List<Object> l) {
        return l.stream().map(o -> ((Number) o).doubleValue()).toList();
    }

    static List<Integer> ints(List<Object> l) {
        return l.stream().map(o -> ((Number) o).intValue()).toList();
    }

    DescribeJob.Options options(Path annotations, Path out, OutputFormat format, int partitions) {
        return new DescribeJob.Options(MODEL, world.resolve("images"), annotations, out.toString(), format,
                DescribeRequest.Detail.SHORT, DECODING, partitions);
    }

    @Test
    void recordsEqualTheSingleMachineDescribe() {
        Path out = tmp.resolve("describe.parquet");
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        BatchJob.Result r = DescribeJob.run(spark, options(world.resolve("instances.json"), out, OutputFormat.PARQUET,
                0), new PrintStream(progress, true, StandardCharsets.UTF_8));
        List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
        assertEquals(expected, lines(rows));
        assertEquals(5, r.counters().images());
        assertEquals(expected.size(), r.counters().regions());
        assertEquals(0, r.counters().skippedTotal());
        long tokens = rows.stream().mapToLong(row -> row.getList(row.fieldIndex("tokens")).size()).sum();
        assertEquals(tokens, r.counters().tokens());
        assertTrue(progress.toString(StandardCharsets.UTF_8).contains("done"), progress::toString);
    }

    /** A small random-weight SAM, written as a safetensors checkpoint. */
    static Path tinySam(Path dir) throws Exception {
        RandomSam.Shape tiny = new RandomSam.Shape(32, 2, 2, new int[] {1}, 4, 16, 1024, 256, 16, 2, 256, 64);
        Path file = dir.resolve("sam_tiny_random.safetensors");
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (Checkpoint random = RandomSam.checkpoint(tiny, DType.F32, 3)) {
            random.tensors().forEach(t -> weights.put(t.name(), random.tensor(t.name())));
            SafetensorsWriter.write(file, weights);
        }
        return file;
    }

    @Test
    void everythingRecordsEqualTheSingleMachineDescribeEverything() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("sam-images"));
        List<String> names = new ArrayList<>();
        try (var files = Files.list(world.resolve("images"))) {
            files.sorted().limit(2).forEach(f -> names.add(f.getFileName().toString()));
        }
        for (String n : names) {
            Files.copy(world.resolve("images").resolve(n), images.resolve(n));
        }
        Collections.sort(names);
        Path sam = tinySam(Files.createDirectories(tmp.resolve("sam")));
        AutomaticMaskGenerator.Options amg = new AutomaticMaskGenerator.Options(1, 64, 0, 0, 1.0, 0.7, 0, 0.7,
                512 / 1500.0, 1, 0);

        // What 'osprey describe --everything --sam CKPT --greedy' gives per image: regions 1..N in SAM's order.
        List<String> single = new ArrayList<>();
        try (SegmentService segmenter = SegmentService.load(sam);
             OspreyService service = OspreyService.load(MODEL, null)) {
            for (int i = 0; i < names.size(); i++) {
                Path file = images.resolve(names.get(i));
                RgbImage image = RgbImage.read(file);
                List<GeneratedMask> masks = segmenter.everything(image, amg);
                List<DescribeRequest.Region> regions = new ArrayList<>();
                for (int m = 0; m < masks.size(); m++) {
                    regions.add(new DescribeRequest.Region(m + 1, masks.get(m).segmentation()));
                }
                assertTrue(!regions.isEmpty(), "SAM found masks in " + file);
                var result = service.describe(image, new DescribeRequest(file.toString(), regions, null, DECODING),
                        null, null);
                for (RegionDescription d : result.regions()) {
                    single.add(line((long) i + 1, names.get(i), d.id(), toList(d.bbox()), d.area(), d.question(),
                            d.answer(), toList(d.tokens()), d.promptTokens()));
                }
            }
        }
        Collections.sort(single);

        Path out = tmp.resolve("describe-everything.parquet");
        BatchJob.Result r = DescribeJob.run(spark, DescribeJob.Options.everything(MODEL, images, sam, amg,
                out.toString(), OutputFormat.PARQUET, DescribeRequest.Detail.SHORT, DECODING, 2),
                new PrintStream(java.io.OutputStream.nullOutputStream()));
        assertEquals(single, lines(spark.read().parquet(out.toString()).collectAsList()));
        assertEquals(names.size(), r.counters().images());
        assertEquals(single.size(), r.counters().regions());
        assertEquals(0, r.counters().skippedTotal());
        assertTrue(ExecutorModels.isSegmenterLoaded(sam.toAbsolutePath().normalize().toString()));

        var both = assertThrows(IllegalArgumentException.class, () -> DescribeJob.prepare(new DescribeJob.Options(
                MODEL, images, world.resolve("instances.json"), tmp.resolve("o3").toString(), OutputFormat.PARQUET,
                null, DECODING, 0, sam, amg)));
        assertTrue(both.getMessage().contains("not both"), both.getMessage());
        var noSam = assertThrows(IllegalArgumentException.class, () -> DescribeJob.prepare(DescribeJob.Options
                .everything(MODEL, images, tmp.resolve("no-sam.pth"), amg, tmp.resolve("o4").toString(),
                        OutputFormat.PARQUET, null, DECODING, 0)));
        assertTrue(noSam.getMessage().startsWith("SAM checkpoint not found"), noSam.getMessage());
    }

    @Test
    void aTaskKilledMidPartitionIsRetriedAndEveryRecordIsWrittenOnce() throws Exception {
        // One more image that is not on disk: skipped and counted, not fatal.
        ObjectMapper json = new ObjectMapper();
        ObjectNode coco = (ObjectNode) json.readTree(world.resolve("instances.json").toFile());
        JsonNode first = coco.get("annotations").get(0);
        ((ArrayNode) coco.get("images")).addObject().put("id", 99).put("file_name", "missing.png")
                .put("width", 128).put("height", 128);
        ((ObjectNode) ((ArrayNode) coco.get("annotations")).addObject().put("id", 99001).put("image_id", 99)
                .put("category_id", first.get("category_id").asLong()))
                .set("segmentation", first.get("segmentation"));
        Path annotations = tmp.resolve("with-missing.json");
        json.writeValue(annotations.toFile(), coco);

        Path out = tmp.resolve("describe-retried.jsonl");
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        spark.conf().set(FaultInjection.PARTITION_KEY, "1");
        BatchJob.Result r;
        try {
            r = DescribeJob.run(spark, options(annotations, out, OutputFormat.JSONL, 3),
                    new PrintStream(progress, true, StandardCharsets.UTF_8));
        } finally {
            spark.conf().unset(FaultInjection.PARTITION_KEY);
        }
        String log = progress.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("partition 1 failed (attempt 0)") && log.contains("fault injected"), log);
        List<Row> rows = spark.read().schema(DescribeJob.SCHEMA).json(out.toString()).collectAsList();
        assertEquals(expected, lines(rows));
        assertEquals(5, r.counters().images());
        assertEquals(expected.size(), r.counters().regions());
        assertEquals(Map.of("image file not found", new SkipReasons.Count(1, "missing.png")), r.counters().skipped());
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
    }

    @Test
    void evalWorldAnswersEqualTheSingleMachineEvaluation() throws Exception {
        int limit = 24;
        Path single = tmp.resolve("eval-single");
        try (OspreyService service = OspreyService.load(MODEL, null);
             OspreyAnswerer answerer = new OspreyAnswerer(service)) {
            WorldEval.run(new WorldEval.Options(world, single, 0, limit, MiniLmEmbedder.get(), null), answerer);
        }
        List<String> expectedSamples = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String l : Files.readAllLines(single.resolve(WorldEval.SAMPLES))) {
            JsonNode o = json.readTree(l);
            expectedSamples.add(line(o.get("id").asText(), o.get("image").asText(), o.get("answer").asText(),
                    o.get("correct").asBoolean(), o.get("truth").asText()));
        }
        Collections.sort(expectedSamples);

        Path out = tmp.resolve("eval-spark");
        EvalWorldJob.Result r = EvalWorldJob.run(spark, new EvalWorldJob.Options(MODEL, world, out.toString(),
                OutputFormat.PARQUET, 0, limit, RegionForm.LIST, MiniLmEmbedder.get(), 0),
                new PrintStream(java.io.OutputStream.nullOutputStream()));
        List<String> got = new ArrayList<>();
        for (Row row : spark.read().parquet(out.toString()).collectAsList()) {
            got.add(line(row.getString(row.fieldIndex("id")), row.getString(row.fieldIndex("image")),
                    row.getString(row.fieldIndex("answer")), row.getBoolean(row.fieldIndex("correct")),
                    row.getString(row.fieldIndex("truth"))));
        }
        Collections.sort(got);
        assertEquals(expectedSamples, got);
        assertEquals(limit, r.job().counters().regions());
        assertEquals(limit, r.report().questions());
        assertTrue(Files.isRegularFile(out.resolve(EvalWorldJob.REPORT)));
    }

    @Test
    void instructRecordsEqualTheSingleMachineEngine() throws Exception {
        InstructOptions options = new InstructOptions(7, 20);
        Path single = tmp.resolve("instruct-single");
        InstructSummary summary = InstructEngine.templates(SceneReader.open(SceneReader.Inputs.directory(world, null),
                ReadReport.lenient()), MiniLmEmbedder.get(), options, single);
        List<String> expectedRecords = new ArrayList<>();
        for (Subset s : Subset.values()) {
            assertTrue(summary.records().get(s) > 0, s.id());
            for (String l : Files.readAllLines(single.resolve(s.fileName()))) {
                if (!l.equals("[") && !l.equals("]")) {
                    expectedRecords.add(s.id() + "\t" + (l.endsWith(",") ? l.substring(0, l.length() - 1) : l));
                }
            }
        }
        Collections.sort(expectedRecords);

        for (OutputFormat format : OutputFormat.values()) {
            Path out = tmp.resolve("instruct-" + format);
            Path official = format == OutputFormat.PARQUET ? tmp.resolve("instruct-official") : null;
            InstructJob.Result r = InstructJob.run(spark, new InstructJob.Options(SceneReader.Inputs.directory(world,
                    null), out.toString(), format, options, official, false, 3),
                    new PrintStream(java.io.OutputStream.nullOutputStream()));
            List<String> got = new ArrayList<>();
            for (Row row : spark.read().schema(InstructJob.SCHEMA).format(format.sparkSource()).load(out.toString())
                    .collectAsList()) {
                got.add(row.getString(row.fieldIndex("subset")) + "\t" + row.getString(row.fieldIndex("record")));
            }
            Collections.sort(got);
            assertEquals(expectedRecords, got, format.name());
            assertEquals(summary.records(), r.records());
            assertEquals(summary.images(), r.job().counters().images());
            assertEquals(summary.regions(), r.job().counters().regions());
            assertEquals(0, r.job().counters().skippedTotal());
            if (official != null) {
                for (Subset s : Subset.values()) {
                    assertEquals(-1, Files.mismatch(single.resolve(s.fileName()), official.resolve(s.fileName())),
                            s.fileName());
                }
            }
        }
    }

    @Test
    void badInputIsOneLine() {
        Path ann = world.resolve("instances.json");
        var noModel = assertThrows(IllegalArgumentException.class, () -> DescribeJob.prepare(
                new DescribeJob.Options(tmp.resolve("nope"), world.resolve("images"), ann, tmp.resolve("o1").toString(),
                        OutputFormat.PARQUET, null, DECODING, 0)));
        assertTrue(noModel.getMessage().startsWith("model directory not found"), noModel.getMessage());
        var noAnn = assertThrows(IllegalArgumentException.class, () -> DescribeJob.prepare(
                options(tmp.resolve("none.json"), tmp.resolve("o2"), OutputFormat.PARQUET, 0)));
        assertTrue(noAnn.getMessage().startsWith("annotation file not found"), noAnn.getMessage());
        var master = assertThrows(IllegalArgumentException.class, () -> SparkSetup.of("locale[2]", "x", Map.of()));
        assertTrue(master.getMessage().startsWith("unknown --master URL 'locale[2]'"), master.getMessage());
        assertThrows(IllegalArgumentException.class, () -> OutputFormat.parse("csv"));
    }

    /** Small PNGs (24x16) under {@code dir/images}, as the paper evaluations' command tests make them. */
    static Path paperImages(Path dir, String... names) throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        for (int i = 0; i < names.length; i++) {
            java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(24, 16,
                    java.awt.image.BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 24; x++) {
                    img.setRGB(x, y, (x * 10 + i * 40) << 16 | (y * 15) << 8 | 90);
                }
            }
            javax.imageio.ImageIO.write(img, "png", images.resolve(names[i]).toFile());
        }
        return images;
    }

    /** osprey eval's records without the timing. */
    static List<String> untimed(List<JsonNode> records) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : records) {
            ObjectNode o = n.deepCopy();
            o.remove("ms");
            out.add(o.toString());
        }
        return out;
    }

    @Test
    void paperEvalsOnSparkEqualTheSingleMachineRuns() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("paper"));
        Path images = paperImages(dir, "a.jpg", "b.jpg", "c.jpg");
        Path lvis = Files.writeString(dir.resolve("lvis_val_1k_category.json"), """
                [{"file_name": "a.jpg", "height": 16, "width": 24, "categories": ["dog", "baseball_bat"],
                  "annotations": [{"segmentation": [[2,2,10,2,10,10,2,10]]}, {"segmentation": [[12,2,20,2,20,12,12,12]]}]},
                 {"file_name": "b.jpg", "height": 16, "width": 24, "categories": ["mug:handle"],
                  "annotations": [{"segmentation": [[4,4,16,4,16,14,4,14]]}]},
                 {"file_name": "c.jpg", "height": 16, "width": 24, "categories": ["cat"],
                  "annotations": [{"segmentation": [[1,1,22,1,22,15,1,15]]}]}]
                """);
        Path pope = Files.writeString(dir.resolve("coco_pope_random.json"), """
                {"question_id": 1, "image": "a.jpg", "text": "Is there a dog in the image?", "label": "yes"}
                {"question_id": 2, "image": "a.jpg", "text": "Is there a cat in the image?", "label": "no"}
                {"question_id": 3, "image": "c.jpg", "text": "Is there a cup in the image?", "label": "no"}
                """);
        record Case(PaperEval eval, Path data, GenerationOptions decoding, List<String> metrics) {
        }
        try (OspreyService service = OspreyService.load(MODEL, null)) {
            for (Case c : List.of(
                    new Case(PaperEval.LVIS, lvis, GenerationOptions.greedy(3), List.of("semantic_similarity",
                            "semantic_iou", "regions", "by_category")),
                    new Case(PaperEval.POPE, pope, GenerationOptions.reference().withSeed(9).withMaxNewTokens(3),
                            List.of("accuracy", "precision", "recall", "f1", "yes_ratio", "tp", "fp", "tn", "fn")))) {
                Path single = dir.resolve(c.eval().id() + "-single");
                ObjectNode expectedSummary = c.eval().run(c.data(), images, new EvalRun.Options(c.eval().id(),
                        single, 0, null, c.decoding(), null), new ServiceAsker(service, w -> { }));
                List<JsonNode> expectedRecords = new ArrayList<>(SamplesFile.read(single.resolve(EvalRun.SAMPLES))
                        .values());

                Path out = dir.resolve(c.eval().id() + "-spark");
                PaperEvalJob.Result r = PaperEvalJob.run(spark, new PaperEvalJob.Options(c.eval(), MODEL, c.data(),
                        images, out.toString(), OutputFormat.JSONL, 0, Shard.ALL, c.decoding(), 0),
                        new PrintStream(java.io.OutputStream.nullOutputStream()));
                List<JsonNode> got = new ArrayList<>();
                ObjectMapper json = new ObjectMapper();
                StructType schema = PaperEvalJob.schema(c.eval());
                for (Row row : spark.read().schema(schema).json(out.toString()).collectAsList()) {
                    got.add(PaperEvalJob.record(schema, row));
                }
                List<String> want = untimed(expectedRecords);
                List<String> have = untimed(got);
                Collections.sort(want);
                Collections.sort(have);
                assertEquals(want, have, c.eval().id());
                assertEquals(expectedRecords.size(), r.job().counters().regions());
                for (String k : c.metrics()) {
                    assertEquals(expectedSummary.get(k), r.summary().get(k), c.eval().id() + " " + k);
                }
                JsonNode written = json.readTree(out.resolve(PaperEvalJob.REPORT_DIR).resolve("summary.json").toFile());
                assertEquals(r.summary().get(c.metrics().getFirst()), written.get(c.metrics().getFirst()));
                assertTrue(Files.isRegularFile(out.resolve(PaperEvalJob.REPORT_DIR).resolve("report.md")));
            }
        }
    }
}
