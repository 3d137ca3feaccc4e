package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import osprey4j.core.io.AtomicFiles;
import osprey4j.data.datasets.ReadReport;
import osprey4j.eval.runner.EvalRun;

/** What every paper evaluation's report shares: the set-up lines, number formats, and writing the two files. */
final class Reports {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SUMMARY = "summary.json";
    static final String REPORT = "report.md";

    private Reports() {
    }

    /** The set-up paragraph: answerer, data, decoding, sample counts, time, entries the reader skipped. */
    static String header(String title, EvalRun.Result r, Path data, ReadReport read) {
        StringBuilder b = new StringBuilder("# ").append(title).append("\n\n");
        b.append("Model: `").append(r.answerer()).append("`  \nData: `").append(data).append("`  \n");
        b.append("Decoding: ").append(decoding(r.run())).append("  \n");
        b.append(r.selected()).append(" samples (").append(r.askedNow()).append(" answered in this run, ")
                .append(r.resumed()).append(" from an earlier one); ")
                .append(String.format(Locale.ROOT, "%.1f s", r.seconds())).append('.');
        if (read != null && read.skipped() > 0) {
            b.append(" The reader skipped ").append(read.skipped()).append(" malformed entries (first: ")
                    .append(read.skips().getFirst()).append(").");
        }
        return b.append("\n\n").toString();
    }

    static String decoding(ObjectNode run) {
        var d = run.path("decoding");
        if (d.path("greedy").asBoolean()) {
            return "greedy (the reference samples at temperature 0.2)";
        }
        return String.format(Locale.ROOT, "sampled, temperature %s, top-k %d, top-p %s, seed %d (each sample seeded "
                        + "from it and its id)", d.path("temperature").asText(), d.path("top_k").asInt(),
                d.path("top_p").asText(), d.path("seed").asLong());
    }

    static ObjectNode summaryHead(EvalRun.Result r, Path data, ReadReport read) {
        ObjectNode o = JSON.createObjectNode();
        o.put("benchmark", r.run().path("benchmark").asText());
        o.put("model", r.answerer());
        o.put("data", data.toString());
        o.set("decoding", r.run().path("decoding"));
        o.put("samples", r.selected());
        o.put("answered_now", r.askedNow());
        o.put("resumed", r.resumed());
        o.put("seconds", Math.round(r.seconds() * 10) / 10.0);
        if (read != null) {
            o.put("skipped_entries", read.skipped());
        }
        return o;
    }

    static void write(Path out, ObjectNode summary, String markdown) throws IOException {
        AtomicFiles.write(out.resolve(SUMMARY), f -> Files.writeString(f,
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(summary) + "\n"));
        AtomicFiles.write(out.resolve(REPORT), f -> Files.writeString(f, markdown));
    }

    static void writeNamed(Path out, String jsonName, ObjectNode json, String mdName, String markdown)
            throws IOException {
        AtomicFiles.write(out.resolve(jsonName), f -> Files.writeString(f,
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n"));
        AtomicFiles.write(out.resolve(mdName), f -> Files.writeString(f, markdown));
    }

    /** A ratio as the paper prints it: a percentage with two decimals; "n/a" when undefined. */
    static String pct(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", 100 * v);
    }

    static String oneLine(String s) {
        String t = s.replace('\n', ' ').replace('|', '/').strip();
        return t.length() > 120 ? t.substring(0, 117) + "..." : t;
    }

    /** JSON has no NaN: undefined ratios are written as null. */
    static void putRatio(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }
}
