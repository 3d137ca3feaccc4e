package osprey4j.data.stats;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders {@link DatasetStats.Report} as Markdown, as JSON, and as a PNG of bar charts (XChart, headless). */
public final class StatsReport {
    /** How many question types, short answers and part categories the tables list. */
    public static final int TOP = 15;

    private StatsReport() {
    }

    // ---- Markdown ---------------------------------------------------------------------------------------------

    public static String markdown(DatasetStats.Report r, String chartFile) {
        StringBuilder md = new StringBuilder();
        md.append("# Dataset statistics: ").append(r.dir().getFileName()).append("\n\n");
        if (chartFile != null) {
            md.append("![charts](").append(chartFile).append(")\n\n");
        }
        if (!r.subsets().isEmpty()) {
            md.append("## Instruction data: counts per subset\n\n");
            table(md, List.of("subset", "records", "regions", "questions", "answers", "skipped", "mean answer words",
                    "median", "max"), r.subsets().stream().map(s -> List.of(s.name(), n(s.records()), n(s.regions()),
                    n(s.questions()), n(s.answers()), n(s.skipped()), f(s.answerLengths().mean()),
                    f(s.answerLengths().median()), n(s.answerLengths().max()))).toList());
            md.append("## Answer lengths (words)\n\n");
            List<String> header = new ArrayList<>(List.of("subset"));
            header.addAll(new LengthHistogram().buckets().keySet());
            table(md, header, r.subsets().stream().map(s -> {
                List<String> row = new ArrayList<>(List.of(s.name()));
                s.answerLengths().buckets().values().forEach(v -> row.add(n(v)));
                return row;
            }).toList());
            for (DatasetStats.Subset s : r.subsets()) {
                md.append("## ").append(s.name()).append("\n\n");
                if (s.questions() > 0) {
                    md.append("Question types (first two words), ").append(s.questionTypes().distinct())
                            .append(" distinct:\n\n");
                    counts(md, "question type", s.questionTypes().top(TOP), s.questions());
                }
                if (s.shortAnswers().total() > 0) {
                    md.append("Category balance (short answers of at most ").append(DatasetStats.SHORT_ANSWER_WORDS)
                            .append(" words), ").append(s.shortAnswers().distinct()).append(" distinct:\n\n");
                    counts(md, "answer", s.shortAnswers().top(TOP), s.shortAnswers().total());
                }
            }
        }
        DatasetStats.World w = r.world();
        if (w != null) {
            md.append("## Synthetic world\n\n");
            table(md, List.of("images", "objects", "parts", "captions", "object categories", "part categories",
                    "mean caption words"), List.of(List.of(n(w.images()), n(w.objects()), n(w.parts()),
                    n(w.captions()), n(w.categories()), n(w.partCategories()), f(w.captionLengths().mean()))));
            md.append("Objects per category:\n\n");
            counts(md, "category", w.objectsPerCategory().top(Integer.MAX_VALUE), w.objects());
            md.append("Objects per image:\n\n");
            counts(md, "objects", new java.util.TreeMap<>(w.objectsPerImage().top(Integer.MAX_VALUE)), w.images());
            if (w.parts() > 0) {
                md.append("Most frequent part categories:\n\n");
                counts(md, "part", w.partsPerCategory().top(TOP), w.parts());
                md.append("Object attributes:\n\n");
                counts(md, "attribute", new java.util.TreeMap<>(w.attributes().top(Integer.MAX_VALUE)), w.objects());
            }
        }
        return md.toString();
    }

