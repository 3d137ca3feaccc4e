package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import osprey4j.data.instruct.MiniLmEmbedder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import osprey4j.eval.bench.PaperEval;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.ServiceAsker;
import osprey4j.eval.runner.Shard;
import osprey4j.eval.world.OspreyAnswerer;
import osprey4j.model.GenerationOptions;
import osprey4j.service.OspreyService;
import osprey4j.eval.world.QuestionType;
import osprey4j.eval.world.WorldEval;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code osprey eval ...}: evaluations with resumable outputs and a report. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a model; outputs are resumable and end with a report.",
        subcommands = {EvalCommand.World.class, EvalCommand.Lvis.class, EvalCommand.Paco.class,
                EvalCommand.Pope.class, EvalCommand.Refcocog.class, EvalCommand.Ferret.class,
                EvalCommand.Description.class, EvalCommand.Ovseg.class})
final class EvalCommand {

    /** {@code osprey eval world}: the demo model's quality figure on a held-out synthetic world. */
    @Command(name = "world", mixinStandardHelpOptions = true,
            description = {"Ask a model the training templates' questions about a held-out synthetic world (made "
                    + "by 'osprey data world' with a seed not used in training) and score the answers against the "
                    + "annotations: category (short form), yes/no (positives and mined negatives), part names, the "
                    + "colour in detailed descriptions, and two-region relations, each against its bar.",
                    "Writes DIR/samples.jsonl (one line per question, appended as it goes; a rerun skips the "
                            + "questions already there), DIR/summary.json and DIR/report.md."})
    static final class World implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
        Path model;

        @Option(names = "--data", required = true, paramLabel = "WORLD_DIR",
                description = "synthetic world directory (instances.json, parts.json, images/)")
        Path data;

        @Option(names = "--out", required = true, paramLabel = "DIR",
                description = "output directory (created; an earlier run's is resumed)")
        Path out;

