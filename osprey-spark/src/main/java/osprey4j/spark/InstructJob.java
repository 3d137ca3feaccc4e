package osprey4j.spark;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import osprey4j.data.datasets.DatasetFormatException;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.instruct.InstructByImage;
import osprey4j.data.instruct.InstructOptions;
import osprey4j.data.instruct.MiniLmEmbedder;
import osprey4j.data.instruct.SceneReader;
import osprey4j.data.instruct.Subset;

/**
 * {@code osprey spark instruct}: {@code osprey data instruct}'s template engine split by image. The driver reads
 * the annotations once ({@link InstructByImage#plan}); each executor builds its images' scenes and records for the
 * five subsets, with one negative miner (all-MiniLM-L6-v2 over the categories) per JVM. Each image's randomness
 * depends only on the seed, the subset and the image id, so its records are the single-machine engine's.
 *
 * <p>One row per record: {@code subset} ({@link Subset#id()}), {@code image_id}, {@code image_index} (the image's
 * position in the instances file), {@code index} (the record's position among its image's records of that subset)
 * and {@code record} (the record's JSON text, as the official file holds it). With an official layout the driver
 * then reads the rows back in (image_index, index) order and writes the five files, equal to what
 * {@code osprey data instruct} writes.
 */
public final class InstructJob {
    public static final StructType SCHEMA = new StructType(new StructField[] {
            DataTypes.createStructField("subset", DataTypes.StringType, false),
            DataTypes.createStructField("image_id", DataTypes.LongType, false),
            DataTypes.createStructField("image_index", DataTypes.IntegerType, false),
            DataTypes.createStructField("index", DataTypes.IntegerType, false),
            DataTypes.createStructField("record", DataTypes.StringType, false)});

    private InstructJob() {
    }

    /**
     * @param official where to write the five official files from the written rows, or {@code null}
     * @param strict   fail at the first malformed annotation instead of skipping (and counting) it
     */
    public record Options(SceneReader.Inputs inputs, String out, OutputFormat format, InstructOptions options,
                          Path official, boolean strict, int partitions) {
    }

    /** One image's share of the input, with its position in the instances file. */
    record Input(int position, SceneReader.SceneInput scene) implements Serializable {
    }

    /** One image's records (on an executor). */
    record Work(InstructByImage.Shared shared) implements BatchJob.ImageWork<Input> {
        @Override
        public List<Row> rows(Input input, JobCounters counters) {
            InstructByImage.ImageRecords r;
            try {
                r = InstructByImage.records(shared, input.scene(), MiniLmEmbedder.get());
            } catch (UncheckedIOException e) {
                counters.skip("unreadable image", input.scene().image().fileName());
                return List.of();
            }
            List<Row> rows = new ArrayList<>();
            for (Map.Entry<Subset, List<String>> e : r.records().entrySet()) {
                List<String> records = e.getValue();
                for (int i = 0; i < records.size(); i++) {
                    rows.add(RowFactory.create(e.getKey().id(), r.imageId(), input.position(), i, records.get(i)));
                }
            }
            counters.image();
            for (int i = 0; i < r.regions(); i++) {
                counters.region(0);
            }
            return rows;
        }
    }

    /**
     * What a job did.
     *
     * @param records  records written per subset
     * @param official the official files' folder, or {@code null}
     */
    public record Result(BatchJob.Result job, Map<Subset, Long> records, Path official) {
    }

    /** The job (and the official files); stops Spark at the end. */
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

    record Prepared(InstructByImage.Shared shared, List<Input> inputs, List<String[]> skipped) {
    }

    static Prepared prepare(Options o) {
        SceneReader.Inputs in = o.inputs();
        requireFile(in.instances(), "instances file");
        requireFile(in.parts(), "parts file");
        requireFile(in.captions(), "captions file");
        if (in.images() != null && !Files.isDirectory(in.images())) {
            throw new IllegalArgumentException("image folder not found: " + in.images());
        }
        DescribeJob.checkOutput(o.out());
        ReadReport report = o.strict() ? ReadReport.strict() : ReadReport.lenient();
        InstructByImage.Plan plan;
        try {
            plan = InstructByImage.plan(in, report, o.options());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (DatasetFormatException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        List<Input> inputs = new ArrayList<>();
        for (int i = 0; i < plan.images().size(); i++) {
            inputs.add(new Input(i, plan.images().get(i)));
        }
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException(in.instances() + " has no images");
        }
        List<String[]> skipped = new ArrayList<>();
        List<ReadReport.Skip> kept = report.skips();
        for (long k = 0; k < report.skipped(); k++) {
            skipped.add(new String[] {"malformed annotation", k < kept.size() ? kept.get((int) k).toString()
                    : kept.isEmpty() ? "" : kept.getFirst().toString()});
        }
        return new Prepared(plan.shared(), inputs, skipped);
    }

    private static void requireFile(Path p, String what) {
        if (p != null && !Files.isRegularFile(p)) {
            throw new IllegalArgumentException(what + " not found: " + p);
        }
    }

    private static Result run(SparkSession spark, Options o, Prepared p, PrintStream progress) {
        BatchJob.Result job = new BatchJob<>("instruct", SCHEMA, new Work(p.shared())).run(spark, p.inputs(),
                p.skipped(), o.partitions(), o.out(), o.format(), progress);
        Dataset<Row> rows = spark.read().schema(SCHEMA).format(o.format().sparkSource()).load(o.out());
        Map<Subset, Long> records = new EnumMap<>(Subset.class);
        for (Subset s : Subset.values()) {
            records.put(s, 0L);
        }
        for (Row r : rows.groupBy("subset").count().collectAsList()) {
            records.put(subset(r.getString(0)), r.getLong(1));
        }
        if (o.official() != null) {
            writeOfficial(rows, o.official());
        }
        return new Result(job, records, o.official());
    }

    /** The five official files from the written rows, in the single-machine engine's order. */
    static Map<Subset, Long> writeOfficial(Dataset<Row> rows, Path dir) {
        Iterator<Row> it = rows.orderBy("image_index", "index").select("subset", "record").toLocalIterator();
        try (InstructByImage.OfficialFiles files = new InstructByImage.OfficialFiles(dir)) {
            while (it.hasNext()) {
                Row r = it.next();
                files.write(subset(r.getString(0)), r.getString(1));
            }
            return files.commit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Subset subset(String id) {
        for (Subset s : Subset.values()) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        throw new IllegalStateException("unknown subset '" + id + "' in the job's output");
    }
}