    private static void counts(StringBuilder md, String key, Map<String, Long> counts, long total) {
        table(md, List.of(key, "count", "share"), counts.entrySet().stream().map(e -> List.of(
                e.getKey().replace("|", "\\|"), n(e.getValue()),
                total == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * e.getValue() / total))).toList());
    }

    private static void table(StringBuilder md, List<String> header, List<List<String>> rows) {
        md.append("| ").append(String.join(" | ", header)).append(" |\n|");
        md.append(" --- |".repeat(header.size())).append('\n');
        for (List<String> row : rows) {
            md.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        md.append('\n');
    }

    private static String n(long v) {
        return Long.toString(v);
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    // ---- JSON -------------------------------------------------------------------------------------------------

    public static ObjectNode json(DatasetStats.Report r) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("dir", r.dir().toString());
        ObjectNode subsets = root.putObject("subsets");
        for (DatasetStats.Subset s : r.subsets()) {
            ObjectNode o = subsets.putObject(s.name());
            o.put("file", s.file());
            o.put("records", s.records());
            o.put("regions", s.regions());
            o.put("questions", s.questions());
            o.put("answers", s.answers());
            o.put("skipped", s.skipped());
            ObjectNode len = o.putObject("answer_words");
            len.put("mean", s.answerLengths().mean());
            len.put("median", s.answerLengths().median());
            len.put("max", s.answerLengths().max());
            putCounts(len.putObject("histogram"), s.answerLengths().buckets());
            putCounts(o.putObject("question_types"), s.questionTypes().top(Integer.MAX_VALUE));
            putCounts(o.putObject("short_answers"), s.shortAnswers().top(Integer.MAX_VALUE));
        }
        DatasetStats.World w = r.world();
        if (w != null) {
            ObjectNode o = root.putObject("world");
            o.put("images", w.images());
            o.put("objects", w.objects());
            o.put("parts", w.parts());
            o.put("captions", w.captions());
            o.put("object_categories", w.categories());
            o.put("part_categories", w.partCategories());
            putCounts(o.putObject("objects_per_category"), w.objectsPerCategory().top(Integer.MAX_VALUE));
            putCounts(o.putObject("parts_per_category"), w.partsPerCategory().top(Integer.MAX_VALUE));
            putCounts(o.putObject("attributes"), w.attributes().top(Integer.MAX_VALUE));
            putCounts(o.putObject("objects_per_image"),
                    new java.util.TreeMap<>(w.objectsPerImage().top(Integer.MAX_VALUE)));
            putCounts(o.putObject("caption_words"), w.captionLengths().buckets());
        }
        return root;
    }

    private static void putCounts(ObjectNode o, Map<String, Long> counts) {
        counts.forEach(o::put);
    }

    // ---- chart ------------------------------------------------------------------------------------------------

    /** Writes a grid of bar charts as a PNG. Runs headless: no display is needed. */
    public static void writeChart(DatasetStats.Report r, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<CategoryChart> charts = new ArrayList<>();
        if (!r.subsets().isEmpty()) {
            List<String> names = r.subsets().stream().map(DatasetStats.Subset::name).toList();
            charts.add(bars("Records per subset", "subset", "records", names,
                    r.subsets().stream().map(s -> (Number) s.records()).toList()));
            CategoryChart lengths = chart("Answer length (words)", "words", "answers");
            List<String> buckets = List.copyOf(new LengthHistogram().buckets().keySet());
            for (DatasetStats.Subset s : r.subsets()) {
                lengths.addSeries(s.name(), buckets, List.copyOf(s.answerLengths().buckets().values()));
            }
            lengths.getStyler().setLegendVisible(true);
            charts.add(lengths);
            Counter types = new Counter();
            Counter answers = new Counter();
            for (DatasetStats.Subset s : r.subsets()) {
                s.questionTypes().top(Integer.MAX_VALUE).forEach(types::add);
                s.shortAnswers().top(Integer.MAX_VALUE).forEach(answers::add);
            }
            if (types.total() > 0) {
                charts.add(bars("Question types (all subsets)", "first words", "questions", types.top(TOP)));
            }
            if (answers.total() > 0) {
                charts.add(bars("Short answers: category balance", "answer", "answers", answers.top(TOP)));
            }
        }
        DatasetStats.World w = r.world();
        if (w != null) {
            charts.add(bars("Objects per category", "category", "objects",
                    w.objectsPerCategory().top(Integer.MAX_VALUE)));
            charts.add(bars("Objects per image", "objects", "images",
                    new java.util.TreeMap<>(w.objectsPerImage().top(Integer.MAX_VALUE))));
            if (w.parts() > 0) {
                charts.add(bars("Part categories (top " + TOP + ")", "part", "parts", w.partsPerCategory().top(TOP)));
            }
            if (w.captions() > 0) {
                charts.add(bars("Caption length (words)", "words", "captions", w.captionLengths().buckets()));
            }
        }
        int cols = charts.size() == 1 ? 1 : 2;
        int rows = (charts.size() + cols - 1) / cols;
        try (OutputStream out = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(charts, rows, cols, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    private static CategoryChart bars(String title, String x, String y, Map<String, Long> counts) {
        return bars(title, x, y, List.copyOf(counts.keySet()), List.copyOf(counts.values()));
    }

    private static CategoryChart bars(String title, String x, String y, List<String> keys,
                                      List<? extends Number> values) {
        CategoryChart c = chart(title, x, y);
        c.addSeries(y, keys.isEmpty() ? List.of("(none)") : keys, values.isEmpty() ? List.of(0) : values);
        return c;
    }

    private static CategoryChart chart(String title, String x, String y) {
        CategoryChart c = new CategoryChartBuilder().width(800).height(450).title(title).xAxisTitle(x).yAxisTitle(y)
                .build();
        c.getStyler().setLegendVisible(false);
        c.getStyler().setXAxisLabelRotation(45);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        return c;
    }
}
