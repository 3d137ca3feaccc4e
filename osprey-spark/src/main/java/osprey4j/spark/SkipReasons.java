package osprey4j.spark;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.util.AccumulatorV2;

/**
 * A Spark accumulator of skipped inputs: per reason, how many and the first example (an image file name or an
 * annotation id). Reasons are short fixed phrases ("image file not found"), so the map stays small.
 */
public final class SkipReasons extends AccumulatorV2<SkipReasons.Skip, Map<String, SkipReasons.Count>> {
    /** One skipped input. */
    public record Skip(String reason, String example) implements Serializable {
    }

    /** How often a reason occurred, and its first example (smallest, so the result does not depend on order). */
    public record Count(long count, String example) implements Serializable {
        Count plus(Count o) {
            return new Count(count + o.count, example.compareTo(o.example) <= 0 ? example : o.example);
        }
    }

    private final TreeMap<String, Count> counts = new TreeMap<>();

    @Override
    public boolean isZero() {
        return counts.isEmpty();
    }

    @Override
    public SkipReasons copy() {
        SkipReasons c = new SkipReasons();
        c.counts.putAll(counts);
        return c;
    }

    @Override
    public void reset() {
        counts.clear();
    }

    @Override
    public void add(Skip v) {
        counts.merge(v.reason(), new Count(1, v.example() == null ? "" : v.example()), Count::plus);
    }

    @Override
    public void merge(AccumulatorV2<Skip, Map<String, Count>> other) {
        other.value().forEach((k, v) -> counts.merge(k, v, Count::plus));
    }

    @Override
    public Map<String, Count> value() {
        return new TreeMap<>(counts);
    }

    /** The total over all reasons. */
    public static long total(Map<String, Count> skips) {
        return skips.values().stream().mapToLong(Count::count).sum();
    }
}
