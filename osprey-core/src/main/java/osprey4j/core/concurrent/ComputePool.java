package osprey4j.core.concurrent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one pool every kernel splits its work across, sized to the machine's cores (override with the
 * system property {@code osprey.threads}). Kernels call {@link #parallelFor}; nothing in a hot path uses
 * parallel streams or its own threads, so the process never oversubscribes the cores.
 *
 * <p>Nested calls (a kernel called from inside another kernel's task) run inline on the calling worker.
 */
public final class ComputePool {
    /** Work on a half-open index range [from, to). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private static final int THREADS = Math.max(1,
            Integer.getInteger("osprey.threads", Runtime.getRuntime().availableProcessors()));

    private static final AtomicInteger COUNTER = new AtomicInteger();

    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS, pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("osprey-compute-" + COUNTER.incrementAndGet());
        t.setDaemon(true);
        return t;
    }, null, false);

    private ComputePool() {
    }

    /** The number of threads kernels split work across. */
    public static int threads() {
        return THREADS;
    }

    /** Runs {@code task} over [0, n) split into one contiguous chunk per thread. */
    public static void parallelFor(int n, RangeTask task) {
        parallelFor(n, 1, task);
    }

    /**
     * Runs {@code task} over [0, n), split into at most {@link #threads()} contiguous chunks of at least
     * {@code minChunk} indices each. Returns when every chunk is done; an exception in any chunk is rethrown.
     */
    public static void parallelFor(int n, int minChunk, RangeTask task) {
        if (n <= 0) {
            return;
        }
        int chunks = (int) Math.min(THREADS, Math.max(1, (long) n / Math.max(1, minChunk)));
        if (chunks <= 1 || ForkJoinTask.inForkJoinPool() && Thread.currentThread() instanceof ForkJoinWorkerThread w
                && w.getPool() == POOL) {
            task.run(0, n);
            return;
        }
        List<ForkJoinTask<?>> tasks = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            tasks.add(ForkJoinTask.adapt(() -> task.run(from, to)));
        }
        POOL.invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks)));
    }
}
