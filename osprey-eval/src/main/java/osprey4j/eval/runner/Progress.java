package osprey4j.eval.runner;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * Progress lines with the rate and the time left, estimated from the samples answered in this run only (those
 * taken from an earlier run cost nothing). At most one line every {@code everyMs} milliseconds, and always the last.
 */
public final class Progress {
    private final Consumer<String> sink;
    private final int total;
    private final int resumed;
    private final long everyMs;
    private final long t0 = System.nanoTime();
    private long lastPrint;
    private int answered;

    public Progress(Consumer<String> sink, int total, int resumed, long everyMs) {
        this.sink = sink == null ? s -> { } : sink;
        this.total = total;
        this.resumed = resumed;
        this.everyMs = everyMs;
        this.lastPrint = t0;
    }

    /** One more sample answered in this run. */
    public void answered() {
        answered++;
        long now = System.nanoTime();
        if (resumed + answered == total || (now - lastPrint) / 1_000_000 >= everyMs) {
            lastPrint = now;
            sink.accept(line(now));
        }
    }

    String line(long now) {
        double seconds = (now - t0) / 1e9;
        int done = resumed + answered;
        StringBuilder b = new StringBuilder();
        b.append(done).append('/').append(total).append(" samples");
        if (resumed > 0) {
            b.append(" (").append(resumed).append(" resumed)");
        }
        if (answered > 0 && seconds > 0) {
            double rate = answered / seconds;
            b.append(String.format(Locale.ROOT, ", %.2f/s", rate));
            if (done < total) {
                b.append(", ETA ").append(duration((total - done) / rate));
            } else {
                b.append(", took ").append(duration(seconds));
            }
        }
        return b.toString();
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
