package osprey4j.spark;

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
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.io.FileTrees;
import osprey4j.core.mask.Mask;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.instruct.TextEmbedder;
import osprey4j.data.samples.RegionForm;
import osprey4j.eval.world.AnswerRules;
import osprey4j.eval.world.QuestionType;
import osprey4j.eval.world.WorldEval;
import osprey4j.eval.world.WorldQuestion;
import osprey4j.eval.world.WorldQuestions;
import osprey4j.model.GenerationOptions;
import osprey4j.model.image.RgbImage;
import osprey4j.service.AskResult;
import osprey4j.service.ImageQuestions;
import osprey4j.service.InvalidRequestException;
import osprey4j.service.OspreyService;

/**
 * {@code osprey spark eval world}: {@code osprey eval world}'s questions about a synthetic world answered on Spark,
 * split by image. The questions are made on the driver (templates, cheap); each executor loads the model once and
 * answers an image's questions on one encode of it, greedily, as {@link osprey4j.eval.world.OspreyAnswerer} does,
 * and scores them with the same {@link AnswerRules}. The samples are the job's output (the columns of
 * {@code samples.jsonl} but the timing); the driver then reads them back and writes the report next to them.
 */
public final class EvalWorldJob {
    public static final StructType SCHEMA = new StructType(new StructField[] {
            DataTypes.createStructField("id", DataTypes.StringType, false),
            DataTypes.createStructField("type", DataTypes.StringType, false),
            DataTypes.createStructField("image", DataTypes.StringType, false),
            DataTypes.createStructField("category", DataTypes.StringType, true),
            DataTypes.createStructField("question", DataTypes.StringType, false),
            DataTypes.createStructField("reference", DataTypes.StringType, true),
            DataTypes.createStructField("truth", DataTypes.StringType, true),
            DataTypes.createStructField("answer", DataTypes.StringType, false),
            DataTypes.createStructField("correct", DataTypes.BooleanType, false),
            DataTypes.createStructField("reason", DataTypes.StringType, true),
            DataTypes.createStructField("tokens", DataTypes.IntegerType, false)});

    /** Written into the output directory after the job (names starting with '_' are not data to Spark's readers). */
    public static final String SUMMARY = "_summary.json";
    public static final String REPORT = "_report.md";

    private EvalWorldJob() {
    }

    public record Options(Path model, Path world, String out, OutputFormat format, long seed, int limit,
                          RegionForm form, TextEmbedder embedder, int partitions) {
    }

    /** One question as it travels: its masks as COCO compressed RLE. */
    record Question(String id, String type, List<String[]> masks, String text, String reference, String truth,
                    String category, String other) implements Serializable {
    }

    /** One image's questions. */
    record Input(String image, String relative, List<Question> questions) implements Serializable {
    }

    /** Answers and scores one image's questions (on an executor). */
    record Work(String model, List<String> colours) implements BatchJob.ImageWork<Input> {
        @Override
        public List<Row> rows(Input input, JobCounters counters) {
            Path path = Path.of(input.image());
            RgbImage image;
            try {
                image = RgbImage.read(path);
            } catch (Exception e) {
                counters.skip(Files.isRegularFile(path) ? "unreadable image" : "image file not found", input.relative());
                return List.of();
            }
            OspreyService service = ExecutorModels.service(model, BatchJob.executorThreads());
            AnswerRules rules = new AnswerRules(colours);
            ImageQuestions session = service.questions(image, null);
            List<Row> rows = new ArrayList<>();
            for (Question q : input.questions()) {
                QuestionType type = QuestionType.valueOf(q.type());
                List<Mask> masks = q.masks().stream().map(m -> CocoMasks.decode(new Segmentation.CompressedRle(
                        Integer.parseInt(m[0]), Integer.parseInt(m[1]), m[2]))).toList();
                AskResult a;
                try {
                    a = session.ask(masks, q.text(), GenerationOptions.greedy(type.maxNewTokens()));
                } catch (InvalidRequestException e) {
                    counters.skip("refused by the model", q.id() + ": " + e.getMessage());
                    continue;
                }
                WorldQuestion wq = new WorldQuestion(q.id(), type, path, masks, q.text(), q.reference(), q.truth(),
                        q.category(), q.other());
                AnswerRules.Verdict v = rules.score(wq, a.text());
                rows.add(RowFactory.create(q.id(), type.name(), input.relative(), q.category(), q.text(),
                        q.reference(), q.truth(), a.text(), v.correct(), v.reason(), a.tokens().length));
                counters.region(a.tokens().length);
            }
            counters.image();
            return rows;
        }
    }

