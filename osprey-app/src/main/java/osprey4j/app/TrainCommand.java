package osprey4j.app;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import osprey4j.core.tensor.DType;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.train.Stage;
import osprey4j.train.TrainConfig;
import osprey4j.train.TrainingRun;
import osprey4j.train.data.Conversation;
import osprey4j.train.data.TrainingDataReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code osprey train}: instruction tuning of an Osprey model on mask-text data (the loop is
 * {@link TrainingRun}); {@code osprey train demo} reproduces the bundled demo model ({@link TrainDemo}).
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train an Osprey model on mask-text instruction data (Osprey-724K files or 'osprey data "
                + "instruct' output) the way the reference's stages do: --stage 1 trains the projector, 2 the mask "
                + "extractor, 3 everything but the frozen vision tower. Defaults are the reference scripts' (AdamW, "
                + "cosine schedule with 3%% warm-up, no weight decay, clipping at 1.0, 2 epochs, model_max_length "
                + "2048; lr 1e-3 / 2e-5 / 1e-5 for stages 1 / 2 / 3).",
                "Writes OUT/train_log.jsonl, OUT/loss.png, OUT/checkpoints/step-N (every --save-every steps; "
                        + "--resume continues from the latest: same data order and state; losses equal an uninterrupted run's to float rounding, not bit for bit), OUT/features (the frozen tower's "
                        + "features, a bounded disk cache) and the final model OUT/model in the official layout.",
                "'osprey train demo --out DIR' reproduces the bundled demo model models/demo (a small model of the "
                        + "synthetic world) from nothing."},
        subcommands = {TrainDemo.class})
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--stage", paramLabel = "1|2|3", description = "1: projector, 2: mask extractor, 3: all but the tower")
    Integer stage;

    @Option(names = "--model", paramLabel = "DIR", description = "starting model directory (official layout)")
    Path model;

    @Option(names = "--data", paramLabel = "DIR",
            description = "instruction data: a folder with the Osprey-724K files, one such file, or a .jsonl of samples")
    Path data;

    @Option(names = "--images", paramLabel = "DIR", description = "image folder (default: DATA/images)")
    Path images;

    @Option(names = "--out", paramLabel = "DIR", description = "run directory")
    Path out;

    @Option(names = "--resume", description = "continue the run in --out from its latest checkpoint")
    boolean resume;

    @Option(names = "--epochs", paramLabel = "N", description = "epochs (default 2)")
    Integer epochs;

    @Option(names = "--lr", paramLabel = "X", description = "peak learning rate (default: the stage's)")
    Double lr;

    @Option(names = "--batch-size", paramLabel = "N", description = "samples per micro-batch (default 1)")
    Integer batchSize;

    @Option(names = "--grad-accum", paramLabel = "N", description = "micro-batches per optimiser step (default 1)")
    Integer gradAccum;

    @Option(names = "--warmup-ratio", paramLabel = "X", description = "share of the steps spent warming up (default 0.03)")
    Double warmupRatio;

    @Option(names = "--weight-decay", paramLabel = "X", description = "AdamW weight decay (default 0)")
    Double weightDecay;

    @Option(names = "--max-grad-norm", paramLabel = "X", description = "gradient clipping norm, 0 = off (default 1.0)")
    Double maxGradNorm;

    @Option(names = "--schedule", paramLabel = "NAME", description = "cosine, linear or constant (default cosine)")
    String schedule;

    @Option(names = "--model-max-length", paramLabel = "N", defaultValue = "2048",
            description = "longest tokenized sample (default 2048)")
    int modelMaxLength;

    @Option(names = "--conversation", paramLabel = "NAME", defaultValue = "v1",
            description = "prompt template: v1 (vicuna_v1, the reference's --version v1) or osprey_v1 (default v1)")
    String conversation;

    @Option(names = "--save-every", paramLabel = "N", defaultValue = "500",
            description = "training checkpoint every N steps, 0 = none (default 500)")
    int saveEvery;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "data order seed (default 42)")
    long seed;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "use the first N samples only (0: all)")
    int limit;

    @Option(names = "--dtype", paramLabel = "f32|bf16", defaultValue = "f32",
            description = "stored dtype of the final model (default f32)")
    String dtype;

    @Option(names = "--cache-mb", paramLabel = "MB", defaultValue = "4096",
            description = "disk budget of the feature cache in MB (default 4096)")
    long cacheMb;

    @Option(names = "--tokenizer-mode", paramLabel = "fast|slow", defaultValue = "fast",
            description = "tokenize the data as the reference (fast, use_fast=True, as 'osprey ask' asks) or as "
                    + "LLaVA's slow tokenizer (slow: the spaces around <mask> are stripped, where the fast one keeps "
                    + "a lone '▁' before it) (default fast)")
    String tokenizerMode;

    @Option(names = "--train-tower", description = "train the ConvNeXt vision tower too (stage 3 only). The paper "
            + "freezes its pretrained CLIP tower; a model trained from scratch, such as the demo, needs a tower that "
            + "learns. Each step then runs the tower forward and backward; no feature cache is used.")
    boolean trainTower;

    @Option(names = "--region-form", paramLabel = "list|inline", defaultValue = "list",
            description = "how Osprey-724K conversations show their regions: list (the reference's) or inline (each "
                    + "mention is that region's <mask><pos>, as 'osprey ask' asks) (default list)")
    String regionForm;

    @Option(names = "--turn-order", paramLabel = "as-written|shuffled", defaultValue = "as-written",
            description = "order of each Osprey-724K record's question-answer pairs: as-written (the reference's) or "
                    + "shuffled (a seeded order per record, so every kind of question also opens a conversation, as "
                    + "'osprey ask' users ask it; needs --region-form inline) (default as-written)")
    String turnOrder;

    @Option(names = "--repeat", paramLabel = "SUBSET=N[,SUBSET=N]",
            description = "data mixture for a directory of Osprey-724K files: list each named subset N times per "
                    + "epoch (0 leaves it out; the others once), e.g. lvis_positive_negative=4,short_form=2 so that "
                    + "one-word answers weigh more beside long descriptions. Subsets: detailed_description, "
                    + "conversation, part_level, lvis_positive_negative, short_form")
    String repeat;

    @Option(names = "--freeze", paramLabel = "PREFIX[,PREFIX]", split = ",",
            description = "keep the parameters whose names start with a prefix frozen, on top of the stage's choice "
                    + "(e.g. mask_extractor.res: the extractor's per-level linears, when a pretraining made them "
                    + "and a randomly initialised LLM would otherwise overwrite them); names as 'osprey checkpoint ls' "
                    + "shows them")
    List<String> freeze;

    /** Testing aid: stop after N steps without a final save, as a kill would. */
    @Option(names = "--stop-after", hidden = true, defaultValue = "0")
    int stopAfter;

    @Override
    public Integer call() throws IOException {
        if (stage == null || model == null || data == null || out == null) {
            throw new UsageException("--stage, --model, --data and --out are required (or 'osprey train demo --out DIR')");
        }
        TrainingRun.Options options = options();
        PrintWriter errWriter = spec.commandLine().getErr();
        PrintStream err = new PrintStream(new WriterStream(errWriter), true, java.nio.charset.StandardCharsets.UTF_8);
        TrainingRun.Summary s;
        try {
            s = TrainingRun.run(options.withProgress(err));
        } catch (IllegalArgumentException | TrainingDataReader.TrainingDataException e) {
            throw new UsageException(e.getMessage());
        } finally {
            err.flush();
        }
        PrintWriter o = spec.commandLine().getOut();
        if (s.model() == null) {
            o.printf(Locale.ROOT, "stopped after step %d of %d (resume with --resume)%n", s.stepsDone(), s.stepsTotal());
        } else {
            o.printf(Locale.ROOT, "%d steps, last loss %.4f, %d samples (%d skipped) -> %s%n", s.stepsTotal(), s.lastLoss(),
                    s.samples(), s.skipped(), s.model());
        }
        o.flush();
        return 0;
    }

    /** The options, checked; a bad value is one line. */
    TrainingRun.Options options() {
        Stage st;
        TrainConfig cfg;
        try {
            st = Stage.of(stage);
            cfg = TrainConfig.forStage(st);
            if (lr != null) {
                if (!(lr > 0) || lr > 1) {
                    throw new IllegalArgumentException("--lr must be in (0, 1], got " + lr);
                }
                cfg = cfg.withLearningRate(lr);
            }
            if (weightDecay != null) {
                if (!(weightDecay >= 0)) {
                    throw new IllegalArgumentException("--weight-decay must be >= 0, got " + weightDecay);
                }
                cfg = cfg.withWeightDecay(weightDecay);
            }
            if (maxGradNorm != null) {
                if (!(maxGradNorm >= 0)) {
                    throw new IllegalArgumentException("--max-grad-norm must be >= 0 (0 = off), got " + maxGradNorm);
                }
                cfg = cfg.withMaxGradNorm(maxGradNorm);
            }
            if (warmupRatio != null || schedule != null) {
                cfg = cfg.withSchedule(schedule == null ? cfg.schedule() : schedule,
                        warmupRatio == null ? cfg.warmupRatio() : warmupRatio, 0);
            }
            int b = batchSize == null ? cfg.batchSize() : batchSize;
            int a = gradAccum == null ? cfg.gradientAccumulation() : gradAccum;
            int e = epochs == null ? cfg.epochs() : epochs;
            if (b < 1 || a < 1 || e < 1) {
                throw new IllegalArgumentException("--batch-size, --grad-accum and --epochs must be at least 1");
            }
            cfg = cfg.withBatching(b, a, e);
            cfg = new TrainConfig(cfg.stage(), cfg.learningRate(), cfg.weightDecay(), cfg.beta1(), cfg.beta2(), cfg.eps(),
                    cfg.schedule(), cfg.warmupRatio(), cfg.warmupSteps(), cfg.maxGradNorm(), cfg.gradientAccumulation(),
                    cfg.epochs(), cfg.batchSize(), seed);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (modelMaxLength < 16) {
            throw new UsageException("--model-max-length must be at least 16, got " + modelMaxLength);
        }
        if (saveEvery < 0) {
            throw new UsageException("--save-every must be 0 (none) or positive, got " + saveEvery);
        }
        if (limit < 0) {
            throw new UsageException("--limit must be 0 (all) or positive, got " + limit);
        }
        if (cacheMb < 1) {
            throw new UsageException("--cache-mb must be at least 1, got " + cacheMb);
        }
        Conversation conv = switch (conversation) {
            case "v1", "vicuna_v1" -> Conversation.VICUNA_V1;
            case "osprey_v1" -> Conversation.OSPREY_V1;
            default -> throw new UsageException("--conversation must be v1 or osprey_v1, got " + conversation);
        };
        DType dt = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            default -> throw new UsageException("--dtype must be f32 or bf16, got " + dtype);
        };
        if (!Files.isDirectory(model)) {
            throw new UsageException("model directory not found: " + model);
        }
        if (!Files.exists(data)) {
            throw new UsageException("training data not found: " + data);
        }
        Path imageRoot = images != null ? images : (Files.isDirectory(data) ? data : data.getParent()).resolve("images");
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new UsageException("--out " + out + " exists and is not a directory");
        }
        Tokenizer.Mode mode = switch (tokenizerMode) {
            case "fast" -> Tokenizer.Mode.FAST;
            case "slow" -> Tokenizer.slowModeOf(model);
            default -> throw new UsageException("--tokenizer-mode must be fast or slow, got " + tokenizerMode);
        };
        try {
            return new TrainingRun.Options(st, model, data, imageRoot, out, resume, cfg, modelMaxLength, conv,
                    saveEvery, limit, stopAfter, cacheMb << 20, dt, mode, trainTower, DataCommand.regionForm(regionForm),
                    DataCommand.turnOrder(turnOrder), freeze, TrainingRun.parseRepeats(repeat), null);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Bridges a PrintStream onto picocli's error writer. */
    private static final class WriterStream extends java.io.OutputStream {
        private final PrintWriter w;
        private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();

        WriterStream(PrintWriter w) {
            this.w = w;
        }

        @Override
        public synchronized void write(int b) {
            line.write(b);
            if (b == '\n') {
                flush();
            }
        }

        @Override
        public synchronized void flush() {
            w.print(line.toString(java.nio.charset.StandardCharsets.UTF_8));
            w.flush();
            line.reset();
        }
    }
}
