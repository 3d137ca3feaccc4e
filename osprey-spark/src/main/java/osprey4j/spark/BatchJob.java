package osprey4j.spark;

import java.io.PrintStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * The skeleton every batch job shares: inputs made on the driver, split by image into partitions, each partition
 * turned into output rows by a task that uses its executor's model ({@link ExecutorModels}), the rows written by
 * Spark's DataFrame writer, progress from a listener, counters from accumulators.
 *
 * <p>Exactly once: the rows go to Spark's file writer, whose commit protocol writes each task attempt under a
 * temporary directory and moves only a successful attempt's files into place; a failed or killed attempt's files
 * are dropped, and the job's own output directory appears only when every task has committed.
 *
 * @param <T> one image's work
 */
public final class BatchJob<T extends Serializable> {
    /** Turns one image's work into output rows (runs on an executor). */
    @FunctionalInterface
    public interface ImageWork<T> extends Serializable {
        List<Row> rows(T input, JobCounters counters);
    }

    private final String name;
    private final StructType schema;
    private final ImageWork<T> work;

    public BatchJob(String name, StructType schema, ImageWork<T> work) {
        this.name = name;
        this.schema = schema;
        this.work = work;
    }

    /** What a finished job reports. */
    public record Result(String out, OutputFormat format, int partitions, JobCounters.Snapshot counters,
                         double seconds) {
    }

    /**
     * Runs the job on {@code spark} and writes {@code out} (which must not exist).
     *
     * @param partitions    how many tasks (at most one per input); 0 for four per core Spark has
     * @param driverSkipped inputs already left out on the driver: (reason, example) pairs to count with the rest
     */
    public Result run(SparkSession spark, List<T> inputs, List<String[]> driverSkipped, int partitions, String out,
                      OutputFormat format, PrintStream progress) {
        long t0 = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JobCounters counters = JobCounters.register(spark.sparkContext());
        for (String[] s : driverSkipped) {
            counters.skip(s[0], s[1]);
        }
        int n = partitions > 0 ? partitions : 4 * jsc.defaultParallelism();
        n = Math.max(1, Math.min(n, inputs.size()));
        FaultInjection faults = FaultInjection.from(spark);
        ImageWork<T> w = work;
        FlatMapFunction<Iterator<T>, Row> task = it -> new Rows<>(it, w, counters, faults);
        JavaRDD<Row> rows = jsc.parallelize(new ArrayList<>(inputs), n).mapPartitions(task);
        ProgressListener listener = new ProgressListener(progress, "osprey spark " + name + ": ");
        spark.sparkContext().addSparkListener(listener);
        try {
            spark.createDataFrame(rows, schema).write().mode(SaveMode.ErrorIfExists).format(format.sparkSource())
                    .save(out);
        } finally {
            spark.sparkContext().removeSparkListener(listener);
        }
        return new Result(out, format, n, counters.snapshot(), (System.nanoTime() - t0) / 1e9);
    }

    /** The executor's cores for its compute pool: spark.executor.cores on a cluster, 0 (the machine's) locally. */
    public static int executorThreads() {
        SparkEnv env = SparkEnv.get();
        if (env == null || env.conf().get("spark.master", "local").startsWith("local")) {
            return 0;
        }
        return env.conf().getInt("spark.executor.cores", 0);
    }

    /** A partition's rows, one image at a time. */
    private static final class Rows<T> implements Iterator<Row> {
        private final Iterator<T> inputs;
        private final ImageWork<T> work;
        private final JobCounters counters;
        private final FaultInjection faults;
        private Iterator<Row> current = List.<Row>of().iterator();
        private int emitted;

        Rows(Iterator<T> inputs, ImageWork<T> work, JobCounters counters, FaultInjection faults) {
            this.inputs = inputs;
            this.work = work;
            this.counters = counters;
            this.faults = faults;
        }

        @Override
        public boolean hasNext() {
            while (!current.hasNext() && inputs.hasNext()) {
                current = work.rows(inputs.next(), counters).iterator();
            }
            return current.hasNext();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            faults.check(emitted);
            emitted++;
            return current.next();
        }
    }
}