    /** The job and its report; stops Spark at the end. */
    public static Result run(Options o, SparkSetup setup, PrintStream progress) {
        Prepared p = prepare(o);
        SparkSession spark = setup.start();
        try {
            return run(spark, o, p, progress);
        } finally {
            spark.stop();
        }
    }

    public static Result run(SparkSession spark, Options o, PrintStream progress) {
        return run(spark, o, prepare(o), progress);
    }

    /** The job's counters and the evaluation's report. */
    public record Result(BatchJob.Result job, WorldEval.Report report) {
    }

    record Prepared(List<Input> inputs, List<String> colours, List<String> order, Path work) {
    }

    static Prepared prepare(Options o) {
        DescribeJob.checkModel(o.model());
        DescribeJob.checkOutput(o.out());
        if (!Files.isDirectory(o.world())) {
            throw new IllegalArgumentException("world directory not found: " + o.world());
        }
        if (!Files.isRegularFile(o.world().resolve("instances.json"))) {
            throw new IllegalArgumentException(o.world() + " is not a synthetic world (no instances.json); make one "
                    + "with 'osprey data world'");
        }
        Path world = o.world().toAbsolutePath().normalize();
        try {
            Path work = Files.createTempDirectory("osprey-spark-eval");
            List<WorldQuestions.ImageQuestions> images = WorldEval.limited(
                    WorldQuestions.build(world, work, o.embedder(), o.seed(), o.form()), o.limit());
            List<Input> inputs = new ArrayList<>();
            List<String> order = new ArrayList<>();
            for (WorldQuestions.ImageQuestions iq : images) {
                List<Question> qs = new ArrayList<>();
                for (WorldQuestion q : iq.questions()) {
                    List<String[]> masks = q.masks().stream().map(m -> {
                        Segmentation.CompressedRle r = CocoMasks.encode(m);
                        return new String[] {Integer.toString(r.height()), Integer.toString(r.width()), r.counts()};
                    }).toList();
                    qs.add(new Question(q.id(), q.type().name(), masks, q.text(), q.reference(), q.truth(),
                            q.category(), q.other()));
                    order.add(q.id());
                }
                if (!qs.isEmpty()) {
                    inputs.add(new Input(iq.image().toString(), world.relativize(iq.image().toAbsolutePath()
                            .normalize()).toString(), qs));
                }
            }
            if (inputs.isEmpty()) {
                throw new IllegalArgumentException(o.world() + ": no questions to ask");
            }
            return new Prepared(inputs, WorldEval.worldColours(world.resolve("instances.json")), order, work);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Result run(SparkSession spark, Options o, Prepared p, PrintStream progress) {
        try {
            Work work = new Work(o.model().toAbsolutePath().normalize().toString(), p.colours());
            BatchJob.Result job = new BatchJob<>("eval world", SCHEMA, work).run(spark, p.inputs(), List.of(),
                    o.partitions(), o.out(), o.format(), progress);
            List<Row> rows = spark.read().schema(SCHEMA).format(o.format().sparkSource()).load(o.out()).collectAsList();
            Map<String, WorldEval.Sample> byId = new HashMap<>();
            for (Row r : rows) {
                WorldEval.Sample s = new WorldEval.Sample(r.getString(0), QuestionType.valueOf(r.getString(1)),
                        r.getString(2), r.getString(3), r.getString(4), r.getString(5), r.getString(6), r.getString(7),
                        r.getBoolean(8), r.getString(9), 0);
                byId.put(s.id(), s);
            }
            List<WorldEval.Sample> ordered = p.order().stream().filter(byId::containsKey).map(byId::get).toList();
            WorldEval.Report report = WorldEval.report(o.model().toAbsolutePath().normalize().toString(), o.world(),
                    ordered, ordered.size(), ordered.size(), 0, job.seconds());
            if (!o.out().contains("://")) {
                Path dir = Path.of(o.out().startsWith("file:") ? o.out().substring(5) : o.out());
                AtomicFiles.write(dir.resolve(SUMMARY), f -> Files.writeString(f,
                        WorldEval.json(report).toPrettyString() + "\n"));
                AtomicFiles.write(dir.resolve(REPORT), f -> Files.writeString(f, WorldEval.markdown(report)));
            }
            return new Result(job, report);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            FileTrees.deleteQuietly(p.work());
        }
    }
}
