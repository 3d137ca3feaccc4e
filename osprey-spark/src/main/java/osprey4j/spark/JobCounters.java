package osprey4j.spark;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * The counters every job reports at its end: images done, regions (or questions) done, generated tokens, and
 * skipped inputs with their reasons. They are Spark accumulators updated by the tasks that write the output:
 * Spark applies a result task's updates once, from the attempt whose output it commits, so a retried task is
 * not counted twice. Skips found on the driver (while reading the annotations) are added there.
 */
public final class JobCounters implements Serializable {
    private final LongAccumulator images;
    private final LongAccumulator regions;
    private final LongAccumulator tokens;
    private final SkipReasons skipped;

    private JobCounters(LongAccumulator images, LongAccumulator regions, LongAccumulator tokens, SkipReasons skipped) {
        this.images = images;
        this.regions = regions;
        this.tokens = tokens;
        this.skipped = skipped;
    }

    /** Registers the accumulators with the context. */
    public static JobCounters register(SparkContext sc) {
        SkipReasons skipped = new SkipReasons();
        sc.register(skipped, "skipped");
        return new JobCounters(sc.longAccumulator("images"), sc.longAccumulator("regions"),
                sc.longAccumulator("tokens"), skipped);
    }

    /** Counters that count nothing: the per-image work run outside a job (the benchmark's single-machine peer). */
    public static JobCounters none() {
        return new JobCounters(null, null, null, null);
    }

    public void image() {
        if (images != null) {
            images.add(1);
        }
    }

    public void region(int generatedTokens) {
        if (regions != null) {
            regions.add(1);
            tokens.add(generatedTokens);
        }
    }

    public void skip(String reason, String example) {
        if (skipped != null) {
            skipped.add(new SkipReasons.Skip(reason, example));
        }
    }

    /** The values on the driver, after the job. */
    public Snapshot snapshot() {
        return new Snapshot(images.value(), regions.value(), tokens.value(), new TreeMap<>(skipped.value()));
    }

    /** The counters' values. */
    public record Snapshot(long images, long regions, long tokens, Map<String, SkipReasons.Count> skipped) {
        public long skippedTotal() {
            return SkipReasons.total(skipped);
        }
    }
}
