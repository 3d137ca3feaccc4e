package osprey4j.app.serve;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * The server's counters, gauges and histograms, written in Prometheus' text exposition format (version 0.0.4) by
 * {@link #write}. Small and dependency-free: the format is a few lines per metric.
 */
final class Metrics {
    /** Bucket bounds in seconds for latencies (time to first token, request duration). */
    private static final double[] SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    final LongAdder rejected = new LongAdder();
    final LongAdder cancelled = new LongAdder();
    final LongAdder generatedTokens = new LongAdder();
    final DoubleAdder decodeSeconds = new DoubleAdder();
    final LongAdder promptTokens = new LongAdder();
    final LongAdder reusedPromptTokens = new LongAdder();
    final LongAdder imageCacheHits = new LongAdder();
    final LongAdder imageCacheMisses = new LongAdder();
    final LongAdder imageEvictions = new LongAdder();
    final LongAdder chatCacheHits = new LongAdder();
    final LongAdder chatCacheMisses = new LongAdder();
    final LongAdder chatEvictions = new LongAdder();
    final Histogram ttftCold = new Histogram(SECONDS);
    final Histogram ttftWarm = new Histogram(SECONDS);
    private final Map<String, Histogram> durations = new ConcurrentHashMap<>();
    private final Map<String, DoubleSupplier> gauges = new ConcurrentHashMap<>();

    void gauge(String name, DoubleSupplier value) {
        gauges.put(name, value);
    }

    /** One finished request on {@code endpoint} with HTTP {@code status}, taking {@code seconds}. */
    void request(String endpoint, int status, double seconds) {
        requests.computeIfAbsent(endpoint + "\u0000" + status, k -> new LongAdder()).increment();
        durations.computeIfAbsent(endpoint, k -> new Histogram(SECONDS)).observe(seconds);
    }

    long requestCount(String endpoint, int status) {
        LongAdder a = requests.get(endpoint + "\u0000" + status);
        return a == null ? 0 : a.sum();
    }

    /** A Prometheus histogram with fixed bucket bounds. */
    static final class Histogram {
        private final double[] bounds;
        private final long[] counts;
        private double sum;
        private long count;

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new long[bounds.length];
        }

        synchronized void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts[i]++;
                }
            }
            sum += v;
            count++;
        }

        synchronized void write(StringBuilder out, String name, String labels) {
            String sep = labels.isEmpty() ? "" : labels + ",";
            for (int i = 0; i < bounds.length; i++) {
                out.append(name).append("_bucket{").append(sep).append("le=\"").append(num(bounds[i])).append("\"} ")
                        .append(counts[i]).append('\n');
            }
            out.append(name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(count).append('\n');
            String braces = labels.isEmpty() ? "" : "{" + labels + "}";
            out.append(name).append("_sum").append(braces).append(' ').append(num(sum)).append('\n');
            out.append(name).append("_count").append(braces).append(' ').append(count).append('\n');
        }
    }

    /** The exposition text. */
    String write() {
        StringBuilder out = new StringBuilder(4096);
        header(out, "osprey_requests_total", "counter", "HTTP requests finished, by endpoint and status");
        new TreeMap<>(requests).forEach((k, v) -> {
            String[] parts = k.split("\u0000");
            out.append("osprey_requests_total{endpoint=\"").append(parts[0]).append("\",status=\"").append(parts[1])
                    .append("\"} ").append(v.sum()).append('\n');
        });
        header(out, "osprey_request_duration_seconds", "histogram", "Time from request to last byte, by endpoint");
        new TreeMap<>(durations).forEach((k, h) -> h.write(out, "osprey_request_duration_seconds",
                "endpoint=\"" + k + "\""));
        counter(out, "osprey_rejected_total", "Requests refused with 503 because the queue was full", rejected.sum());
        counter(out, "osprey_cancelled_total", "Generations stopped because the client disconnected",
                cancelled.sum());
        counter(out, "osprey_generated_tokens_total", "Tokens generated", generatedTokens.sum());
        header(out, "osprey_decode_seconds_total", "counter", "Seconds spent generating tokens (tokens/s = the ratio"
                + " of the two totals' rates)");
        out.append("osprey_decode_seconds_total ").append(num(decodeSeconds.sum())).append('\n');
        counter(out, "osprey_prompt_tokens_total", "Prompt positions of answered questions", promptTokens.sum());
        counter(out, "osprey_reused_prompt_tokens_total", "Prompt positions taken from a prompt cache instead of"
                + " prefilled", reusedPromptTokens.sum());
        header(out, "osprey_image_cache_total", "counter", "Image lookups: hit = encoded features reused");
        out.append("osprey_image_cache_total{result=\"hit\"} ").append(imageCacheHits.sum()).append('\n');
        out.append("osprey_image_cache_total{result=\"miss\"} ").append(imageCacheMisses.sum()).append('\n');
        header(out, "osprey_chat_cache_total", "counter", "Conversation lookups: hit = its KV cache reused");
        out.append("osprey_chat_cache_total{result=\"hit\"} ").append(chatCacheHits.sum()).append('\n');
        out.append("osprey_chat_cache_total{result=\"miss\"} ").append(chatCacheMisses.sum()).append('\n');
        header(out, "osprey_evictions_total", "counter", "Cache entries dropped to stay within the memory budget");
        out.append("osprey_evictions_total{cache=\"image\"} ").append(imageEvictions.sum()).append('\n');
        out.append("osprey_evictions_total{cache=\"chat\"} ").append(chatEvictions.sum()).append('\n');
        header(out, "osprey_time_to_first_token_seconds", "histogram", "From request to first generated token;"
                + " image=cached when its features were already encoded");
        ttftCold.write(out, "osprey_time_to_first_token_seconds", "image=\"new\"");
        ttftWarm.write(out, "osprey_time_to_first_token_seconds", "image=\"cached\"");
        new TreeMap<>(gauges).forEach((name, v) -> {
            header(out, name, "gauge", name.replace('_', ' '));
            out.append(name).append(' ').append(num(v.getAsDouble())).append('\n');
        });
        return out.toString();
    }

    private static void counter(StringBuilder out, String name, String help, long v) {
        header(out, name, "counter", help);
        out.append(name).append(' ').append(v).append('\n');
    }

    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.6g", v);
    }
}
