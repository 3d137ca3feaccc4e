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
import osprey4j.eval.runner.Shard;

/** The paper's evaluations behind one entry point: run (resumably), then report. */
public enum PaperEval {
    LVIS("lvis_val_1k_category.json", List.of("semantic_similarity", "semantic_iou")),
    PACO("paco_val_1k_category.json", List.of("semantic_similarity", "semantic_iou")),
    POPE("coco_pope_random.json (or _popular, _adversarial)",
            List.of("accuracy", "precision", "recall", "f1", "yes_ratio")),
    REFCOCOG("finetune_refcocog_val_with_mask.json", List.of("bleu_1", "bleu_4", "meteor", "rouge_l", "cider_d")),
    FERRET("box_refer_caption.json or box_refer_reason.json", List.of()),
    DESCRIPTION("description/questions.json", List.of());

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
        return run(data, images, options, asker, null);
    }

    /**
     * {@link #run(Path, Path, EvalRun.Options, RegionAsker)} with the judge of the GPT-judged benchmarks (ferret,
     * description); without one, they stop after the answers.
     */
    public ObjectNode run(Path data, Path images, EvalRun.Options options, RegionAsker asker,
                          GptJudge.Judge judge) throws IOException {
        return run(data, images, options, asker, judge, null);
    }

    /**
     * {@link #run(Path, Path, EvalRun.Options, RegionAsker, GptJudge.Judge)} with the METEOR data folder refcocog
     * computes METEOR from ({@link osprey4j.eval.metrics.MeteorData}; null: METEOR not computed).
     */
    public ObjectNode run(Path data, Path images, EvalRun.Options options, RegionAsker asker,
                          GptJudge.Judge judge, Path meteorData) throws IOException {
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
                yield RefcocogBenchmark.report(r, data, options.out(), read, meteorData).summary();
            }
            case FERRET -> {
                EvalRun.Result r = FerretBenchmark.answer(data, images, options, asker);
                List<com.fasterxml.jackson.databind.JsonNode> reviews = null;
                if (judge != null) {
                    try {
                        reviews = FerretBenchmark.judge(r, judge, options.out(),
                                options.progress() == null ? line -> { } : options.progress());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted while waiting for the judge");
                    }
                }
                yield FerretBenchmark.report(r, reviews, judge, data, options.out());
            }
            case DESCRIPTION -> {
                EvalRun.Result r = DescriptionBenchmark.answer(data, images, options, asker);
                List<com.fasterxml.jackson.databind.JsonNode> reviews = null;
                if (judge != null) {
                    try {
                        reviews = DescriptionBenchmark.judge(r, data, judge, options.out(),
                                options.progress() == null ? line -> { } : options.progress());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted while waiting for the judge");
                    }
                }
                yield DescriptionBenchmark.report(r, reviews, judge, data, options.out());
            }
        };
    }

    /** Whether {@link #selected}, {@link #scorer} and {@link #report} serve this evaluation (lvis, paco, pope). */
    public boolean splittable() {
        return this == LVIS || this == PACO || this == POPE;
    }

    private CategoryBenchmark.Dataset dataset() {
        return this == LVIS ? CategoryBenchmark.Dataset.LVIS : CategoryBenchmark.Dataset.PACO;
    }

    private void checkSplittable() {
        if (!splittable()) {
            throw new IllegalArgumentException(id() + " is run whole by 'osprey eval " + id() + "'");
        }
    }

    /**
     * The samples a run of lvis, paco or pope with this limit and shard asks, in file order, as {@link #run} selects
     * them (for runs that answer them elsewhere, such as split across machines).
     */
    public List<osprey4j.data.samples.TrainingSample> selected(Path data, Path images, Shard shard, int limit,
                                                               ReadReport read) throws IOException {
        checkSplittable();
        List<osprey4j.data.samples.TrainingSample> selected;
        if (this == POPE) {
            try (var s = osprey4j.data.samples.EvalSamples.pope(data,
                    osprey4j.data.samples.SampleOptions.of(images, 0), read)) {
                selected = EvalRun.select(s.iterator(), shard, limit);
            }
            for (var sample : selected) {
                if (EvalRun.truth(sample) == null) {
                    throw new IllegalArgumentException(data + ": question " + sample.id() + " has no label; POPE "
                            + "needs the labelled question files (coco_pope_random.json and the like)");
                }
            }
        } else {
            try (var s = CategoryBenchmark.samples(dataset(), data, images, read)) {
                selected = EvalRun.select(s.iterator(), shard, limit);
            }
        }
        return selected;
    }

    /** The per-sample scores {@link #run} adds to each answer of lvis, paco or pope. */
    public EvalRun.Scorer scorer() {
        checkSplittable();
        return this == POPE ? PopeBenchmark.scorer() : CategoryBenchmark.scorer(SentenceEncoder.get());
    }

    /** What {@link #run} records in run.json besides benchmark, answerer and decoding. */
    public ObjectNode runInfo(Path data) {
        ObjectNode info = Reports.JSON.createObjectNode();
        info.put("data", data.toAbsolutePath().normalize().toString());
        return info;
    }

    /** The report {@link #run} writes into {@code out} from an lvis, paco or pope run's records; its summary. */
    public ObjectNode report(EvalRun.Result r, Path data, Path out, ReadReport read) throws IOException {
        checkSplittable();
        return this == POPE ? PopeBenchmark.report(r, data, out, read).summary()
                : CategoryBenchmark.report(dataset(), r, data, out, read).summary();
    }

    /**
     * Runs once per seed, each into {@code out/seed-S}, then writes the spread ({@link SeedSpread}).
     *
     * @return the spread object (as in spread.json)
     */
    public ObjectNode runSeeds(Path data, Path images, EvalRun.Options base, List<Long> seeds, RegionAsker asker)
            throws IOException {
        return runSeeds(data, images, base, seeds, asker, null);
    }

    /** {@link #runSeeds(Path, Path, EvalRun.Options, List, RegionAsker)} with ferret's judge. */
    public ObjectNode runSeeds(Path data, Path images, EvalRun.Options base, List<Long> seeds, RegionAsker asker,
                               GptJudge.Judge judge) throws IOException {
        return runSeeds(data, images, base, seeds, asker, judge, null);
    }

    /**
     * {@link #runSeeds(Path, Path, EvalRun.Options, List, RegionAsker, GptJudge.Judge)} with refcocog's METEOR data.
     */
    public ObjectNode runSeeds(Path data, Path images, EvalRun.Options base, List<Long> seeds, RegionAsker asker,
                               GptJudge.Judge judge, Path meteorData) throws IOException {
        if (base.decoding().greedy()) {
            throw new IllegalArgumentException("several seeds need sampling, not greedy decoding");
        }
        List<ObjectNode> summaries = new ArrayList<>();
        for (long seed : seeds) {
            EvalRun.Options o = new EvalRun.Options(base.benchmark(), base.out().resolve("seed-" + seed), base.limit(),
                    base.shard(), base.decoding().withSeed(seed), base.progress());
            summaries.add(run(data, images, o, asker, judge, meteorData));
        }
        List<String> keys = headline;
        if (this == FERRET || this == DESCRIPTION) {
            List<String> scoreKeys = new ArrayList<>();
            summaries.getFirst().path("scores").fieldNames().forEachRemaining(k -> scoreKeys.add("scores." + k));
            keys = scoreKeys;
        }
        return SeedSpread.write(base.out(), id(), seeds, summaries, keys, this == FERRET || this == DESCRIPTION ? 1 : 100);
    }
}
