package osprey4j.spark;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.Success$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * The job's progress on stderr, from Spark's own listener events: one line per finished task (with how many of the
 * stage's tasks are done and an estimate of the time left) and one per failed attempt with Spark's reason.
 */
public final class ProgressListener extends SparkListener {
    private final PrintStream out;
    private final String prefix;
    private final AtomicInteger done = new AtomicInteger();
    private volatile int total;
    private volatile long startNanos = System.nanoTime();

    public ProgressListener(PrintStream out, String prefix) {
        this.out = out;
        this.prefix = prefix;
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted event) {
        total = event.stageInfo().numTasks();
        done.set(0);
        startNanos = System.nanoTime();
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd event) {
        var info = event.taskInfo();
        if (event.reason() instanceof Success$) {
            int n = done.incrementAndGet();
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            int t = Math.max(total, n);
            double left = n == 0 ? 0 : elapsed / n * (t - n);
            out.printf(Locale.ROOT, "%stask %d/%d done (partition %d, %.1f s); %.0f s elapsed, about %.0f s left%n",
                    prefix, n, t, info.index(), info.duration() / 1e3, elapsed, left);
        } else {
            String why = event.reason().toString().lines().findFirst().orElse("");
            out.printf(Locale.ROOT, "%stask for partition %d failed (attempt %d): %s; Spark retries it%n", prefix,
                    info.index(), info.attemptNumber(), why);
        }
        out.flush();
    }
}
