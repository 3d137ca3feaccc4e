package osprey4j.spark;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import osprey4j.service.OspreyService;
import osprey4j.service.SegmentService;

/**
 * The models an executor process has loaded: one {@link OspreyService} per model directory (and one SAM
 * {@link SegmentService} per checkpoint), loaded by the first task
 * that needs it and shared by every later task in the same JVM (the weights are memory-mapped from the directory,
 * which every executor must be able to read). The service is thread-safe; concurrent tasks share its weights and the
 * compute pool.
 */
public final class ExecutorModels {
    private static final Logger LOG = Logger.getLogger(ExecutorModels.class.getName());
    private static final Map<String, OspreyService> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, SegmentService> SEGMENTERS = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /**
     * The service for {@code modelDir}, loading it on first use in this JVM.
     *
     * @param threads the executor's cores, for the compute pool when this process has not sized it yet; 0 to leave
     *                the pool at the machine's cores (local masters: the executor is this process)
     */
    public static OspreyService service(String modelDir, int threads) {
        return MODELS.computeIfAbsent(modelDir, dir -> {
            if (threads > 0 && System.getProperty("osprey.threads") == null) {
                System.setProperty("osprey.threads", Integer.toString(threads));
            }
            return OspreyService.load(Path.of(dir), w -> LOG.warning(dir + ": " + w));
        });
    }

    /**
     * SAM for {@code checkpoint} (an absolute path every executor can read), loading it on first use in this JVM and
     * sharing it with every later task; {@code threads} as for {@link #service}.
     */
    public static SegmentService segmenter(String checkpoint, int threads) {
        return SEGMENTERS.computeIfAbsent(checkpoint, file -> {
            if (threads > 0 && System.getProperty("osprey.threads") == null) {
                System.setProperty("osprey.threads", Integer.toString(threads));
            }
            return SegmentService.load(Path.of(file));
        });
    }

    /** Whether this JVM has loaded the SAM {@code checkpoint}. */
    public static boolean isSegmenterLoaded(String checkpoint) {
        return SEGMENTERS.containsKey(checkpoint);
    }

    /** Whether this JVM has loaded {@code modelDir}. */
    public static boolean isLoaded(String modelDir) {
        return MODELS.containsKey(modelDir);
    }
}
