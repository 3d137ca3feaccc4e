package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.samples.EvalSamples;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TrainingSample;
import osprey4j.eval.metrics.CategoryAnswers;
import osprey4j.eval.metrics.SentenceEncoder;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.RegionAsker;

/**
 * Referring object classification (the paper's Table 3) on {@code lvis_val_1k_category.json} or
 * {@code paco_val_1k_category.json}: each region is asked "What is the category of &lt;mask&gt;&lt;pos&gt;? Using
 * only one word or phrase." and scored by Semantic Similarity and Semantic IoU ({@link CategoryAnswers}), averaged
 * over regions.
 */
public final class CategoryBenchmark {
    /** Which file: the paper's figures for Osprey-7B. */
    public enum Dataset {
        LVIS("lvis", "LVIS", 0.6524, 0.3819),
        PACO("paco", "PACO", 0.7306, 0.5272);

        final String id;
        final String title;
        final double paperSs;
        final double paperSIou;

        Dataset(String id, String title, double paperSs, double paperSIou) {
            this.id = id;
            this.title = title;
            this.paperSs = paperSs;
            this.paperSIou = paperSIou;
        }

        public String id() {
            return id;
        }
    }

    /** Mean scores over some regions. */
    public record Scores(int regions, double semanticSimilarity, double semanticIou) {
    }

    public record Report(Scores overall, Map<String, Scores> byCategory, List<JsonNode> worst, ObjectNode summary,
                         String markdown) {
    }

    private static final int WORST = 15;

    private CategoryBenchmark() {
    }

    /** The evaluation file's samples, one per region, in file order. */
    public static Stream<TrainingSample> samples(Dataset dataset, Path file, Path images, ReadReport read)
            throws IOException {
        return EvalSamples.categories(file, dataset.id + "_eval", SampleOptions.of(images, 0), read);
    }

    /** Scores each answer as the reference does: cleaned answer, spelt category, SS and S-IoU. */
    public static EvalRun.Scorer scorer(SentenceEncoder encoder) {
        return (sample, answer, r) -> {
            String cleaned = CategoryAnswers.clean(answer);
            String truth = EvalRun.truth(sample);
            r.put("cleaned", cleaned);
            r.put("semantic_similarity", CategoryAnswers.semanticSimilarity(encoder, cleaned, truth));
            r.put("semantic_iou", CategoryAnswers.semanticIou(cleaned, truth));
        };
    }

    public static EvalRun.Result run(Dataset dataset, Path file, Path images, EvalRun.Options options,
                                     RegionAsker asker, SentenceEncoder encoder, ReadReport read) throws IOException {
        List<TrainingSample> selected;
        try (Stream<TrainingSample> s = samples(dataset, file, images, read)) {
            selected = EvalRun.select(s.iterator(), options.shard(), options.limit());
        }
        com.fasterxml.jackson.databind.node.ObjectNode info = Reports.JSON.createObjectNode();
        info.put("data", file.toAbsolutePath().normalize().toString());
        return EvalRun.run(selected, options, asker, scorer(encoder), info);
    }

