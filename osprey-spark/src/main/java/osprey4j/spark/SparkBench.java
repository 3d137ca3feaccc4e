package osprey4j.spark;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import osprey4j.core.io.FileTrees;
import osprey4j.model.GenerationOptions;
import osprey4j.service.DescribeRequest;

/**
 * {@code osprey spark bench}: images per second of the describe job on {@code local[1]} and {@code local[2]} next to
 * the single-machine describe (the same per-image work, one image after another, no Spark) on the same input, in
 * one process. The model is loaded once before any timing and shared by all runs (as an executor shares it between
 * its tasks); each configuration runs {@code rounds} times, alternating, and its best time counts. Spark's start-up is
 * timed apart from the job.
 */
public final class SparkBench {
    private SparkBench() {
    }

    /** One configuration's best run. */
    public record Row(String name, double seconds, double startSeconds, long images, long regions, long tokens) {
        public double imagesPerSecond() {
            return images / seconds;
        }

        public double msPerRegion() {
            return seconds * 1e3 / regions;
        }
    }

    /** The benchmark's input and settings. */
    public record Options(Path model, Path images, Path annotations, List<String> masters, int rounds,
                          GenerationOptions generation, Map<String, String> conf) {
    }

    public static List<Row> run(Options o, PrintStream log) throws IOException {
        Path work = Files.createTempDirectory("osprey-spark-bench");
        try {
            return run(o, work, log);
        } finally {
            FileTrees.deleteUnchecked(work);
        }
    }

    private static List<Row> run(Options o, Path work, PrintStream log) {
        String model = o.model().toAbsolutePath().normalize().toString();
        DescribeJob.Options base = new DescribeJob.Options(o.model(), o.images(), o.annotations(), "",
                OutputFormat.PARQUET, DescribeRequest.Detail.SHORT, o.generation(), 0);
        DescribeJob.Inputs inputs = DescribeJob.prepare(withOut(base, work.resolve("check").toString()));
        DescribeJob.Work describe = DescribeJob.work(base);
        log.printf("loading %s and warming up on one image...%n", o.model());
        ExecutorModels.service(model, 0);
        describe.rows(inputs.images().get(0), JobCounters.none());

        List<Row> best = new ArrayList<>();
        for (int round = 0; round < o.rounds(); round++) {
            List<Row> rows = new ArrayList<>();
            rows.add(single(inputs, describe));
            log.printf("round %d: single machine %.2f s%n", round + 1, rows.get(0).seconds());
            for (String master : o.masters()) {
                long t0 = System.nanoTime();
                SparkSession spark = SparkSetup.of(master, "osprey spark bench", o.conf()).start();
                double start = (System.nanoTime() - t0) / 1e9;
                try {
                    String out = work.resolve("out-" + round + "-" + master.replaceAll("[^A-Za-z0-9]", "_")).toString();
                    BatchJob.Result r = new BatchJob<>("bench", DescribeJob.SCHEMA, describe).run(spark,
                            inputs.images(), List.of(), 0, out, OutputFormat.PARQUET, new PrintStream(
                                    PrintStream.nullOutputStream()));
                    JobCounters.Snapshot c = r.counters();
                    rows.add(new Row("spark " + master, r.seconds(), start, c.images(), c.regions(), c.tokens()));
                    log.printf("round %d: spark %s %.2f s (+%.1f s start-up)%n", round + 1, master, r.seconds(), start);
                } finally {
                    spark.stop();
                }
            }
            for (int i = 0; i < rows.size(); i++) {
                if (best.size() <= i) {
                    best.add(rows.get(i));
                } else if (rows.get(i).seconds() < best.get(i).seconds()) {
                    best.set(i, rows.get(i));
                }
            }
        }
        return best;
    }

    /** The single-machine describe of every image in turn, on this thread. */
    private static Row single(DescribeJob.Inputs inputs, DescribeJob.Work describe) {
        CountingCounters counters = new CountingCounters();
        long t0 = System.nanoTime();
        for (ImageInput image : inputs.images()) {
            counters.images++;
            for (org.apache.spark.sql.Row r : describe.rows(image, JobCounters.none())) {
                counters.regions++;
                counters.tokens += ((int[]) r.get(DescribeJob.SCHEMA.fieldIndex("tokens"))).length;
            }
        }
        return new Row("single machine", (System.nanoTime() - t0) / 1e9, 0, counters.images, counters.regions,
                counters.tokens);
    }

    private static final class CountingCounters {
        long images;
        long regions;
        long tokens;
    }

    private static DescribeJob.Options withOut(DescribeJob.Options o, String out) {
        return new DescribeJob.Options(o.model(), o.images(), o.annotations(), out, o.format(), o.detail(),
                o.generation(), o.partitions());
    }
}
