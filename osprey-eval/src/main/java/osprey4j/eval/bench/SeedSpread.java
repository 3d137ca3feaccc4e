package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One evaluation repeated over several sampling seeds (the reference samples at temperature 0.2, so its figures
 * move from run to run): per headline metric, each seed's value, the mean and the sample standard deviation.
 * Written as {@code spread.json} and {@code spread.md} beside the per-seed folders.
 */
public final class SeedSpread {
    private SeedSpread() {
    }

    public static ObjectNode write(Path out, String benchmark, List<Long> seeds, List<ObjectNode> summaries,
                                   List<String> metrics) throws IOException {
        return write(out, benchmark, seeds, summaries, metrics, 100);
    }

    /** @param scale what the markdown multiplies values by (100 for ratios, 1 for scores already in percent) */
    public static ObjectNode write(Path out, String benchmark, List<Long> seeds, List<ObjectNode> summaries,
                                   List<String> metrics, double scale) throws IOException {
        ObjectNode o = Reports.JSON.createObjectNode();
        o.put("benchmark", benchmark);
        var seedArray = o.putArray("seeds");
        seeds.forEach(seedArray::add);
        ObjectNode m = o.putObject("metrics");
        StringBuilder b = new StringBuilder("# ").append(benchmark).append(": spread over ").append(seeds.size())
                .append(" seeds\n\n| metric |");
        seeds.forEach(s -> b.append(" seed ").append(s).append(" |"));
        b.append(" mean | sd |\n|---|").append("---:|".repeat(seeds.size() + 2)).append('\n');
        for (String key : metrics) {
            double[] v = new double[summaries.size()];
            for (int i = 0; i < v.length; i++) {
                JsonNode n = summaries.get(i);
                for (String part : key.split("\\.")) {
                    n = n.path(part);
                }
                v[i] = n.isNumber() ? n.asDouble() : Double.NaN;
            }
            double mean = 0;
            for (double x : v) {
                mean += x;
            }
            mean /= v.length;
            double sq = 0;
            for (double x : v) {
                sq += (x - mean) * (x - mean);
            }
            double sd = v.length > 1 ? Math.sqrt(sq / (v.length - 1)) : Double.NaN;
            ObjectNode k = m.putObject(key);
            var values = k.putArray("values");
            for (double x : v) {
                if (Double.isNaN(x)) {
                    values.addNull();
                } else {
                    values.add(x);
                }
            }
            Reports.putRatio(k, "mean", mean);
            Reports.putRatio(k, "sd", sd);
            b.append("| ").append(key).append(" |");
            for (double x : v) {
                b.append(' ').append(Reports.pct(x * scale / 100)).append(" |");
            }
            b.append(' ').append(Reports.pct(mean * scale / 100)).append(" | ").append(Reports.pct(sd * scale / 100))
                    .append(" |\n");
        }
        b.append(String.format(Locale.ROOT, "%nRatios in percent; sd is the sample standard deviation over seeds. Each "
                + "seed's report is in its seed-N folder.%n"));
        Reports.writeNamed(out, "spread.json", o, "spread.md", b.toString());
        return o;
    }
}
