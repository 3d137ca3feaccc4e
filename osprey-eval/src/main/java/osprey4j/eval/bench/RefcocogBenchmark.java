package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import osprey4j.core.io.AtomicFiles;
import osprey4j.data.datasets.CocoStyleFile;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.samples.EvalSamples;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TrainingSample;
import osprey4j.eval.metrics.CaptionScores;
import osprey4j.eval.metrics.CategoryAnswers;
import osprey4j.eval.metrics.MeteorData;
import osprey4j.eval.metrics.MeteorScorer;
import osprey4j.eval.metrics.PtbTokenizer;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.RegionAsker;

/**
 * Region captioning on RefCOCOg (the paper's Table 7) from {@code finetune_refcocog_val_with_mask.json}: every
 * annotation is asked "Please give me a short description of &lt;mask&gt;&lt;pos&gt;." after the evaluation's own
 * preamble, the answer cleaned as {@code refcocog_eval.py} does ({@link CategoryAnswers#caption}) and scored
 * against its entry's expression with the COCO caption metrics ({@link CaptionScores}), and METEOR
 * ({@link MeteorScorer}) when a METEOR data folder is given (its WordNet files and paraphrase table are the user's:
 * without them METEOR is reported as not computed). The two files the reference writes for the external caption
 * evaluation are written too.
 *
 * <p>The reference's README says only "evaluate the output json file using CaptionMetrics", without a link. The
 * repository of that name (wangleihitcs/CaptionMetrics) carries the same BLEU, ROUGE-L and CIDEr-D code but calls it
 * on the captions as given, without the PTB tokeniser (so "shirt." and "shirt" would be different words there), and
 * sets CIDEr's log reference length to 1 when there is a single caption. The figures here are the COCO caption
 * evaluation's, with its tokenisation, as coco-caption and pycocoevalcap compute them.
 */
public final class RefcocogBenchmark {
    /** The reference's output file names. */
    public static final String CANDIDATES = "captions_refcocog_osprey.json";
    public static final String REFERENCES = "captions_refcocog_gt.json";
    private static final double PAPER_METEOR = 0.166;
    private static final double PAPER_CIDER = 1.083;

    /** {@code meteor} is NaN when not computed. */
    public record Report(double[] bleu, double meteor, double rougeL, double ciderD, ObjectNode summary,
                         String markdown) {
    }

    private RefcocogBenchmark() {
    }

    public static EvalRun.Scorer scorer() {
        return (sample, answer, r) -> r.put("caption", CategoryAnswers.caption(answer));
    }

    public static EvalRun.Result run(Path file, Path images, EvalRun.Options options, RegionAsker asker,
                                     ReadReport read) throws IOException {
        CocoStyleFile coco = CocoStyleFile.index(file, read);
        List<TrainingSample> selected;
        try (Stream<TrainingSample> s = EvalSamples.refcocogCaptions(coco, SampleOptions.of(images, 0))) {
            selected = EvalRun.select(s.iterator(), options.shard(), options.limit());
        }
        ObjectNode info = Reports.JSON.createObjectNode();
        info.put("data", file.toAbsolutePath().normalize().toString());
        return EvalRun.run(selected, options, asker, scorer(), info);
    }

    public static Report report(EvalRun.Result r, Path data, Path out, ReadReport read) throws IOException {
        return report(r, data, out, read, null);
    }

