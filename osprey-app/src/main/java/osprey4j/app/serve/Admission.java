package osprey4j.app.serve;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bounded work queue: at most {@code workers} model requests run at once, at most {@code depth} more wait;
 * one past that is refused at once with a 503 whose Retry-After estimates when a place frees up.
 */
final class Admission {
    private final int workers;
    private final int depth;
    private final Semaphore running;
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger active = new AtomicInteger();
    /** Mean run time in microseconds, exponentially weighted. */
    private final AtomicLong meanMicros = new AtomicLong(1_000_000);
    private final Metrics metrics;

    Admission(int workers, int depth, Metrics metrics) {
        this.workers = workers;
        this.depth = depth;
        this.running = new Semaphore(workers, true);
        this.metrics = metrics;
    }

    /** A place in the queue, then a worker; close it when the model work is done. */
    final class Ticket implements AutoCloseable {
        private final long start = System.nanoTime();
        private boolean closed;

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                long micros = (System.nanoTime() - start) / 1000;
                meanMicros.updateAndGet(m -> (m * 7 + micros) / 8);
                active.decrementAndGet();
                running.release();
                inside.decrementAndGet();
            }
        }
    }

    /**
     * Waits for a worker.
     *
     * @throws ApiException 503 when {@code workers + depth} requests are already inside
     */
    Ticket enter() {
        if (inside.incrementAndGet() > workers + depth) {
            inside.decrementAndGet();
            metrics.rejected.increment();
            throw ApiException.busy(retryAfterSeconds(), "the server is busy (" + workers + " running, " + depth
                    + " waiting); retry later");
        }
        try {
            running.acquire();
        } catch (InterruptedException e) {
            inside.decrementAndGet();
            Thread.currentThread().interrupt();
            throw ApiException.busy(1, "interrupted while waiting for a worker");
        }
        active.incrementAndGet();
        return new Ticket();
    }

    /** Requests waiting for a worker. */
    int queued() {
        return Math.max(0, inside.get() - active.get());
    }

    int active() {
        return active.get();
    }

    private int retryAfterSeconds() {
        double seconds = (queued() + 1) * (meanMicros.get() / 1e6) / workers;
        return (int) Math.max(1, Math.min(60, Math.ceil(seconds)));
    }
}
