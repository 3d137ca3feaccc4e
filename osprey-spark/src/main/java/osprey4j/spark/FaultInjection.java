package osprey4j.spark;

import java.io.Serializable;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;

/**
 * Deliberate task failures, to check that a job's output survives retries: with the Spark setting
 * {@value #PARTITION_KEY} = P, the first attempt of the task for partition P fails after it has handed its first
 * record to the writer. Spark then discards that attempt's files and runs the partition again (the master must
 * allow a second try: {@code local[N,F]} with F at least 2, or {@code spark.task.maxFailures}).
 *
 * @param partition the partition whose first attempt fails; -1 for none (the default)
 */
public record FaultInjection(int partition) implements Serializable {
    public static final String PARTITION_KEY = "spark.osprey.faultInjection.partition";
    public static final FaultInjection NONE = new FaultInjection(-1);

    /** The setting as the session has it now (set at start with {@code --conf}, or later on the session). */
    static FaultInjection from(SparkSession spark) {
        String v = spark.conf().get(PARTITION_KEY, "-1");
        try {
            return new FaultInjection(Integer.parseInt(v.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PARTITION_KEY + " must be a partition number, got '" + v + "'");
        }
    }

    /** Throws when this task is the one to fail and it has emitted {@code emitted} records. */
    void check(int emitted) {
        TaskContext tc = TaskContext.get();
        if (partition >= 0 && emitted >= 1 && tc != null && tc.partitionId() == partition && tc.attemptNumber() == 0) {
            throw new IllegalStateException("fault injected into partition " + partition + " after " + emitted
                    + " record(s) (" + PARTITION_KEY + ")");
        }
    }
}
