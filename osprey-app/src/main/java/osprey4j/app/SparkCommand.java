package osprey4j.app;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import osprey4j.model.GenerationOptions;
import osprey4j.service.DescribeRequest;
import osprey4j.spark.BatchJob;
import osprey4j.spark.DescribeJob;
import osprey4j.spark.InstructJob;
import osprey4j.spark.JobCounters;
import osprey4j.spark.OutputFormat;
import osprey4j.spark.SparkSetup;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code osprey spark ...}: the batch jobs on Apache Spark ({@code local[*]} by default, or a cluster's master). */
@Command(name = "spark", mixinStandardHelpOptions = true,
        description = {"Batch jobs on Apache Spark, split by image across executors: each executor loads the model "
                + "once (memory-mapped from a path every executor can read) and encodes each image once.",
                "--master passes through to Spark (default local[*]; local[N,F] allows F tries per task; "
                        + "spark://HOST:PORT, yarn, k8s://URL). Output goes through Spark's writers (Parquet, or "
                        + "JSON lines with --format jsonl), so retried tasks never duplicate or lose records."},
        subcommands = {SparkCommand.Describe.class, SparkCommand.Instruct.class, SparkCommand.Eval.class,
                BenchSparkCommand.class})
final class SparkCommand {

    /** What every Spark job takes: master, settings, partitions, output. */
    static final class JobOptions {
        @Option(names = "--master", paramLabel = "URL", defaultValue = "local[*]",
                description = "Spark master (default: ${DEFAULT-VALUE})")
        String master;

        @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "a Spark setting (repeatable), e.g. "
                + "spark.executor.cores=8")
        List<String> conf;

        @Option(names = "--partitions", paramLabel = "N", defaultValue = "0",
                description = "tasks to split the images into (default 0: four per core Spark has)")
        int partitions;

        @Option(names = "--format", paramLabel = "parquet|jsonl", defaultValue = "parquet",
                description = "output format (default: ${DEFAULT-VALUE})")
        String format;

        @Option(names = "--json", description = "print the summary as JSON")
        boolean json;

        SparkSetup setup(String job) {
            if (partitions < 0) {
                throw new UsageException("--partitions must be 0 (automatic) or positive, got " + partitions);
            }
            return usage(() -> SparkSetup.of(master, "osprey " + job, SparkSetup.parseConf(conf)));
        }

        OutputFormat outputFormat() {
            return usage(() -> OutputFormat.parse(format));
        }
    }

    /** The driver-side checks' IllegalArgumentExceptions as usage errors; a failed Spark job as one line. */
    static <T> T usage(Supplier<T> work) {
        try {
            return work.get();
        } catch (IllegalArgumentException e) {
            throw new UsageException(OneLineErrors.message(e));
        }
    }

    static <T> T job(Supplier<T> work) {
        try {
            return usage(work);
        } catch (RuntimeException e) {
            if (e instanceof UsageException) {
                throw e;
            }
            String first = e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getMessage().lines().findFirst().orElse("").strip();
            throw new IllegalStateException("Spark job failed: " + first, e);
        }
    }

    /** The counters after a job: stdout (text or JSON). */
    static void printResult(CommandSpec spec, BatchJob.Result r, String unit, boolean json) {
        printResult(spec, r, unit, json, o -> { });
    }

    /** As above; {@code extra} adds a job's own fields to the JSON summary. */
    static void printResult(CommandSpec spec, BatchJob.Result r, String unit, boolean json,
                            java.util.function.Consumer<ObjectNode> extra) {
        PrintWriter out = spec.commandLine().getOut();
        JobCounters.Snapshot c = r.counters();
        double perSecond = r.seconds() > 0 ? c.images() / r.seconds() : 0;
        if (json) {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("out", r.out());
            o.put("format", r.format().name().toLowerCase(Locale.ROOT));
            o.put("partitions", r.partitions());
            o.put("images", c.images());
            o.put(unit, c.regions());
            o.put("tokens", c.tokens());
            o.put("seconds", ModelSupport.round(r.seconds()));
            o.put("images_per_s", ModelSupport.round(perSecond));
            ObjectNode skipped = o.putObject("skipped");
            c.skipped().forEach((reason, n) -> skipped.putObject(reason).put("count", n.count())
                    .put("example", n.example()));
            extra.accept(o);
            out.println(o);
        } else {
            out.printf(Locale.ROOT, "wrote %s (%s, %d partitions): %d images, %d %s, %d tokens in %.1f s (%.2f images/s)%n",
                    r.out(), r.format().name().toLowerCase(Locale.ROOT), r.partitions(), c.images(), c.regions(),
                    unit, c.tokens(), r.seconds(), perSecond);
            if (c.skippedTotal() > 0) {
                out.printf(Locale.ROOT, "skipped %d input(s):%n", c.skippedTotal());
                c.skipped().forEach((reason, n) -> out.printf(Locale.ROOT, "  %s: %d (e.g. %s)%n", reason, n.count(),
                        n.example()));
            }
        }
        out.flush();
    }

    /** {@code osprey spark describe}. */
    @Command(name = "describe", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Describes every region of every image of a COCO-style annotation file, as 'osprey "
                    + "describe --masks' does for one image, split by image across Spark's executors; or, with "
                    + "--everything --sam CKPT, every image of --images with SAM's automatic masks as regions, as "
                    + "'osprey describe --everything' does.",
                    "One record per region: {image_id, image, id, bbox, area, question, answer, tokens, "
                            + "prompt_tokens}. Inputs that cannot be described (a missing or unreadable image, an "
                            + "invalid segmentation) are skipped and counted with their reason."})
    static final class Describe implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR",
                description = "model directory (a path every executor can read)")
        Path model;

        @Option(names = "--images", required = true, paramLabel = "DIR",
                description = "image folder the annotations' file_names are relative to (with --everything: the "
                        + "images to describe)")
        Path images;

        @Option(names = "--annotations", paramLabel = "FILE",
                description = "COCO-style annotation file (images and annotations with segmentations)")
        Path annotations;

        @Option(names = "--everything", description = "instead of --annotations: every image file of --images "
                + "(sorted by path; image_id its place, from 1), its regions SAM's automatic masks made on the "
                + "executor (needs --sam CKPT), as 'osprey describe --everything' does")
        boolean everything;

        @Option(names = "--sam", paramLabel = "CKPT", description = "SAM checkpoint for --everything (a path every "
                + "executor can read; loaded once per executor)")
        Path sam;

        @Mixin
        AmgOptionsMixin amg;

        @Option(names = "--out", required = true, paramLabel = "PATH", description = "output directory (new)")
        String out;

        @ArgGroup(exclusive = true)
        DescribeCommand.Detail detail;

        @Mixin
        GenerationMixin generation;

        @Mixin
        JobOptions job;

        @Override
        public Integer call() {
            GenerationOptions options = generation.options(spec.commandLine().getParseResult());
            DescribeRequest.Detail level = detail != null && detail.detailed ? DescribeRequest.Detail.DETAILED
                    : DescribeRequest.Detail.SHORT;
            if (annotations != null && everything) {
                throw new UsageException("--annotations and --everything are mutually exclusive: regions come from "
                        + "the annotation file or from SAM's automatic masks");
            }
            if (everything && sam == null) {
                throw new UsageException("--everything needs SAM to segment the images: add --sam CKPT"
                        + " (e.g. sam_vit_b_01ec64.pth)");
            }
            if (!everything && sam != null) {
                throw new UsageException("--sam is used with --everything (regions from --annotations need no SAM)");
            }
            if (!everything && annotations == null) {
                throw new UsageException("regions come from --annotations FILE or from --everything --sam CKPT:"
                        + " give one");
            }
            SparkSetup setup = job.setup("describe");
            DescribeJob.Options o = everything
                    ? DescribeJob.Options.everything(model, images, sam, amg.options(), out, job.outputFormat(), level,
                    options, job.partitions)
                    : new DescribeJob.Options(model, images, annotations, out, job.outputFormat(), level, options,
                    job.partitions);
            BatchJob.Result r = job(() -> DescribeJob.run(o, setup, System.err));
            printResult(spec, r, "regions", job.json);
            return 0;
        }
    }

    /** {@code osprey spark instruct}. */
    @Command(name = "instruct", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"'osprey data instruct' (templates) on Spark, split by image: the driver reads the "
                    + "annotations once, each executor writes its images' records for the five Osprey-724K subsets "
                    + "(one negative miner, all-MiniLM-L6-v2, per executor). An image's records are those 'osprey data "
                    + "instruct' writes for it with the same seed.",
                    "One row per record: {subset, image_id, image_index, index, record} (record: the JSON text the "
                            + "official file holds). --official-layout DIR also writes the five official files, "
                            + "as 'osprey data instruct --out DIR' does."})
    static final class Instruct implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        static final class Input {
            @Option(names = "--annotations", paramLabel = "DIR", required = true,
                    description = "folder with instances.json and optionally parts.json, captions.json (and images/)")
            Path dir;

            @Option(names = "--instances", paramLabel = "FILE", required = true,
                    description = "COCO/LVIS/PACO instances file (instead of --annotations)")
            Path instances;
        }

        @ArgGroup(exclusive = true, multiplicity = "1")
        Input input;

        @Option(names = "--parts", paramLabel = "FILE", description = "PACO-style parts file (with --instances)")
        Path parts;

        @Option(names = "--captions", paramLabel = "FILE", description = "COCO captions file (with --instances)")
        Path captions;

        @Option(names = "--images", paramLabel = "DIR", description = "image folder, to measure colours the "
                + "annotations do not name (default: DIR/images; a path every executor can read)")
        Path images;

        @Option(names = "--out", required = true, paramLabel = "PATH", description = "output directory (new)")
        String out;

        @Option(names = "--official-layout", paramLabel = "DIR",
                description = "also write the five official JSON files here, from the written rows")
        Path official;

        @Option(names = "--seed", defaultValue = "0", description = "seed for wording and negatives (default 0)")
        long seed;

        @Option(names = "--max-regions", defaultValue = "20", paramLabel = "N",
                description = "regions per record at most, largest first (default 20)")
        int maxRegions;

        @Option(names = "--strict", description = "fail at the first malformed annotation instead of skipping it")
        boolean strict;

        @Mixin
        JobOptions job;

        @Override
        public Integer call() {
            if (maxRegions < 1) {
                throw new UsageException("--max-regions must be at least 1, got " + maxRegions);
            }
            osprey4j.data.instruct.SceneReader.Inputs inputs;
            if (input.dir != null) {
                if (parts != null || captions != null) {
                    throw new UsageException("--parts and --captions go with --instances; with --annotations DIR "
                            + "they are DIR/parts.json and DIR/captions.json");
                }
                if (!java.nio.file.Files.isRegularFile(input.dir.resolve("instances.json"))) {
                    throw new UsageException("no instances.json in " + input.dir);
                }
                inputs = osprey4j.data.instruct.SceneReader.Inputs.directory(input.dir, images);
            } else {
                inputs = new osprey4j.data.instruct.SceneReader.Inputs(input.instances, parts, captions, images);
            }
            SparkSetup setup = job.setup("instruct");
            InstructJob.Options o = new InstructJob.Options(inputs, out, job.outputFormat(),
                    new osprey4j.data.instruct.InstructOptions(seed, maxRegions), official, strict, job.partitions);
            InstructJob.Result r = job(() -> InstructJob.run(o, setup, System.err));
            printResult(spec, r.job(), "regions", job.json, j -> {
                ObjectNode files = j.putObject("records");
                r.records().forEach((subset, n) -> files.put(subset.fileName(), n));
                if (r.official() != null) {
                    j.put("official_layout", r.official().toString());
                }
            });
            if (!job.json) {
                PrintWriter w = spec.commandLine().getOut();
                for (var e : r.records().entrySet()) {
                    w.printf(Locale.ROOT, "  %-38s %d records%n", e.getKey().fileName(), e.getValue());
                }
                if (r.official() != null) {
                    w.println("official files in " + r.official());
                }
                w.flush();
            }
            return 0;
        }
    }

    /** {@code osprey spark eval ...}. */
    @Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluations on Spark, split by image.",
            subcommands = {EvalWorld.class, EvalLvis.class, EvalPaco.class, EvalPope.class})
    static final class Eval {
    }

    /** {@code osprey spark eval world}. */
    @Command(name = "world", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"'osprey eval world' on Spark: the questions are made on the driver, answered and scored "
                    + "on the executors (one encode per image), written as the job's output (the columns of "
                    + "samples.jsonl); the report goes to stdout and to OUT/_summary.json and OUT/_report.md.",
                    "Not resumable: a failed job writes nothing (rerun it whole)."})
    static final class EvalWorld implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
        Path model;

        @Option(names = "--data", required = true, paramLabel = "WORLD_DIR",
                description = "synthetic world directory (instances.json, parts.json, images/)")
        Path data;

        @Option(names = "--out", required = true, paramLabel = "PATH", description = "output directory (new)")
        String out;

        @Option(names = "--limit", defaultValue = "0", paramLabel = "N",
                description = "ask only the first N questions (default 0: all)")
        int limit;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
                description = "wording and negative seed of the question templates (default 0)")
        long seed;

        @Option(names = "--region-form", paramLabel = "list|inline", defaultValue = "list",
                description = "as for 'osprey eval world' (default list)")
        String regionForm;

        @Mixin
        JobOptions job;

        @Override
        public Integer call() {
            if (limit < 0) {
                throw new UsageException("--limit must be 0 (all) or positive, got " + limit);
            }
            var form = DataCommand.regionForm(regionForm);
            SparkSetup setup = job.setup("eval world");
            osprey4j.spark.EvalWorldJob.Options o = new osprey4j.spark.EvalWorldJob.Options(model, data, out,
                    job.outputFormat(), seed, limit, form, osprey4j.data.instruct.MiniLmEmbedder.get(), job.partitions);
            osprey4j.spark.EvalWorldJob.Result r = job(() -> osprey4j.spark.EvalWorldJob.run(o, setup, System.err));
            printResult(spec, r.job(), "questions", job.json);
            if (!job.json) {
                PrintWriter w = spec.commandLine().getOut();
                for (osprey4j.eval.world.QuestionType t : osprey4j.eval.world.QuestionType.values()) {
                    var s = r.report().byType().get(t);
                    w.println(String.format(Locale.ROOT, "%-34s %5d/%-5d %s (bar %.0f%%)", t.label(), s.correct(),
                            s.asked(), s.asked() == 0 ? "   -  " : String.format(Locale.ROOT, "%5.1f%%",
                                    100 * s.accuracy()), 100 * t.bar()));
                }
                w.flush();
            }
            return 0;
        }
    }

    /** {@code osprey spark eval lvis|paco|pope}: what they share. */
    abstract static class PaperEvalOnSpark implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
        Path model;

        @Option(names = "--data", required = true, paramLabel = "FILE", description = "the evaluation file")
        Path data;

        @Option(names = "--images", required = true, paramLabel = "DIR",
                description = "image folder (COCO images, as the reference's --img)")
        Path images;

        @Option(names = "--out", required = true, paramLabel = "PATH", description = "output directory (new)")
        String out;

        @Mixin
        EvalSelectionMixin selection;

        @Mixin
        JobOptions job;

        abstract osprey4j.eval.bench.PaperEval eval();

        @Override
        public Integer call() {
            osprey4j.eval.bench.PaperEval eval = eval();
            osprey4j.eval.runner.Shard part = selection.check(false);
            osprey4j.spark.PaperEvalJob.Options o = new osprey4j.spark.PaperEvalJob.Options(eval, model, data, images,
                    out, job.outputFormat(), selection.limit, part, selection.decoding(), job.partitions);
            SparkSetup setup = job.setup("eval " + eval.id());
            osprey4j.spark.PaperEvalJob.Result r = job(() -> osprey4j.spark.PaperEvalJob.run(o, setup, System.err));
            printResult(spec, r.job(), "samples", job.json, j -> j.set("summary", r.summary()));
            if (!job.json) {
                PrintWriter w = spec.commandLine().getOut();
                for (String key : eval.headline()) {
                    var n = r.summary().path(key);
                    w.println(String.format(Locale.ROOT, "%-20s %s", key,
                            n.isNumber() ? String.format(Locale.ROOT, "%.2f", 100 * n.asDouble()) : "n/a"));
                }
                w.flush();
            }
            return 0;
        }
    }

    @Command(name = "lvis", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"'osprey eval lvis' on Spark: the same samples, questions, decoding and scores, split by "
                    + "image; the answers are the job's output (the fields of samples.jsonl), the report "
                    + "(summary.json, report.md, charts) goes to OUT/_report/.",
                    "Not resumable: a failed job writes nothing (rerun it whole)."})
    static final class EvalLvis extends PaperEvalOnSpark {
        @Override
        osprey4j.eval.bench.PaperEval eval() {
            return osprey4j.eval.bench.PaperEval.LVIS;
        }
    }

    @Command(name = "paco", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"'osprey eval paco' on Spark, as for lvis."})
    static final class EvalPaco extends PaperEvalOnSpark {
        @Override
        osprey4j.eval.bench.PaperEval eval() {
            return osprey4j.eval.bench.PaperEval.PACO;
        }
    }

    @Command(name = "pope", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"'osprey eval pope' on Spark, as for lvis."})
    static final class EvalPope extends PaperEvalOnSpark {
        @Override
        osprey4j.eval.bench.PaperEval eval() {
            return osprey4j.eval.bench.PaperEval.POPE;
        }
    }
}