        @Option(names = "--limit", defaultValue = "0", paramLabel = "N",
                description = "ask only the first N questions (default 0: all)")
        int limit;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
                description = "wording and negative seed of the question templates (default 0)")
        long seed;

        @Option(names = "--region-form", paramLabel = "list|inline", defaultValue = "list",
                description = "how questions show their regions: list (the reference's training form: every region "
                        + "of the record listed, questions name regionK) or inline (as people ask 'osprey ask': each "
                        + "named region is its own <mask><pos>, only those masks given) (default list)")
        String regionForm;

        @Option(names = "--json", description = "print the summary as JSON")
        boolean json;

        @Override
        public Integer call() throws IOException {
            osprey4j.data.samples.RegionForm form = DataCommand.regionForm(regionForm);
            if (limit < 0) {
                throw new UsageException("--limit must be 0 (all) or positive, got " + limit);
            }
            if (!Files.isDirectory(data)) {
                throw new UsageException("world directory not found: " + data);
            }
            if (!Files.isRegularFile(data.resolve("instances.json"))) {
                throw new UsageException(data + " is not a synthetic world (no instances.json); make one with "
                        + "'osprey data world'");
            }
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new UsageException("--out " + out + " exists and is not a directory");
            }
            PrintWriter err = spec.commandLine().getErr();
            WorldEval.Report report;
            try (OspreyService service = ModelSupport.loadService(model, spec.commandLine());
                 OspreyAnswerer answerer = new OspreyAnswerer(service)) {
                WorldEval.Options options = new WorldEval.Options(data, out, seed, limit, MiniLmEmbedder.get(),
                        line -> {
                            err.println(line);
                            err.flush();
                        }, form);
                report = WorldEval.run(options, answerer);
            }
            PrintWriter o = spec.commandLine().getOut();
            if (json) {
                o.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(WorldEval.json(report)));
            } else {
                for (QuestionType t : QuestionType.values()) {
                    WorldEval.Score s = report.byType().get(t);
                    o.println(String.format(Locale.ROOT, "%-34s %5d/%-5d %s (bar %.0f%%)", t.label(), s.correct(),
                            s.asked(), s.asked() == 0 ? "   -  " : String.format(Locale.ROOT, "%5.1f%%",
                                    100 * s.accuracy()), 100 * t.bar()));
                }
                o.println(report.questions() + " questions (" + report.askedNow() + " asked now, " + report.resumed()
                        + " resumed) -> " + out.resolve(WorldEval.REPORT));
            }
            o.flush();
            return 0;
        }
    }

    /** What the paper evaluations share: data, output, selection, decoding, printing. */
    abstract static class PaperEvalCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
        Path model;

        @Option(names = "--data", required = true, paramLabel = "FILE", description = "the evaluation file")
        Path data;

        @Option(names = "--images", required = true, paramLabel = "DIR",
                description = "image folder (COCO images, as the reference's --img)")
        Path images;

        @Option(names = "--out", required = true, paramLabel = "DIR",
                description = "output directory (created; an earlier run's is resumed)")
        Path out;

        @Mixin
        EvalSelectionMixin selection;

        @Option(names = "--seeds", split = ",", paramLabel = "S,S,...",
                description = "repeat the run with each seed (into DIR/seed-S) and report the spread")
        List<Long> seeds;

        @Option(names = "--json", description = "print the summary as JSON")
        boolean json;

        abstract PaperEval eval();

        /** The judge of a GPT-judged benchmark; null for the others. Checked before the model loads. */
        osprey4j.eval.bench.GptJudge.Judge judge() {
            return null;
        }

        /** refcocog's METEOR data folder; null for the others and when not given. Checked before the model loads. */
        Path meteorData() {
            return null;
        }

        @Override
        public Integer call() throws IOException {
            PaperEval eval = eval();
            Shard part = selection.check(seeds != null);
            if (selection.seed != null && seeds != null) {
                throw new UsageException("give either --seed or --seeds, not both");
            }
            if (!Files.isRegularFile(data)) {
                throw new UsageException("evaluation file not found: " + data + " (the " + eval.id()
                        + " evaluation reads " + eval.officialFile() + ")");
            }
            if (!Files.isDirectory(images)) {
                throw new UsageException("image folder not found: " + images);
            }
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new UsageException("--out " + out + " exists and is not a directory");
            }
            PrintWriter err = spec.commandLine().getErr();
            EvalRun.Options options = new EvalRun.Options(eval.id(), out, selection.limit, part, selection.decoding(),
                    line -> {
                err.println(line);
                err.flush();
            });
            osprey4j.eval.bench.GptJudge.Judge judge = judge();
            Path meteor = meteorData();
            ObjectNode result;
            try (OspreyService service = ModelSupport.loadService(model, spec.commandLine())) {
                ServiceAsker asker = new ServiceAsker(service, ModelSupport.warner(spec.commandLine()));
                result = ModelSupport.asUsage(() -> {
                    try {
                        return seeds == null ? eval.run(data, images, options, asker, judge, meteor)
                                : eval.runSeeds(data, images, options, seeds, asker, judge, meteor);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
            PrintWriter o = spec.commandLine().getOut();
            if (json) {
                o.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(result));
            } else {
                if ((eval == PaperEval.FERRET || eval == PaperEval.DESCRIPTION) && seeds == null) {
                    JsonNode sc = result.path("scores");
                    if (sc.isObject()) {
                        sc.fieldNames().forEachRemaining(k -> o.println(String.format(Locale.ROOT, "%-20s %.1f", k,
                                sc.path(k).asDouble())));
                    } else {
                        o.println("not judged (no --judge)");
                    }
                }
                for (String key : eval.headline()) {
                    var n = seeds == null ? result.path(key) : result.path("metrics").path(key).path("mean");
                    o.println(String.format(Locale.ROOT, "%-20s %s", key,
                            n.isNumber() ? String.format(Locale.ROOT, "%.2f", 100 * n.asDouble()) : "n/a")
                            + (seeds == null ? "" : String.format(Locale.ROOT, " (sd %.2f over %d seeds)",
                            100 * result.path("metrics").path(key).path("sd").asDouble(), seeds.size())));
                }
                o.println(seeds == null ? result.path("samples").asInt() + " samples -> " + out.resolve("report.md")
                        : "spread -> " + out.resolve("spread.md"));
            }
            o.flush();
            return 0;
        }
    }

    @Command(name = "lvis", mixinStandardHelpOptions = true,
            description = {"Referring object classification on LVIS (lvis_val_1k_category.json): each region is "
                    + "asked its category; Semantic Similarity (all-MiniLM-L6-v2) and Semantic IoU as the "
                    + "reference's lvis_paco_eval.py computes them, next to the paper's figures.",
                    "Writes DIR/samples.jsonl (one line per region, appended as it goes; a rerun resumes), "
                            + "DIR/run.json, DIR/summary.json and DIR/report.md."})
    static final class Lvis extends PaperEvalCommand {
        @Override
        PaperEval eval() {
            return PaperEval.LVIS;
        }
    }

    @Command(name = "paco", mixinStandardHelpOptions = true,
            description = {"Referring object classification on PACO parts (paco_val_1k_category.json), scored as "
                    + "for lvis.", "Writes DIR/samples.jsonl, DIR/run.json, DIR/summary.json and DIR/report.md."})
    static final class Paco extends PaperEvalCommand {
        @Override
        PaperEval eval() {
            return PaperEval.PACO;
        }
    }

    @Command(name = "pope", mixinStandardHelpOptions = true,
            description = {"Object hallucination on POPE (coco_pope_random.json, _popular or _adversarial): the "
                    + "question after the image, no region; accuracy, precision, recall, F1 and yes-ratio as "
                    + "pope/evaluate.py computes them.",
                    "Writes DIR/samples.jsonl, DIR/run.json, DIR/summary.json and DIR/report.md."})
    static final class Pope extends PaperEvalCommand {
        @Override
        PaperEval eval() {
            return PaperEval.POPE;
        }
    }

    @Command(name = "refcocog", mixinStandardHelpOptions = true,
            description = {"Region captioning on RefCOCOg (finetune_refcocog_val_with_mask.json): BLEU-1..4, "
                    + "ROUGE-L and CIDEr-D as the COCO caption evaluation computes them (PTB tokenisation), and "
                    + "METEOR 1.5 with --meteor-data.",
                    "Writes DIR/samples.jsonl, DIR/run.json, DIR/summary.json, DIR/report.md, "
                            + "DIR/captions_refcocog_osprey.json and DIR/captions_refcocog_gt.json."})
    static final class Refcocog extends PaperEvalCommand {
        @Option(names = "--meteor-data", paramLabel = "DIR", description = "METEOR 1.5's data, e.g. pycocoevalcap's "
                + "meteor folder (meteor-1.5.jar and data/paraphrase-en.gz); without it METEOR is not computed")
        Path meteorDir;

        @Override
        PaperEval eval() {
            return PaperEval.REFCOCOG;
        }

        @Override
        Path meteorData() {
            if (meteorDir != null) {
                try {
                    osprey4j.eval.metrics.MeteorData.check(meteorDir);
                } catch (IOException e) {
                    throw new UsageException("--meteor-data: " + e.getMessage());
                }
            }
            return meteorDir;
        }
    }

    @Command(name = "ferret", mixinStandardHelpOptions = true,
            description = {"Ferret-Bench referring description or reasoning: the questions of Osprey's "
                    + "box_refer_caption.json or box_refer_reason.json (--data) asked as ferret_bench_eval.py asks "
                    + "them, then, with --judge, each answer compared with GPT-4's by a judge model through an "
                    + "OpenAI-compatible endpoint, with Ferret's prompts (eval_gpt_review_3newclass.py) and its "
                    + "relative score.",
                    "Writes DIR/samples.jsonl (answers), DIR/reviews.jsonl (judge replies, appended as they come; a "
                            + "rerun asks only for the missing ones), DIR/run.json, DIR/summary.json and "
                            + "DIR/report.md."})
    static final class Ferret extends JudgedCommand {
        @Option(names = "--judge-data", paramLabel = "DIR",
                description = "Ferret's split folder (ferret/eval/ferret_gpt4_data/refer_caption or refer_reason "
                        + "in apple/ml-ferret): question.jsonl, context.jsonl, answer.jsonl")
        Path judgeData;

        @Override
        PaperEval eval() {
            return PaperEval.FERRET;
        }

        @Override
        Path judgeData() {
            return judgeData;
        }

        @Override
        List<String> judgeFiles() {
            return List.of("question.jsonl", "context.jsonl", "answer.jsonl");
        }
    }

    @Command(name = "description", mixinStandardHelpOptions = true,
            description = {"Detailed region description (the paper's Table 4): the questions of Osprey's "
                    + "osprey/eval/description/questions.json (--data) asked as "
                    + "osprey_generate_gpt_description_answer.py asks them, then, with --judge, each answer compared "
                    + "with GPT-4's (answers.json) by a judge model, with Osprey's eval_gpt.py prompt and "
                    + "summarize_gpt_score.py's relative score.",
                    "Writes DIR/samples.jsonl, DIR/reviews.jsonl, DIR/run.json, DIR/summary.json and DIR/report.md."})
    static final class Description extends JudgedCommand {
        @Option(names = "--judge-data", paramLabel = "DIR",
                description = "folder with answers.json and prompt.json (default: the folder of --data)")
        Path judgeData;

        @Override
        PaperEval eval() {
            return PaperEval.DESCRIPTION;
        }

        @Override
        Path judgeData() {
            return judgeData != null ? judgeData : data.toAbsolutePath().getParent();
        }

        @Override
        List<String> judgeFiles() {
            return List.of("answers.json", "prompt.json");
        }
    }

    /** The GPT-judged benchmarks' judge options. */
    abstract static class JudgedCommand extends PaperEvalCommand {
        @Option(names = "--rule", paramLabel = "FILE", description = "the benchmark's rule.json (default: the one in "
                + "the folder above --judge-data)")
        Path rule;

        /** Where the judge's files are (null when not given). */
        abstract Path judgeData();

        /** The files the judge reads from {@link #judgeData}. */
        abstract List<String> judgeFiles();

        @Option(names = "--judge", paramLabel = "URL", description = "OpenAI-compatible base URL of the judge "
                + "(e.g. http://127.0.0.1:8000/v1); without it only the answers are made")
        String judgeUrl;

        @Option(names = "--judge-model", paramLabel = "NAME", description = "judge model (the paper's: gpt-4-0314)")
        String judgeModel;

        @Option(names = "--judge-key-env", paramLabel = "VAR", defaultValue = "OPENAI_API_KEY",
                description = "environment variable holding the API key (default OPENAI_API_KEY; may be unset)")
        String keyEnv;

        @Option(names = "--concurrency", defaultValue = "4", paramLabel = "N", description = "judge requests in "
                + "flight (default 4)")
        int concurrency;

        @Option(names = "--timeout", defaultValue = "120", paramLabel = "SECONDS",
                description = "per judge request (default 120)")
        int timeout;

        @Option(names = "--max-attempts", defaultValue = "6", paramLabel = "N",
                description = "tries per judge request on transient failures (default 6)")
        int maxAttempts;

        @Option(names = "--price-in", defaultValue = "0", paramLabel = "X", description = "cost per 1M prompt tokens")
        double priceIn;

        @Option(names = "--price-out", defaultValue = "0", paramLabel = "X",
                description = "cost per 1M completion tokens")
        double priceOut;

        @Override
        osprey4j.eval.bench.GptJudge.Judge judge() {
            Path judgeData = judgeData();
            if (judgeUrl == null) {
                if (judgeModel != null) {
                    throw new UsageException("--judge-model needs --judge URL");
                }
                return null;
            }
            if (judgeModel == null || judgeData == null) {
                throw new UsageException("--judge needs --judge-model and --judge-data");
            }
            if (!Files.isDirectory(judgeData)) {
                throw new UsageException("--judge-data folder not found: " + judgeData);
            }
            for (String f : judgeFiles()) {
                if (!Files.isRegularFile(judgeData.resolve(f))) {
                    throw new UsageException("judge data file not found: " + judgeData.resolve(f));
                }
            }
            Path ruleFile = rule != null ? rule : judgeData.toAbsolutePath().getParent().resolve("rule.json");
            if (!Files.isRegularFile(ruleFile)) {
                throw new UsageException("judge rule file not found: " + ruleFile + " (give --rule)");
            }
            if (concurrency < 1 || timeout < 1 || maxAttempts < 1) {
                throw new UsageException("--concurrency, --timeout and --max-attempts must be at least 1");
            }
            java.net.URI endpoint;
            try {
                endpoint = osprey4j.data.instruct.ChatClient.Settings.endpoint(judgeUrl);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--judge: not a URL: " + judgeUrl);
            }
            if (endpoint.getScheme() == null || !endpoint.getScheme().startsWith("http")) {
                throw new UsageException("--judge: expected an http(s) URL, got " + judgeUrl);
            }
            var settings = new osprey4j.data.instruct.ChatClient.Settings(endpoint, judgeModel, System.getenv(keyEnv),
                    java.time.Duration.ofSeconds(timeout), maxAttempts, java.time.Duration.ofSeconds(1),
                    java.time.Duration.ofSeconds(60), osprey4j.eval.metrics.GptReview.TEMPERATURE);
            return new osprey4j.eval.bench.GptJudge.Judge(judgeData, ruleFile,
                    new osprey4j.data.instruct.ChatClient(settings), judgeModel, concurrency, priceIn, priceOut);
        }
    }

    /** {@code osprey eval ovseg}: open-vocabulary segmentation with ground-truth masks (Cityscapes, ADE20K-150). */
    @Command(name = "ovseg", mixinStandardHelpOptions = true,
            description = {"Open-vocabulary segmentation with ground-truth masks, as the reference's "
                    + "eval_open_vocab_seg_detectron2.py runs it: each ground-truth panoptic segment is asked 'What is "
                    + "in <mask><pos>? Using a short phrase.', the answer compared (all-MiniLM-L6-v2) with every "
                    + "class's 'There is a {} in the scene.', and the scores scored as panoptic (PQ, pq_compute), "
                    + "semantic (mIoU, SemSegEvaluator) and, for ADE20K, instance segmentation (mask AP, COCOeval).",
                    "--data is the folder holding ADEChallengeData2016/ or cityscapes/ in the detectron2 layouts the "
                            + "reference registers. Writes DIR/samples.jsonl (one line per segment, appended as it "
                            + "goes; a rerun resumes), DIR/run.json, DIR/summary.json, DIR/report.md, DIR/chart.png "
                            + "and DIR/worst/*.png (the misclassified segments with the lowest probability of their "
                            + "true class, drawn)."})
    static final class Ovseg implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
        Path model;

        @Option(names = "--data", required = true, paramLabel = "DIR",
                description = "datasets folder (the reference's DETECTRON2_DATASETS)")
        Path data;

        @Option(names = "--dataset", required = true, paramLabel = "ade|cityscapes",
                description = "ade (ADE20K-150 val) or cityscapes (Cityscapes fine val)")
        String dataset;

        @Option(names = "--out", required = true, paramLabel = "DIR",
                description = "output directory (created; an earlier run's is resumed)")
        Path out;

        @Mixin
        EvalSelectionMixin selection;

        @Option(names = "--json", description = "print the summary as JSON")
        boolean json;

        @Override
        public Integer call() throws IOException {
            if (!dataset.equals("ade") && !dataset.equals("cityscapes")) {
                throw new UsageException("--dataset must be ade or cityscapes, got '" + dataset + "'");
            }
            Shard part = selection.check(false);
            if (!Files.isDirectory(data)) {
                throw new UsageException("datasets folder not found: " + data);
            }
            String sub = dataset.equals("ade") ? "ADEChallengeData2016/ade20k_panoptic_val.json"
                    : "cityscapes/gtFine/cityscapes_panoptic_val.json";
            if (!Files.isRegularFile(data.resolve(sub))) {
                throw new UsageException(data.resolve(sub) + " not found (prepare the data as the reference's "
                        + "osprey/eval/datasets/README.md says)");
            }
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new UsageException("--out " + out + " exists and is not a directory");
            }
            PrintWriter err = spec.commandLine().getErr();
            EvalRun.Options options = new EvalRun.Options("ovseg-" + dataset, out, selection.limit, part,
                    selection.decoding(), line -> {
                err.println(line);
                err.flush();
            });
            osprey4j.eval.metrics.OvsegClasses classes = osprey4j.eval.metrics.OvsegClasses.of(dataset);
            osprey4j.eval.bench.OvsegBenchmark.Result r;
            try (OspreyService service = ModelSupport.loadService(model, spec.commandLine())) {
                ServiceAsker asker = new ServiceAsker(service, ModelSupport.warner(spec.commandLine()));
                r = osprey4j.eval.bench.OvsegBenchmark.run(dataset, data, options, asker,
                        classes.scorer(osprey4j.eval.metrics.SentenceEncoder.get()), classes);
            }
            PrintWriter o = spec.commandLine().getOut();
            if (json) {
                o.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r.summary()));
            } else {
                for (String key : List.of("PQ", "AP", "mIoU")) {
                    JsonNode n = r.summary().path(key);
                    o.println(String.format(Locale.ROOT, "%-6s %s", key,
                            n.isNumber() && !Double.isNaN(n.asDouble()) ? String.format(Locale.ROOT, "%.2f",
                                    n.asDouble()) : "n/a"));
                }
                o.println(r.images() + " images (" + r.askedNow() + " segments asked now, " + r.resumed()
                        + " resumed) -> " + out.resolve("report.md"));
            }
            o.flush();
            return 0;
        }
    }
}
