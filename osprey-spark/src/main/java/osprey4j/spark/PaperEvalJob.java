package osprey4j.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import osprey4j.core.mask.Mask;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.datasets.Turn;
import osprey4j.data.samples.TrainingSample;
import osprey4j.eval.bench.PaperEval;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.Shard;
import osprey4j.model.GenerationOptions;
import osprey4j.service.ImageQuestions;
import osprey4j.service.InvalidRequestException;
import osprey4j.service.OspreyService;

/**
 * {@code osprey spark eval lvis|paco|pope}: the paper's evaluations as {@code osprey eval} runs them, split by image.
 * The driver selects the samples as {@link PaperEval#selected} does (limit and shard included); each executor loads
 * the model once, encodes an image once, asks its questions with the run's decoding (a sampled run seeds each sample
 * from its id, so the answers are the single-machine run's) and scores them with the same {@link EvalRun.Scorer}.
 * The rows carry the fields of {@code samples.jsonl}; the driver reads them back in file order and writes the
 * benchmark's own report ({@link PaperEval#report}) into {@code OUT/_report/} (summary.json, report.md, charts).
 */
public final class PaperEvalJob {
    /** The report's folder inside the output (a name starting with '_' is not data to Spark's readers). */
    public static final String REPORT_DIR = "_report";

    private PaperEvalJob() {
    }

    public record Options(PaperEval eval, Path model, Path data, Path images, String out, OutputFormat format,
                          int limit, Shard shard, GenerationOptions decoding, int partitions) {
    }

    /** The job's counters and the summary (as summary.json holds it). */
    public record Result(BatchJob.Result job, ObjectNode summary) {
    }

    /** The columns: samples.jsonl's fields, in its order. */
    public static StructType schema(PaperEval eval) {
        List<StructField> f = new ArrayList<>(List.of(
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("image", DataTypes.StringType, false),
                DataTypes.createStructField("question", DataTypes.StringType, false),
                DataTypes.createStructField("truth", DataTypes.StringType, true),
                DataTypes.createStructField("answer", DataTypes.StringType, false),
                DataTypes.createStructField("seed", DataTypes.LongType, true),
                DataTypes.createStructField("ms", DataTypes.DoubleType, false)));
        switch (eval) {
            case LVIS, PACO -> {
                f.add(DataTypes.createStructField("cleaned", DataTypes.StringType, false));
                f.add(DataTypes.createStructField("semantic_similarity", DataTypes.DoubleType, false));
                f.add(DataTypes.createStructField("semantic_iou", DataTypes.DoubleType, false));
            }
            case POPE -> f.add(DataTypes.createStructField("prediction", DataTypes.StringType, false));
            default -> throw new IllegalArgumentException("'osprey spark eval' runs lvis, paco and pope, not "
                    + eval.id());
        }
        return new StructType(f.toArray(StructField[]::new));
    }

    /** One sample as it travels: its regions as COCO compressed RLE (height, width, counts). */
    record Question(String id, String question, String truth, List<String[]> masks) implements Serializable {
    }

    /** One image's samples. */
    record Input(String image, List<Question> questions) implements Serializable {
    }

    /** The run's decoding as it travels. */
    record Decoding(boolean greedy, float temperature, float topP, int topK, long seed, int maxNewTokens)
            implements Serializable {
        static Decoding of(GenerationOptions g) {
            return new Decoding(g.greedy(), g.temperature(), g.topP(), g.topK(), g.seed(), g.maxNewTokens());
        }

        GenerationOptions options() {
            return new GenerationOptions(greedy, temperature, topP, topK, seed, maxNewTokens);
        }
    }

    /** Asks and scores one image's samples (on an executor). */
    record Work(String model, PaperEval eval, Decoding decoding) implements BatchJob.ImageWork<Input> {
        @Override
        public List<Row> rows(Input input, JobCounters counters) {
            OspreyService service = ExecutorModels.service(model, BatchJob.executorThreads());
            ImageQuestions session;
            try {
                session = service.questions(OspreyService.readImage(input.image()), null);
            } catch (InvalidRequestException e) {
                counters.skip(Files.isRegularFile(Path.of(input.image())) ? "unreadable image"
                        : "image file not found", input.image());
                return List.of();
            }
            StructType schema = schema(eval);
            EvalRun.Scorer scorer = eval.scorer();
            List<Row> rows = new ArrayList<>();
            for (Question q : input.questions()) {
                List<Mask> masks = q.masks().stream().map(m -> CocoMasks.decode(new Segmentation.CompressedRle(
                        Integer.parseInt(m[0]), Integer.parseInt(m[1]), m[2]))).toList();
                GenerationOptions g = EvalRun.decodingFor(decoding.options(), q.id());
                long a0 = System.nanoTime();
                osprey4j.service.AskResult a;
                try {
                    a = session.ask(masks, q.question(), g);
                } catch (InvalidRequestException e) {
                    counters.skip("refused by the model", q.id() + ": " + e.getMessage());
                    continue;
                }
                ObjectNode r = EvalRun.record(q.id(), input.image(), q.question(), q.truth(), a.text(), g,
                        (System.nanoTime() - a0) / 1e6);
                List<Turn> turns = q.truth() == null ? List.of(Turn.human(q.question()))
                        : List.of(Turn.human(q.question()), Turn.gpt(q.truth()));
                scorer.score(new TrainingSample(q.id(), eval.id(), input.image(), 0, 0, List.of(), turns), a.text(), r);
                rows.add(row(schema, r));
                counters.region(a.tokens().length);
            }
            counters.image();
            return rows;
        }
    }

