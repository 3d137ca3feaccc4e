package osprey4j.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;

/**
 * How the batch jobs start Spark: the master URL (checked before Spark starts, so a typo is one line, not a
 * stack trace), the application name and any {@code --conf} settings. Local masters bind the driver to 127.0.0.1
 * and keep Spark's web UI off unless told otherwise; cluster masters take the cluster's own settings.
 */
public final class SparkSetup {
    /** {@code local}, {@code local[N]}, {@code local[*]}, {@code local[N,F]}, {@code local[*,F]}. */
    private static final Pattern LOCAL = Pattern.compile("local(\\[(\\*|[1-9][0-9]*)(,[1-9][0-9]*)?])?");
    private static final Pattern CLUSTER = Pattern.compile("(spark://[^\\s/]+(,[^\\s/]+)*|yarn|k8s://\\S+)");
    /** Loggers Spark and its libraries write to: their INFO lines would bury the job's progress. */
    private static final String[] QUIET = {"org.apache.spark", "org.sparkproject", "org.apache.hadoop",
            "org.apache.parquet"};
    /** Held so that the levels set on them stay set (java.util.logging keeps loggers weakly). */
    private static final List<Logger> QUIETED = new ArrayList<>();

    private final String master;
    private final String appName;
    private final Map<String, String> conf;

    private SparkSetup(String master, String appName, Map<String, String> conf) {
        this.master = master;
        this.appName = appName;
        this.conf = Map.copyOf(conf);
    }

    /**
     * @param master  a Spark master URL: {@code local[*]} (the default when null), {@code local[N]},
     *                {@code local[N,F]} (F tries per task), {@code spark://HOST:PORT}, {@code yarn} or
     *                {@code k8s://URL}
     * @param conf    further Spark settings ({@code spark.executor.memory}, ...); they win over ours
     * @throws IllegalArgumentException for a master URL of no known form, or a setting with no value
     */
    public static SparkSetup of(String master, String appName, Map<String, String> conf) {
        String m = master == null ? "local[*]" : master.strip();
        if (!LOCAL.matcher(m).matches() && !CLUSTER.matcher(m).matches()) {
            throw new IllegalArgumentException("unknown --master URL '" + master + "': expected local[*], local[N], "
                    + "local[N,F] (F tries per task), spark://HOST:PORT, yarn or k8s://URL");
        }
        Map<String, String> settings = new LinkedHashMap<>();
        if (conf != null) {
            conf.forEach((k, v) -> {
                if (k == null || k.isBlank() || v == null) {
                    throw new IllegalArgumentException("--conf expects KEY=VALUE, got '" + k + "'");
                }
                settings.put(k, v);
            });
        }
        return new SparkSetup(m, appName, settings);
    }

    /** Parses {@code KEY=VALUE} settings as {@code --conf} gives them. */
    public static Map<String, String> parseConf(Iterable<String> pairs) {
        Map<String, String> out = new LinkedHashMap<>();
        if (pairs != null) {
            for (String p : pairs) {
                int eq = p.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--conf expects KEY=VALUE, got '" + p + "'");
                }
                out.put(p.substring(0, eq).strip(), p.substring(eq + 1));
            }
        }
        return out;
    }

    public String master() {
        return master;
    }

    /** Whether the master runs executors inside this process. */
    public boolean isLocal() {
        return master.startsWith("local");
    }

    /** The settings the session starts with: ours for local runs, then the caller's. */
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        if (isLocal()) {
            s.put("spark.driver.bindAddress", "127.0.0.1");
            s.put("spark.driver.host", "127.0.0.1");
            s.put("spark.ui.enabled", "false");
        }
        s.putAll(conf);
        return s;
    }

    /** Starts (or joins) the session. Spark's own INFO logging is turned down to warnings. */
    public SparkSession start() {
        quietSparkLogging();
        if (isLocal()) {
            // The driver is bound to 127.0.0.1 above; Spark still looks up the machine's address and says so.
            quiet("org.apache.spark.util.Utils", Level.SEVERE);
        }
        SparkSession.Builder b = SparkSession.builder().master(master).appName(appName);
        settings().forEach(b::config);
        SparkSession session = b.getOrCreate();
        return session;
    }

    /** Spark logs through SLF4J to java.util.logging here; keep only its warnings. */
    static void quietSparkLogging() {
        for (String name : QUIET) {
            quiet(name, Level.WARNING);
        }
        quiet("org.apache.hadoop.util.NativeCodeLoader", Level.SEVERE);   // "no native Hadoop library": expected
    }

    /** Sets a logger's level unless the user's logging configuration has set one. */
    private static synchronized void quiet(String name, Level level) {
        Logger logger = Logger.getLogger(name);
        if (logger.getLevel() == null) {
            logger.setLevel(level);
            QUIETED.add(logger);
        }
    }
}
