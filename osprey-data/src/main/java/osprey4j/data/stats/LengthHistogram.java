package osprey4j.data.stats;

import java.util.LinkedHashMap;
import java.util.Map;

/** Lengths in words, bucketed by powers of two (1, 2-3, 4-7, ... 128+), with mean, median and maximum. */
public final class LengthHistogram {
    private static final int BUCKETS = 8;
    /** Exact counts per length up to this; longer texts count here too (only the maximum keeps their length). */
    private static final int EXACT = 4096;
    private final long[] buckets = new long[BUCKETS];
    private long[] perLength = new long[64];
    private long count;
    private long sum;
    private int max;

    public void add(int words) {
        int w = Math.max(0, words);
        count++;
        sum += w;
        max = Math.max(max, w);
        int slot = Math.min(w, EXACT);
        if (slot >= perLength.length) {
            int grown = Math.min(EXACT + 1, Math.max(slot + 1, perLength.length * 2));
            perLength = java.util.Arrays.copyOf(perLength, grown);
        }
        perLength[slot]++;
        buckets[w <= 0 ? 0 : Math.min(BUCKETS - 1, 31 - Integer.numberOfLeadingZeros(w))]++;
    }

    public long count() {
        return count;
    }

    public double mean() {
        return count == 0 ? 0 : (double) sum / count;
    }

    /** The median length (the mean of the two middle ones for an even count). */
    public double median() {
        if (count == 0) {
            return 0;
        }
        return count % 2 == 1 ? nth(count / 2) : (nth(count / 2 - 1) + nth(count / 2)) / 2.0;
    }

    /** The length of the k-th shortest text (0-based). */
    private int nth(long k) {
        long seen = 0;
        for (int len = 0; len < perLength.length; len++) {
            seen += perLength[len];
            if (seen > k) {
                return len;
            }
        }
        return max;
    }

    public int max() {
        return max;
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