    /** Aggregates, writes summary.json and report.md into the run's folder, and returns them. */
    public static Report report(Dataset dataset, EvalRun.Result r, Path data, Path out, ReadReport read)
            throws IOException {
        List<JsonNode> recs = r.records();
        Scores overall = mean(recs);
        Map<String, List<JsonNode>> groups = new TreeMap<>();
        for (JsonNode n : recs) {
            groups.computeIfAbsent(n.path("truth").asText(), k -> new ArrayList<>()).add(n);
        }
        Map<String, Scores> byCategory = new TreeMap<>();
        groups.forEach((c, l) -> byCategory.put(c, mean(l)));
        List<JsonNode> worst = recs.stream()
                .sorted(Comparator.comparingDouble((JsonNode n) -> n.path("semantic_similarity").asDouble())
                        .thenComparing(n -> n.path("id").asText()))
                .limit(WORST).toList();

        ObjectNode s = Reports.summaryHead(r, data, read);
        s.put("regions", overall.regions());
        s.put("semantic_similarity", overall.semanticSimilarity());
        s.put("semantic_iou", overall.semanticIou());
        ObjectNode paper = s.putObject("paper_osprey_7b");
        paper.put("semantic_similarity", dataset.paperSs);
        paper.put("semantic_iou", dataset.paperSIou);
        ObjectNode cats = s.putObject("by_category");
        byCategory.forEach((c, sc) -> {
            ObjectNode n = cats.putObject(c);
            n.put("regions", sc.regions());
            n.put("semantic_similarity", sc.semanticSimilarity());
            n.put("semantic_iou", sc.semanticIou());
        });
        ArrayNode w = s.putArray("worst");
        worst.forEach(w::add);

        StringBuilder b = new StringBuilder(Reports.header("Referring object classification: " + dataset.title,
                r, data, read));
        b.append("| metric | osprey4j | paper (Osprey-7B) |\n|---|---:|---:|\n");
        b.append("| Semantic Similarity | ").append(Reports.pct(overall.semanticSimilarity())).append(" | ")
                .append(Reports.pct(dataset.paperSs)).append(" |\n");
        b.append("| Semantic IoU | ").append(Reports.pct(overall.semanticIou())).append(" | ")
                .append(Reports.pct(dataset.paperSIou)).append(" |\n\n");
        b.append("Means over ").append(overall.regions()).append(" regions, as the reference averages them. ");
        b.append("The paper's figures are over the whole file with the official weights; a --limit or --shard run "
                + "covers a part of it.\n\n");
        b.append("## Categories with the lowest Semantic IoU\n\n"
                + "| category | regions | SS | S-IoU |\n|---|---:|---:|---:|\n");
        byCategory.entrySet().stream()
                .sorted(Comparator.comparingDouble((Map.Entry<String, Scores> e) -> e.getValue().semanticIou())
                        .thenComparing(Map.Entry::getKey))
                .limit(WORST)
                .forEach(e -> b.append("| ").append(e.getKey()).append(" | ").append(e.getValue().regions())
                        .append(" | ").append(Reports.pct(e.getValue().semanticSimilarity())).append(" | ")
                        .append(Reports.pct(e.getValue().semanticIou())).append(" |\n"));
        b.append("\n## Least similar answers\n\n| sample | category | answer (cleaned) | SS | S-IoU |\n"
                + "|---|---|---|---:|---:|\n");
        for (JsonNode n : worst) {
            b.append("| `").append(n.path("id").asText()).append("` | ").append(n.path("truth").asText())
                    .append(" | ").append(Reports.oneLine(n.path("cleaned").asText())).append(" | ")
                    .append(Reports.pct(n.path("semantic_similarity").asDouble())).append(" | ")
                    .append(Reports.pct(n.path("semantic_iou").asDouble())).append(" |\n");
        }
        List<Map.Entry<String, Scores>> lowest = byCategory.entrySet().stream()
                .sorted(Comparator.comparingDouble((Map.Entry<String, Scores> e) -> e.getValue().semanticIou())
                        .thenComparing(Map.Entry::getKey))
                .limit(20).toList();
        b.append("\n").append(Figures.chart(out, "chart.png", List.of(
                new Figures.Bars("Overall (x100) vs the paper", "score", List.of("osprey4j", "paper"),
                        List.of("SS", "S-IoU"), List.of(List.of(100 * overall.semanticSimilarity(),
                                100 * overall.semanticIou()), List.of(100 * dataset.paperSs, 100 * dataset.paperSIou))),
                new Figures.Bars("Categories with the lowest S-IoU (x100)", "score", List.of("SS", "S-IoU"),
                        lowest.stream().map(Map.Entry::getKey).toList(),
                        List.of(lowest.stream().map(e -> (Number) (100 * e.getValue().semanticSimilarity())).toList(),
                                lowest.stream().map(e -> (Number) (100 * e.getValue().semanticIou())).toList())))));
        b.append("### The least similar answers, drawn\n\n");
        for (JsonNode n : worst.subList(0, Math.min(6, worst.size()))) {
            b.append(Figures.worstCase(out, r, n.path("id").asText())).append("  \n`").append(n.path("id").asText())
                    .append("`: ").append(n.path("truth").asText()).append(", answered \"")
                    .append(Reports.oneLine(n.path("answer").asText())).append("\"\n\n");
        }
        b.append("\nEvery answer, with its image and scores, is in `samples.jsonl`.\n");
        String md = b.toString();
        Reports.write(out, s, md);
        return new Report(overall, byCategory, worst, s, md);
    }

    static Scores mean(List<JsonNode> recs) {
        double ss = 0;
        double iou = 0;
        for (JsonNode n : recs) {
            ss += n.path("semantic_similarity").asDouble();
            iou += n.path("semantic_iou").asDouble();
        }
        int k = recs.size();
        return k == 0 ? new Scores(0, Double.NaN, Double.NaN) : new Scores(k, ss / k, iou / k);
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