    /**
     * The report, with METEOR computed from the data in {@code meteorData} (a METEOR folder, see {@link MeteorData};
     * null: not computed).
     */
    public static Report report(EvalRun.Result r, Path data, Path out, ReadReport read, Path meteorData)
            throws IOException {
        Map<String, List<String>> candidates = new LinkedHashMap<>();
        Map<String, List<String>> references = new LinkedHashMap<>();
        ArrayNode cand = Reports.JSON.createArrayNode();
        ObjectNode gt = Reports.JSON.createObjectNode();
        ArrayNode gtImages = gt.putArray("images");
        ArrayNode gtAnns = gt.putArray("annotations");
        for (JsonNode n : r.records()) {
            String id = annotationId(n.path("id").asText());
            candidates.put(id, List.of(n.path("caption").asText()));
            references.put(id, List.of(n.path("truth").asText()));
            cand.addObject().put("image_id", id).put("caption", n.path("caption").asText());
            gtAnns.addObject().put("id", id).put("image_id", id).put("caption", n.path("truth").asText());
            gtImages.addObject().put("id", id);
        }
        AtomicFiles.write(out.resolve(CANDIDATES), f -> Files.writeString(f, Reports.JSON.writeValueAsString(cand)));
        AtomicFiles.write(out.resolve(REFERENCES), f -> Files.writeString(f, Reports.JSON.writeValueAsString(gt)));

        ObjectNode s = Reports.summaryHead(r, data, read);
        double[] bleu = new double[4];
        double rouge = Double.NaN;
        double cider = Double.NaN;
        double meteor = Double.NaN;
        double[] ciderPer = new double[0];
        if (!candidates.isEmpty()) {
            Map<String, List<String>> res = PtbTokenizer.tokenize(candidates);
            Map<String, List<String>> gts = PtbTokenizer.tokenize(references);
            Map<String, String> res1 = new LinkedHashMap<>();
            res.forEach((k, v) -> res1.put(k, v.getFirst()));
            bleu = CaptionScores.bleu(gts, res1);
            rouge = CaptionScores.mean(CaptionScores.rougeL(gts, res1));
            ciderPer = CaptionScores.ciderD(gts, res1);
            cider = CaptionScores.mean(ciderPer);
            if (meteorData != null) {
                // As pycocoevalcap's meteor.py: the tokenised captions, one EVAL over every segment's statistics.
                MeteorScorer meteorScorer = new MeteorScorer(meteorData(meteorData));
                List<MeteorScorer.Stats> stats = new ArrayList<>();
                for (String id : gts.keySet()) {
                    stats.add(meteorScorer.stats(res1.get(id), gts.get(id)));
                }
                meteor = MeteorScorer.aggregate(stats);
            }
        }
        for (int k = 0; k < 4; k++) {
            Reports.putRatio(s, "bleu_" + (k + 1), candidates.isEmpty() ? Double.NaN : bleu[k]);
        }
        Reports.putRatio(s, "rouge_l", rouge);
        Reports.putRatio(s, "cider_d", cider);
        Reports.putRatio(s, "meteor", meteor);
        if (meteorData != null) {
            s.put("meteor_data", meteorData.toAbsolutePath().normalize().toString());
        }
        ObjectNode paper = s.putObject("paper_osprey_7b_refcocog_finetuned");
        paper.put("meteor", PAPER_METEOR);
        paper.put("cider", PAPER_CIDER);

        StringBuilder b = new StringBuilder(Reports.header("Region captioning: RefCOCOg", r, data, read));
        b.append("| metric | osprey4j | paper (Osprey-7B fine-tuned on RefCOCOg) |\n|---|---:|---:|\n");
        for (int k = 0; k < 4; k++) {
            b.append("| BLEU-").append(k + 1).append(" | ").append(candidates.isEmpty() ? "n/a" : Reports.pct(bleu[k]))
                    .append(" | - |\n");
        }
        b.append("| METEOR | ").append(meteorData == null ? "not computed" : Reports.pct(meteor)).append(" | ")
                .append(String.format(java.util.Locale.ROOT, "%.1f", 100 * PAPER_METEOR)).append(" |\n");
        b.append("| ROUGE-L | ").append(Reports.pct(rouge)).append(" | - |\n");
        b.append("| CIDEr(-D) | ").append(Reports.pct(cider)).append(" | ")
                .append(String.format(java.util.Locale.ROOT, "%.1f", 100 * PAPER_CIDER)).append(" |\n\n");
        b.append("Scores x100, computed as pycocoevalcap computes them (PTB tokenisation, BLEU 'closest', CIDEr-D). "
                + (meteorData == null ? "METEOR needs METEOR 1.5's data (`--meteor-data`: its WordNet files and "
                + "paraphrase table, e.g. pycocoevalcap's `meteor` folder); or run pycocoevalcap on `" + CANDIDATES
                + "` and `" + REFERENCES + "`, the files the reference writes. "
                : "METEOR 1.5 as pycocoevalcap runs it (-l en -norm, corpus score from the summed statistics), with "
                + "the data in `" + meteorData + "`. ")
                + "The paper's model was fine-tuned on RefCOCOg.\n");
        if (ciderPer.length > 0) {
            double[] per = ciderPer;
            List<JsonNode> recs = r.records();
            List<Integer> order = java.util.stream.IntStream.range(0, per.length).boxed()
                    .sorted(Comparator.comparingDouble((Integer i) -> per[i])).limit(15).toList();
            List<String> names = new ArrayList<>(List.of("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4"));
            List<Double> values = new ArrayList<>(List.of(100 * bleu[0], 100 * bleu[1], 100 * bleu[2],
                    100 * bleu[3]));
            if (!Double.isNaN(meteor)) {
                names.add("METEOR");
                values.add(100 * meteor);
            }
            names.addAll(List.of("ROUGE-L", "CIDEr-D"));
            values.addAll(List.of(100 * rouge, 100 * cider));
            b.append('\n').append(Figures.chart(out, "chart.png", List.of(new Figures.Bars("Captioning (x100)",
                    "score", List.of("osprey4j"), names, List.of(values)))));
            b.append("\n## Lowest CIDEr-D\n\n| sample | caption | reference | CIDEr-D |\n|---|---|---|---:|\n");
            for (int i : order) {
                JsonNode n = recs.get(i);
                b.append("| `").append(n.path("id").asText()).append("` | ")
                        .append(Reports.oneLine(n.path("caption").asText())).append(" | ")
                        .append(Reports.oneLine(n.path("truth").asText())).append(" | ")
                        .append(String.format(java.util.Locale.ROOT, "%.3f", per[i])).append(" |\n");
            }
            b.append("\n### Drawn\n\n");
            for (int i : order.subList(0, Math.min(6, order.size()))) {
                JsonNode n = recs.get(i);
                b.append(Figures.worstCase(out, r, n.path("id").asText())).append("  \n`").append(n.path("id").asText())
                        .append("`: \"").append(Reports.oneLine(n.path("caption").asText())).append("\" for \"")
                        .append(Reports.oneLine(n.path("truth").asText())).append("\"\n\n");
            }
        }
        String md = b.toString();
        Reports.write(out, s, md);
        return new Report(bleu, meteor, rouge, cider, s, md);
    }

    /** The last METEOR data read, kept because English's paraphrase table takes a while to load (--seeds). */
    private static Path loadedMeteorDir;
    private static MeteorData loadedMeteorData;

    private static synchronized MeteorData meteorData(Path dir) throws IOException {
        Path key = dir.toAbsolutePath().normalize();
        if (!key.equals(loadedMeteorDir)) {
            // Let the previous data go before the next loads.
            loadedMeteorDir = null;
            loadedMeteorData = null;
            loadedMeteorData = MeteorData.load(key);
            loadedMeteorDir = key;
        }
        return loadedMeteorData;
    }

    /** {@code refcocog_eval:123} to {@code 123}, the key the reference writes. */
    static String annotationId(String sampleId) {
        return sampleId.substring(sampleId.indexOf(':') + 1);
    }
}
