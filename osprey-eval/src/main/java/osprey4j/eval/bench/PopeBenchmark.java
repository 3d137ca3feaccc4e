package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.samples.EvalSamples;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TrainingSample;
import osprey4j.eval.metrics.PopeAnswers;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.RegionAsker;

/**
 * POPE object hallucination (the paper's Table 6) on {@code coco_pope_random.json}, {@code _popular} or
 * {@code _adversarial}: the question after the image, no region; the answer read as yes or no as
 * {@code pope/evaluate.py} reads it ({@link PopeAnswers}).
 */
public final class PopeBenchmark {
    /** The paper's Osprey-7B* figures per sampling setting: accuracy, precision, recall, F1, yes ratio. */
    enum Setting {
        RANDOM(0.8947, 0.9340, 0.8493, 0.8897, 0.4547),
        POPULAR(0.8783, 0.8994, 0.8520, 0.8750, 0.4737),
        ADVERSARIAL(0.8533, 0.8543, 0.8520, 0.8531, 0.4987);

        final double[] paper;

        Setting(double... paper) {
            this.paper = paper;
        }

        /** The setting a file's name says (coco_pope_random.json and so on), or null. */
        static Setting of(Path file) {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            for (Setting s : values()) {
                if (name.contains(s.name().toLowerCase(Locale.ROOT))) {
                    return s;
                }
            }
            return null;
        }
    }

    public record Report(PopeAnswers.Counts counts, ObjectNode summary, String markdown) {
    }

    private PopeBenchmark() {
    }

    public static EvalRun.Scorer scorer() {
        return (sample, answer, r) -> r.put("prediction", PopeAnswers.saysNo(answer) ? "no" : "yes");
    }

    /**
     * @throws IllegalArgumentException when a question has no label (POPE's question files carry them)
     */
    public static EvalRun.Result run(Path file, Path images, EvalRun.Options options, RegionAsker asker,
                                     ReadReport read) throws IOException {
        List<TrainingSample> selected;
        try (Stream<TrainingSample> s = EvalSamples.pope(file, SampleOptions.of(images, 0), read)) {
            selected = EvalRun.select(s.iterator(), options.shard(), options.limit());
        }
        for (TrainingSample s : selected) {
            String label = EvalRun.truth(s);
            if (label == null) {
                throw new IllegalArgumentException(file + ": question " + s.id() + " has no label; POPE needs the "
                        + "labelled question files (coco_pope_random.json and the like)");
            }
        }
        ObjectNode info = Reports.JSON.createObjectNode();
        info.put("data", file.toAbsolutePath().normalize().toString());
        return EvalRun.run(selected, options, asker, scorer(), info);
    }

    public static Report report(EvalRun.Result r, Path data, Path out, ReadReport read) throws IOException {
        PopeAnswers.Counts c = new PopeAnswers.Counts(0, 0, 0, 0);
        for (JsonNode n : r.records()) {
            c = c.add(n.path("prediction").asText().equals("yes"),
                    n.path("truth").asText().strip().toLowerCase(Locale.ROOT).equals("yes"));
        }
        double[] ours = {c.accuracy(), c.precision(), c.recall(), c.f1(), c.yesRatio()};
        String[] names = {"accuracy", "precision", "recall", "f1", "yes_ratio"};
        String[] labels = {"Accuracy", "Precision", "Recall", "F1 score", "Yes (%)"};
        Setting setting = Setting.of(data);

        ObjectNode s = Reports.summaryHead(r, data, read);
        s.put("tp", c.tp());
        s.put("fp", c.fp());
        s.put("tn", c.tn());
        s.put("fn", c.fn());
        for (int i = 0; i < names.length; i++) {
            Reports.putRatio(s, names[i], ours[i]);
        }
        if (setting != null) {
            s.put("setting", setting.name().toLowerCase(Locale.ROOT));
            ObjectNode p = s.putObject("paper_osprey_7b_chat");
            for (int i = 0; i < names.length; i++) {
                p.put(names[i], setting.paper[i]);
            }
        }
        List<JsonNode> wrong = r.records().stream()
                .filter(n -> !n.path("prediction").asText().equals(n.path("truth").asText().strip()
                        .toLowerCase(Locale.ROOT)))
                .limit(15).toList();
        ArrayNode w = s.putArray("wrong");
        wrong.forEach(w::add);

        String title = "POPE" + (setting == null ? "" : " (" + setting.name().toLowerCase(Locale.ROOT) + ")");
        StringBuilder b = new StringBuilder(Reports.header(title, r, data, read));
        b.append("| TP | FP | TN | FN |\n|---:|---:|---:|---:|\n| ").append(c.tp()).append(" | ").append(c.fp())
                .append(" | ").append(c.tn()).append(" | ").append(c.fn()).append(" |\n\n");
        b.append("| metric | osprey4j | paper (Osprey-7B*) |\n|---|---:|---:|\n");
        for (int i = 0; i < names.length; i++) {
            b.append("| ").append(labels[i]).append(" | ").append(Reports.pct(ours[i])).append(" | ")
                    .append(setting == null ? "-" : Reports.pct(setting.paper[i])).append(" |\n");
        }
        b.append("\nThe paper's figures are Osprey-Chat's (Osprey-7B*), over the whole file. An answer counts as no "
                + "when its first sentence has the word no or not, otherwise as yes (pope/evaluate.py). "
                + "n/a: undefined (no yes predicted or no yes label).\n");
        List<Number> oursPct = new java.util.ArrayList<>();
        for (double v : ours) {
            oursPct.add(Double.isNaN(v) ? 0 : 100 * v);
        }
        List<List<? extends Number>> series = new java.util.ArrayList<>();
        series.add(oursPct);
        if (setting != null) {
            List<Number> paperPct = new java.util.ArrayList<>();
            for (double v : setting.paper) {
                paperPct.add(100 * v);
            }
            series.add(paperPct);
        }
        b.append('\n').append(Figures.chart(out, "chart.png", List.of(new Figures.Bars(title + " (x100)", "percent",
                setting == null ? List.of("osprey4j") : List.of("osprey4j", "paper"), List.of(labels), series))));
        if (!wrong.isEmpty()) {
            b.append("\n## Wrong answers (first ").append(wrong.size())
                    .append(")\n\n| sample | question | label | answer |\n|---|---|---|---|\n");
            for (JsonNode n : wrong) {
                String q = n.path("question").asText();
                b.append("| `").append(n.path("id").asText()).append("` | ")
                        .append(Reports.oneLine(q.substring(q.indexOf('\n') + 1))).append(" | ")
                        .append(n.path("truth").asText()).append(" | ")
                        .append(Reports.oneLine(n.path("answer").asText()))
                        .append(" |\n");
            }
        }
        String md = b.toString();
        Reports.write(out, s, md);
        return new Report(c, s, md);
    }
}
