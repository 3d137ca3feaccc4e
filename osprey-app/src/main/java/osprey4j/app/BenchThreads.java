package osprey4j.app;

import osprey4j.core.concurrent.ComputePool;

/** The {@code --threads} option every {@code osprey bench} command shares. */
final class BenchThreads {
    private BenchThreads() {
    }

    /**
     * Applies {@code --threads} (null: not given) to the compute pool, which reads it once, when first used, and
     * returns the pool's thread count (all cores, or {@code -Dosprey.threads}, when not given).
     *
     * @throws UsageException for a count below 1, or one the pool of this JVM no longer can take
     */
    static int configure(Integer threads) {
        int n = requested(threads);
        if (threads != null) {
            if (System.getProperty("osprey.threads") == null) {
                System.setProperty("osprey.threads", Integer.toString(threads));
            }
            if (ComputePool.threads() != threads) {
                throw new UsageException("--threads " + threads + ": the compute pool of this JVM already runs "
                        + ComputePool.threads() + " threads (set it at start-up with -Dosprey.threads=" + threads + ")");
            }
        }
        return n;
    }

    /**
     * The thread count {@code --threads} asks for (null: not given, then the pool's), for a command that passes it
     * to the processes it starts rather than computing itself.
     *
     * @throws UsageException for a count below 1
     */
    static int requested(Integer threads) {
        if (threads == null) {
            return ComputePool.threads();
        }
        if (threads < 1) {
            throw new UsageException("--threads must be at least 1, got " + threads);
        }
        return threads;
    }
}
