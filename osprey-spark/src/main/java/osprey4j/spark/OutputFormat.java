package osprey4j.spark;

import java.util.Locale;

/** How a job writes its records: Parquet (the default) or JSON lines, both through Spark's own writers. */
public enum OutputFormat {
    PARQUET("parquet"),
    JSONL("json");

    private final String sparkSource;

    OutputFormat(String sparkSource) {
        this.sparkSource = sparkSource;
    }

    /** The name of Spark's data source. */
    public String sparkSource() {
        return sparkSource;
    }

    /** {@code parquet} or {@code jsonl} (also {@code json}). */
    public static OutputFormat parse(String s) {
        return switch (s == null ? "parquet" : s.toLowerCase(Locale.ROOT)) {
            case "parquet" -> PARQUET;
            case "jsonl", "json" -> JSONL;
            default -> throw new IllegalArgumentException("unknown --format '" + s + "': expected parquet or jsonl");
        };
    }
}