    static Row row(StructType schema, ObjectNode r) {
        Object[] values = new Object[schema.size()];
        for (int i = 0; i < values.length; i++) {
            StructField f = schema.fields()[i];
            JsonNode n = r.get(f.name());
            DataType t = f.dataType();
            values[i] = n == null || n.isNull() ? null : t == DataTypes.StringType ? n.asText()
                    : t == DataTypes.LongType ? (Object) n.asLong() : (Object) n.asDouble();
        }
        return RowFactory.create(values);
    }

    static ObjectNode record(StructType schema, Row row) {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < schema.size(); i++) {
            if (row.isNullAt(i)) {
                continue;
            }
            StructField f = schema.fields()[i];
            DataType t = f.dataType();
            if (t == DataTypes.StringType) {
                r.put(f.name(), row.getString(i));
            } else if (t == DataTypes.LongType) {
                r.put(f.name(), row.getLong(i));
            } else {
                r.put(f.name(), row.getDouble(i));
            }
        }
        return r;
    }

    /** The job and its report; stops Spark at the end. */
    public static Result run(Options o, SparkSetup setup, PrintStream progress) {
        Prepared selected = prepare(o);
        SparkSession spark = setup.start();
        try {
            return run(spark, o, selected, progress);
        } finally {
            spark.stop();
        }
    }

    public static Result run(SparkSession spark, Options o, PrintStream progress) {
        return run(spark, o, prepare(o), progress);
    }

    /** The selected samples and what reading the evaluation file found (the report's header counts it). */
    record Prepared(List<TrainingSample> samples, ReadReport read) {
    }

    static Prepared prepare(Options o) {
        DescribeJob.checkModel(o.model());
        DescribeJob.checkOutput(o.out());
        schema(o.eval());
        if (!Files.isRegularFile(o.data())) {
            throw new IllegalArgumentException("evaluation file not found: " + o.data() + " (the " + o.eval().id()
                    + " evaluation reads " + o.eval().officialFile() + ")");
        }
        if (!Files.isDirectory(o.images())) {
            throw new IllegalArgumentException("image folder not found: " + o.images());
        }
        try {
            ReadReport read = ReadReport.lenient();
            List<TrainingSample> selected = o.eval().selected(o.data(), o.images(), o.shard(), o.limit(), read);
            if (selected.isEmpty()) {
                throw new IllegalArgumentException(o.data() + ": no samples to ask");
            }
            return new Prepared(selected, read);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Result run(SparkSession spark, Options o, Prepared prepared, PrintStream progress) {
        List<TrainingSample> selected = prepared.samples();
        List<Input> inputs = new ArrayList<>();
        for (int i = 0; i < selected.size(); ) {
            int j = i;
            String image = selected.get(i).image();
            List<Question> qs = new ArrayList<>();
            while (j < selected.size() && selected.get(j).image().equals(image)) {
                TrainingSample s = selected.get(j);
                List<String[]> masks;
                try {
                    masks = EvalRun.masks(s).stream().map(m -> {
                        Segmentation.CompressedRle r = CocoMasks.encode(m);
                        return new String[] {Integer.toString(r.height()), Integer.toString(r.width()), r.counts()};
                    }).toList();
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("sample " + s.id() + ": cannot rasterise its region: "
                            + e.getMessage(), e);
                }
                qs.add(new Question(s.id(), s.turns().getFirst().value(), EvalRun.truth(s), masks));
                j++;
            }
            inputs.add(new Input(image, qs));
            i = j;
        }
        String model = o.model().toAbsolutePath().normalize().toString();
        StructType schema = schema(o.eval());
        Work work = new Work(model, o.eval(), Decoding.of(o.decoding()));
        BatchJob.Result job = new BatchJob<>("eval " + o.eval().id(), schema, work)
                .run(spark, inputs, List.of(), o.partitions(), o.out(), o.format(), progress);
        Map<String, JsonNode> byId = new HashMap<>();
        for (Row r : spark.read().schema(schema).format(o.format().sparkSource()).load(o.out()).collectAsList()) {
            ObjectNode n = record(schema, r);
            byId.put(n.get("id").asText(), n);
        }
        List<JsonNode> records = new ArrayList<>();
        List<TrainingSample> answered = new ArrayList<>();
        for (TrainingSample s : selected) {
            if (byId.containsKey(s.id())) {
                records.add(byId.get(s.id()));
                answered.add(s);
            }
        }
        ObjectNode run = EvalRun.runInfo(o.eval().runInfo(o.data()), o.eval().id(), model, o.decoding());
        EvalRun.Result r = new EvalRun.Result(records, records.size(), records.size(), 0, model, run, job.seconds(),
                answered);
        try {
            Path reportDir;
            if (o.out().contains("://") && !o.out().startsWith("file:")) {
                reportDir = Files.createTempDirectory("osprey-spark-eval-report");
            } else {
                String local = o.out().startsWith("file:") ? o.out().replaceFirst("^file:(//)?", "") : o.out();
                reportDir = Files.createDirectories(Path.of(local).resolve(REPORT_DIR));
            }
            ObjectNode summary = o.eval().report(r, o.data(), reportDir, prepared.read());
            return new Result(job, summary);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
