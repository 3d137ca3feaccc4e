package osprey4j.data.instruct;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line progress bar redrawn in place on a terminal stream (stderr), at most ten times a second. */
final class Progress {
    private final PrintStream out;
    private final long total;
    private long lastDraw;

    Progress(PrintStream out, long total) {
        this.out = out;
        this.total = Math.max(1, total);
    }

    synchronized void update(long done, long skipped, long promptTokens, long completionTokens, double cost,
                             boolean force) {
        if (out == null) {
            return;
        }
        long now = System.nanoTime();
        if (!force && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        int width = 30;
        int filled = (int) Math.min(width, done * width / total);
        out.print(String.format(Locale.ROOT, "\r[%s%s] %d/%d tasks, %d skipped, tokens %d in / %d out, $%.4f",
                "#".repeat(filled), ".".repeat(width - filled), done, total, skipped, promptTokens, completionTokens,
                cost));
        if (force) {
            out.println();
        }
        out.flush();
    }
}
