package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import osprey4j.data.datasets.ReadReport;
import osprey4j.eval.metrics.SentenceEncoder;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.RegionAsker;

/** The paper's evaluations behind one entry point: run (resumably), then report. */
public enum PaperEval {
    LVIS("lvis_val_1k_category.json", List.of("semantic_similarity", "semantic_iou")),
    PACO("paco_val_1k_category.json", List.of("semantic_similarity", "semantic_iou")),
    POPE("coco_pope_random.json (or _popular, _adversarial)",
            List.of("accuracy", "precision", "recall", "f1", "yes_ratio")),
    REFCOCOG("finetune_refcocog_val_with_mask.json", List.of("bleu_1", "bleu_4", "rouge_l", "cider_d"));

    private final String officialFile;
    private final List<String> headline;

    PaperEval(String officialFile, List<String> headline) {
        this.officialFile = officialFile;
        this.headline = headline;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The file the reference's README points to. */
    public String officialFile() {
        return officialFile;
    }

    /** The summary keys printed and compared across seeds. */
    public List<String> headline() {
        return headline;
    }

    /**
     * Runs (or resumes) the evaluation into {@code options.out()} and writes its report there.
     *
     * @return the summary (as in summary.json)
     * @throws IllegalArgumentException for a missing data file or image folder, and for samples the model cannot
     *                                  take; what was answered before stays in samples.jsonl
     */
    public ObjectNode run(Path data, Path images, EvalRun.Options options, RegionAsker asker) throws IOException {
        if (!Files.isRegularFile(data)) {
            throw new IllegalArgumentException("evaluation file not found: " + data + " (the " + id()
                    + " evaluation reads " + officialFile + ")");
        }
        if (!Files.isDirectory(images)) {
            throw new IllegalArgumentException("image folder not found: " + images);
        }
        ReadReport read = ReadReport.lenient();
        return switch (this) {
            case LVIS, PACO -> {
                CategoryBenchmark.Dataset d = this == LVIS ? CategoryBenchmark.Dataset.LVIS
                        : CategoryBenchmark.Dataset.PACO;
                EvalRun.Result r = CategoryBenchmark.run(d, data, images, options, asker, SentenceEncoder.get(), read);
                yield CategoryBenchmark.report(d, r, data, options.out(), read).summary();
            }
            case POPE -> {
                EvalRun.Result r = PopeBenchmark.run(data, images, options, asker, read);
                yield PopeBenchmark.report(r, data, options.out(), read).summary();
            }
            case REFCOCOG -> {
                EvalRun.Result r = RefcocogBenchmark.run(data, images, options, asker, read);
                yield RefcocogBenchmark.report(r, data, options.out(), read).summary();
            }
        };
    }

    /**
     * Runs once per seed, each into {@code out/seed-S}, then writes the spread ({@link SeedSpread}).
     *
     * @return the spread object (as in spread.json)
     */
    public ObjectNode runSeeds(Path data, Path images, EvalRun.Options base, List<Long> seeds, RegionAsker asker)
            throws IOException {
        if (base.decoding().greedy()) {
            throw new IllegalArgumentException("several seeds need sampling, not greedy decoding");
        }
        List<ObjectNode> summaries = new ArrayList<>();
        for (long seed : seeds) {
            EvalRun.Options o = new EvalRun.Options(base.benchmark(), base.out().resolve("seed-" + seed), base.limit(),
                    base.shard(), base.decoding().withSeed(seed), base.progress());
            summaries.add(run(data, images, o, asker));
        }
        return SeedSpread.write(base.out(), id(), seeds, summaries, headline);
    }
}
