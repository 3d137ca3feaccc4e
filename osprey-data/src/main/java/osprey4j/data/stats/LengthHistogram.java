package osprey4j.data.stats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Lengths in words, bucketed by powers of two (1, 2-3, 4-7, ... 128+), with mean, median and maximum. */
public final class LengthHistogram {
    private static final int BUCKETS = 8;
    private final long[] buckets = new long[BUCKETS];
    private final List<Integer> values = new ArrayList<>();

    public void add(int words) {
        values.add(words);
        int b = words <= 0 ? 0 : Math.min(BUCKETS - 1, 31 - Integer.numberOfLeadingZeros(words));
        buckets[b]++;
    }

    public long count() {
        return values.size();
    }

    public double mean() {
        return values.stream().mapToInt(Integer::intValue).average().orElse(0);
    }

    public double median() {
        if (values.isEmpty()) {
            return 0;
        }
        int[] v = values.stream().mapToInt(Integer::intValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2.0;
    }

    public int max() {
        return values.stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    /** Bucket label ("1", "2-3", "4-7", ..., "128+") to count, every bucket present. */
    public Map<String, Long> buckets() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int b = 0; b < BUCKETS; b++) {
            out.put(label(b), buckets[b]);
        }
        return out;
    }

    static String label(int b) {
        int lo = 1 << b;
        if (b == BUCKETS - 1) {
            return lo + "+";
        }
        return b == 0 ? "0-1" : lo + "-" + ((lo << 1) - 1);
    }

    public static int words(String text) {
        String t = text.strip();
        return t.isEmpty() ? 0 : t.split("\\s+").length;
    }
}
