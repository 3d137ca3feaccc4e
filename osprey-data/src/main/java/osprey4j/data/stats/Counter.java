package osprey4j.data.stats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Counts of string keys; lists them most frequent first, ties by key, so reports are deterministic. */
public final class Counter {
    private final Map<String, Long> counts = new TreeMap<>();

    public void add(String key) {
        add(key, 1);
    }

    public void add(String key, long n) {
        counts.merge(key, n, Long::sum);
    }

    public long get(String key) {
        return counts.getOrDefault(key, 0L);
    }

    public long total() {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    public int distinct() {
        return counts.size();
    }

    /** The {@code limit} most frequent keys with their counts, most frequent first. */
    public Map<String, Long> top(int limit) {
        List<Map.Entry<String, Long>> entries = new ArrayList<>(counts.entrySet());
        entries.sort(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
                .thenComparing(Map.Entry.comparingByKey()));
        Map<String, Long> out = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : entries.subList(0, Math.min(limit, entries.size()))) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }
}
