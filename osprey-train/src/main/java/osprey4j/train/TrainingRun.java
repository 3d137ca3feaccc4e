package osprey4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.FileTrees;
import osprey4j.core.io.TensorInfo;
import osprey4j.core.mask.Mask;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.data.instruct.Subset;
import osprey4j.data.samples.RegionForm;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TurnOrder;
import osprey4j.model.Osprey;
import osprey4j.model.OspreyConfig;
import osprey4j.model.OspreyTokens;
import osprey4j.model.image.ImageProcessor;
import osprey4j.model.image.RgbImage;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.model.llm.LlamaConfig;
import osprey4j.train.cache.TowerIdentity;
import osprey4j.train.cache.VisionFeatureCache;
import osprey4j.train.checkpoint.TrainingCheckpoints;
import osprey4j.train.checkpoint.TrainingState;
import osprey4j.train.data.Conversation;
import osprey4j.train.data.Preprocessor;
import osprey4j.train.data.TrainingDataReader;
import osprey4j.train.data.TrainingExample;
import osprey4j.train.export.OfficialModelWriter;
import osprey4j.train.export.OspreyShape;

/**
 * A whole training run, what {@code osprey train} does: read the instruction data, preprocess it with the
 * model's tokenizer, compute the frozen tower's features once per image (on disk, {@link VisionFeatureCache}),
 * then epochs of seeded shuffles, optimiser steps through {@link Trainer}, progress on stderr, a JSON-lines log
 * ({@value #LOG}), a loss curve ({@value #CURVE}), training checkpoints every N steps ({@value #RESUME}/) and the
 * final model in the official layout ({@value #MODEL}/).
 *
 * <p><b>Order and resumption.</b> Epoch {@code e} visits the samples in a Fisher-Yates permutation drawn from
 * {@code SplittableRandom(seed + e)}; batches are consecutive runs of {@code batchSize} samples (the last one of
 * an epoch may be short, as HF's dataloader keeps it), a step takes {@code gradAccum} of them, and micro-batches
 * left over at the end of an epoch are not used (HF Trainer would fold them into the next epoch's first step). A checkpoint holds the trainable weights, AdamW's moments and step
 * counts, the step, the epoch's order and position and the seed, so {@code --resume} continues with exactly the
 * batches, learning rates and arithmetic the uninterrupted run would have used: the losses and final weights are
 * bit-identical. Only the trainable parameters are stored; the frozen ones come from {@code --model} again, which
 * the model identity (config, weight files, stage) ties the checkpoint to.
 *
 * <p><b>Memory.</b> Samples hold ids, labels and their masks (RLE); tower features are read from the disk cache
 * per micro-batch and dropped after the step, so the resident set is the model, its optimiser state, one step's
 * activations and a bounded in-memory feature cache.
 */
public final class TrainingRun {
    public static final String LOG = "train_log.jsonl";
    public static final String CURVE = "loss.png";
    public static final String RESUME = "checkpoints";
    public static final String MODEL = "model";
    public static final String FEATURES = "features";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param stage          which parts train (1 projector, 2 mask extractor, 3 all but the tower)
     * @param modelDir       the starting model (official layout)
     * @param dataDir        the five Osprey-724K files ({@code osprey data instruct} output), or one of them
     * @param imageRoot      where the data's image file names are found
     * @param outDir         run directory
     * @param config         hyper-parameters
     * @param modelMaxLength the tokenizer's {@code model_max_length}
     * @param conversation   the prompt template the data is put in
     * @param saveEvery      training checkpoint every this many steps (0: only the final model)
     * @param limit          use only the first N samples (0: all)
     * @param stopAfter      testing aid: stop after this many steps of this process without saving anything
     *                       more (simulates a kill); 0 = run to the end
     * @param cacheBytes     on-disk feature cache budget
     * @param dtype          stored dtype of the final model (F32 or BF16)
     * @param tokenizerMode  how the data is tokenized: {@link Tokenizer.Mode#FAST} as the reference
     *                       ({@code use_fast=True}, as {@code osprey ask} asks), or a slow mode (LLaVA's
     *                       {@code use_fast=False}: no lone '▁' before {@code <mask>})
     * @param trainTower     train the vision tower too (stage 3 only; the paper freezes it, a model trained from
     *                       scratch needs it): samples then carry their preprocessed image and no feature cache is
     *                       used
     * @param regionForm     how Osprey-724K conversations show their regions ({@link RegionForm}; the reference's
     *                       is LIST)
     * @param turnOrder      the order of each record's question-answer pairs ({@link TurnOrder}; the reference's
     *                       is AS_WRITTEN; SHUFFLED needs the inline form)
     * @param freeze         name prefixes of parameters kept frozen on top of the stage's freezing (e.g.
     *                       {@code mask_extractor.res} for the extractor's per-level linears a pretraining made); each
     *                       must name at least one parameter
     * @param repeats        the data mixture: how many times each named Osprey-724K subset is listed per epoch
     *                       (0 leaves it out; unnamed subsets once; {@link TrainingDataReader#read(Path, Map)})
     */
    public record Options(Stage stage, Path modelDir, Path dataDir, Path imageRoot, Path outDir, boolean resume,
                          TrainConfig config, int modelMaxLength, Conversation conversation, int saveEvery, int limit,
                          int stopAfter, long cacheBytes, DType dtype, Tokenizer.Mode tokenizerMode,
                          boolean trainTower, RegionForm regionForm, TurnOrder turnOrder,
                          List<String> freeze, Map<Subset, Integer> repeats, PrintStream progress) {
        public Options {
            Objects.requireNonNull(stage, "stage");
            Objects.requireNonNull(modelDir, "modelDir");
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(outDir, "outDir");
            Objects.requireNonNull(config, "config");
            Objects.requireNonNull(conversation, "conversation");
            if (modelMaxLength < 16) {
                throw new IllegalArgumentException("--model-max-length must be at least 16, got " + modelMaxLength);
            }
            if (saveEvery < 0 || limit < 0 || stopAfter < 0) {
                throw new IllegalArgumentException("--save-every and --limit must be 0 or positive");
            }
            if (cacheBytes <= 0) {
                throw new IllegalArgumentException("the feature cache budget must be positive");
            }
            Objects.requireNonNull(tokenizerMode, "tokenizerMode");
            Objects.requireNonNull(regionForm, "regionForm");
            Objects.requireNonNull(turnOrder, "turnOrder");
            if (turnOrder == TurnOrder.SHUFFLED && regionForm != RegionForm.INLINE) {
                throw new IllegalArgumentException("--turn-order shuffled needs --region-form inline (in the list form "
                        + "the first question lists the regions)");
            }
            if (trainTower && stage != Stage.FULL) {
                throw new IllegalArgumentException("--train-tower needs --stage 3 (stages 1 and 2 train only the projector "
                        + "or the mask extractor)");
            }
            if (imageRoot == null) {
                imageRoot = dataDir.resolve("images");
            }
            repeats = repeats == null ? Map.of() : Map.copyOf(repeats);
            freeze = freeze == null ? List.of() : List.copyOf(freeze);
            for (String f : freeze) {
                if (f.isBlank()) {
                    throw new IllegalArgumentException("--freeze takes parameter name prefixes, got an empty one");
                }
            }
        }

        /** The same options, reporting progress to {@code to}. */
        public Options withProgress(PrintStream to) {
            return new Options(stage, modelDir, dataDir, imageRoot, outDir, resume, config, modelMaxLength,
                    conversation, saveEvery, limit, stopAfter, cacheBytes, dtype, tokenizerMode, trainTower,
                    regionForm, turnOrder, freeze, repeats, to);
        }
    }

    /** What a run did. */
    public record Summary(int stepsTotal, int stepsDone, int resumedFrom, double lastLoss, List<Double> losses,
                          int samples, long skipped, Path model, double seconds) {
    }

    private TrainingRun() {
    }

    /** Runs (or resumes) a training run; see the class comment. */
    public static Summary run(Options o) throws IOException {
        long started = System.nanoTime();
        PrintStream err = o.progress() == null ? new PrintStream(java.io.OutputStream.nullOutputStream()) : o.progress();
        checkModelDir(o.modelDir());
        if (!Files.exists(o.dataDir())) {
            throw new IllegalArgumentException("training data not found: " + o.dataDir());
        }
        if (!Files.isDirectory(o.imageRoot())) {
            throw new IllegalArgumentException("image folder not found: " + o.imageRoot() + " (give --images)");
        }
        Path out = o.outDir();
        Path resumeDir = out.resolve(RESUME);
        if (!o.resume() && hasSteps(resumeDir)) {
            throw new IllegalArgumentException(out + " already holds a training run; use --resume to continue it or "
                    + "another --out");
        }
        Files.createDirectories(out);
        String identity = modelIdentity(o.modelDir(), o.stage(), o.trainTower(), o.freeze());
        if (!o.freeze().isEmpty()) {
            // before the data is read: a typo should not cost the minutes that takes
            try (Checkpoint c = Checkpoints.open(o.modelDir())) {
                checkPrefixes(o.freeze(), c.tensors().stream().map(TensorInfo::name).toList());
            }
        }

        Optional<TrainingState> state = Optional.empty();
        if (o.resume()) {
            state = TrainingCheckpoints.latest(resumeDir, identity);
            if (state.isEmpty()) {
                err.println("osprey train: no checkpoint in " + resumeDir + "; starting from step 0");
            }
        }

        try (Osprey osprey = Osprey.load(o.modelDir())) {
            // FAST is the tokenizer the model is asked with (the reference's use_fast=True); a slow mode tokenizes
            // as LLaVA's use_fast=False does, which strips the spaces around <mask> that the fast one keeps.
            // Samples that preprocess_v1's length check masks whole are counted below, whichever the mode.
            Tokenizer tokenizer = o.tokenizerMode() == Tokenizer.Mode.FAST ? osprey.tokenizer()
                    : OspreyTokens.loadTokenizer(o.modelDir(), o.tokenizerMode());
            int maskId = tokenizer.tokenId("<mask>").orElseThrow(
                    () -> new IllegalArgumentException(o.modelDir() + ": the tokenizer has no <mask> token"));
            Preprocessor pre = new Preprocessor(tokenizer, o.conversation(), o.modelMaxLength(), true);
            TrainingDataReader reader = new TrainingDataReader(pre, tokenizer,
                    new SampleOptions(o.imageRoot(), o.config().seed(), SampleOptions.DEFAULT_MAX_REGIONS, o.regionForm(),
                            o.turnOrder()));
            TrainingDataReader.Result data = reader.read(o.dataDir(), o.repeats());
            List<TrainingExample> examples = data.examples();
            if (o.limit() > 0 && examples.size() > o.limit()) {
                examples = examples.subList(0, o.limit());
            }
            if (examples.isEmpty()) {
                throw new IllegalArgumentException(o.dataDir() + ": no training samples");
            }
            err.printf(Locale.ROOT, "osprey train: %d samples (%d skipped, %d fully masked by the mismatch rule), "
                    + "stage %d%s%n", examples.size(), data.skipped(), data.mismatched(), o.stage().ordinal() + 1,
                    o.repeats().isEmpty() ? "" : ", subsets repeated " + repeatsText(o.repeats()));

            TrainableOsprey model = TrainableOsprey.load(o.modelDir(), o.trainTower());
            TrainConfig cfg = o.config();
            int total = cfg.totalSteps(examples.size());
            Trainer trainer = new Trainer(model, maskId, cfg, total);
            freeze(model, o.stage(), o.freeze());
            int imageSize = osprey.config().imageSize();
            VisionFeatureCache cache = new VisionFeatureCache(out.resolve(FEATURES), o.cacheBytes(),
                    TowerIdentity.of(o.modelDir()), imageSize);
            VisionFeatureCache.Encoder encoder = VisionFeatureCache.encoderFor(osprey);
            ImageProcessor pixels = o.trainTower() ? new ImageProcessor(imageSize) : null;

            int startStep = 0;
            long epoch = 0;
            int position = 0;
            int[] order = null;
            if (state.isPresent()) {
                TrainingState s = state.get();
                restore(model, trainer, s);
                startStep = Math.toIntExact(s.step());
                epoch = s.epoch();
                position = Math.toIntExact(s.dataPosition());
                order = s.dataOrder();
                if (order.length != examples.size() || s.dataSeed() != cfg.seed()) {
                    throw new IllegalArgumentException("resume directory " + resumeDir + " was made with other data or "
                            + "another seed (" + order.length + " samples, seed " + s.dataSeed() + "; now "
                            + examples.size() + ", seed " + cfg.seed() + ")");
                }
                err.printf(Locale.ROOT, "osprey train: resuming at step %d of %d (epoch %d)%n", startStep, total, epoch + 1);
            }
            List<String> logLines = keepLog(out.resolve(LOG), startStep);
            rewrite(out.resolve(LOG), logLines);
            List<Double> losses = new ArrayList<>();
            for (String line : logLines) {
                losses.add(JSON.readTree(line).get("loss").asDouble());
            }

            TrainingCheckpoints checkpoints = o.saveEvery() > 0 ? new TrainingCheckpoints(resumeDir, o.saveEvery(), 2) : null;
            int perEpoch = total / cfg.epochs();
            int step = startStep;
            int doneHere = 0;
            long tokensHere = 0;
            long nanosHere = 0;
            double lastLoss = Double.NaN;
            while (step < total) {
                long epochOfStep = step / perEpoch;
                if (order == null || epochOfStep != epoch) {
                    epoch = epochOfStep;
                    order = permutation(examples.size(), cfg.seed() + epoch);
                    position = 0;
                }
                List<List<TrainSample>> micro = new ArrayList<>();
                for (int a = 0; a < cfg.gradientAccumulation() && position < order.length; a++) {
                    List<TrainSample> batch = new ArrayList<>();
                    for (int b = 0; b < cfg.batchSize() && position < order.length; b++) {
                        batch.add(sample(examples.get(order[position++]), o.imageRoot(), cache, encoder, pixels));
                    }
                    micro.add(batch);
                }
                Trainer.StepResult r = trainer.step(micro);
                step = r.step();
                lastLoss = r.loss();
                losses.add(r.loss());
                doneHere++;
                tokensHere += tokens(micro);
                nanosHere += r.nanos();
                ObjectNode line = JSON.createObjectNode();
                line.put("step", step);
                line.put("epoch", epoch + (double) position / order.length);
                line.put("loss", r.loss());
                line.put("lr", r.lr());
                line.put("grad_norm", r.gradNorm());
                line.put("supervised_tokens", r.tokens());
                line.put("ms", r.nanos() / 1e6);
                Files.writeString(out.resolve(LOG), JSON.writeValueAsString(line) + "\n", StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                double secsPerStep = nanosHere / 1e9 / doneHere;
                err.printf(Locale.ROOT, "step %d/%d  epoch %d  loss %.4f  lr %.3g  %.0f tokens/s  ETA %s%n", step, total,
                        epoch + 1, r.loss(), r.lr(), tokensHere / (nanosHere / 1e9), eta(secsPerStep * (total - step)));
                if (checkpoints != null && step < total) {
                    final long e = epoch;
                    final int pos = position;
                    final int[] ord = order;
                    final int st = step;
                    if (checkpoints.maybeSave(step, () -> state(identity, model, trainer, st, e, pos, ord, cfg))) {
                        LossCurve.write(out.resolve(CURVE), losses);
                    }
                }
                // as a kill right after this step (and its periodic checkpoint) would
                if (o.stopAfter() > 0 && doneHere >= o.stopAfter() && step < total) {
                    return new Summary(total, step, startStep, lastLoss, losses, examples.size(), data.skipped(), null,
                            (System.nanoTime() - started) / 1e9);
                }
            }
            LossCurve.write(out.resolve(CURVE), losses);
            Path modelOut = out.resolve(MODEL);
            export(o.modelDir(), model, modelOut, o.dtype(), o.modelMaxLength());
            double secs = (System.nanoTime() - started) / 1e9;
            err.printf(Locale.ROOT, "osprey train: %d steps, last loss %.4f, %s -> %s%n", total, lastLoss, eta(secs), modelOut);
            return new Summary(total, step, startStep, lastLoss, losses, examples.size(), data.skipped(), modelOut, secs);
        }
    }

    /** A data mixture as {@code osprey train --repeat} reads it: {@code short_form=2,part_level=1}. */
    public static String repeatsText(Map<Subset, Integer> repeats) {
        return String.join(",", Stream.of(Subset.values()).filter(repeats::containsKey)
                .map(s -> s.id() + "=" + repeats.get(s)).toList());
    }

    /**
     * Parses a data mixture, {@code SUBSET=N[,SUBSET=N]...}, subsets by {@link Subset#id()}; an unknown name, a
     * missing or non-integer count, or a subset named twice is an {@link IllegalArgumentException}.
     */
    public static Map<Subset, Integer> parseRepeats(String text) {
        Map<Subset, Integer> out = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        List<String> ids = Stream.of(Subset.values()).map(Subset::id).toList();
        for (String item : text.split(",")) {
            String[] kv = item.strip().split("=", -1);
            Subset subset = kv.length == 2 ? Stream.of(Subset.values()).filter(s -> s.id().equals(kv[0].strip()))
                    .findFirst().orElse(null) : null;
            if (subset == null) {
                throw new IllegalArgumentException("--repeat takes SUBSET=N with SUBSET one of " + ids + ", got '"
                        + item.strip() + "'");
            }
            int n;
            try {
                n = Integer.parseInt(kv[1].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--repeat " + subset.id() + ": '" + kv[1].strip()
                        + "' is not a whole number");
            }
            if (n < 0 || n > TrainingDataReader.MAX_REPEAT) {
                throw new IllegalArgumentException("--repeat " + subset.id() + " must be in 0.."
                        + TrainingDataReader.MAX_REPEAT + ", got " + n);
            }
            if (out.put(subset, n) != null) {
                throw new IllegalArgumentException("--repeat names " + subset.id() + " twice");
            }
        }
        return out;
    }

    private static boolean hasSteps(Path resumeDir) throws IOException {
        if (!Files.isDirectory(resumeDir)) {
            return false;
        }
        try (Stream<Path> l = Files.list(resumeDir)) {
            return l.anyMatch(p -> p.getFileName().toString().startsWith("step-"));
        }
    }

    private static void checkModelDir(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model directory not found: " + dir);
        }
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(dir + " is not a model directory (no config.json)");
        }
    }

    /**
     * Freezes, on top of the stage's choice, the parameters whose names start with one of {@code prefixes} (each
     * checked against the checkpoint's names by {@link #checkPrefixes} before the data is read).
     */
    static void freeze(TrainableOsprey model, Stage stage, List<String> prefixes) {
        if (prefixes.isEmpty()) {
            return;
        }
        model.setTrainable(name -> stage.trains(name) && prefixes.stream().noneMatch(name::startsWith));
    }

    /**
     * Each prefix names at least one of {@code names}, or a one-line error (a typo would otherwise train what was
     * meant to stay).
     */
    private static void checkPrefixes(List<String> prefixes, List<String> names) {
        for (String prefix : prefixes) {
            if (names.stream().noneMatch(n -> n.startsWith(prefix))) {
                throw new IllegalArgumentException("--freeze " + prefix + ": no parameter name starts with it (they "
                        + "start with " + names.stream().map(n -> n.split("\\.")[0]).distinct().toList() + ")");
            }
        }
    }

    /**
     * The identity a checkpoint is tied to: the starting model's config, weight file names and sizes, the stage, and
     * what else is frozen or trains.
     */
    static String modelIdentity(Path modelDir, Stage stage, boolean trainTower, List<String> freeze) throws IOException {
        List<String> parts = new ArrayList<>();
        parts.add(Files.readString(modelDir.resolve("config.json")));
        try (Stream<Path> files = Files.list(modelDir)) {
            for (Path f : files.sorted().toList()) {
                String n = f.getFileName().toString();
                if (n.endsWith(".safetensors") || n.endsWith(".bin")) {
                    parts.add(n + ":" + Files.size(f));
                }
            }
        }
        parts.add("stage " + stage);
        if (trainTower) {
            parts.add("tower trains");
        }
        if (!freeze.isEmpty()) {
            parts.add("frozen " + String.join(",", freeze));
        }
        return TrainingState.modelIdentity(parts.toArray(String[]::new));
    }

    /** The epoch's visiting order: Fisher-Yates from {@code SplittableRandom(seed)}. */
    static int[] permutation(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** The step's view of a sample: the frozen tower's cached features, or the preprocessed image when it trains. */
    private static TrainSample sample(TrainingExample ex, Path imageRoot, VisionFeatureCache cache,
                                      VisionFeatureCache.Encoder encoder, ImageProcessor pixels) throws IOException {
        Path image = imageRoot.resolve(ex.image());
        List<Tensor> masks = new ArrayList<>(ex.masks().size());
        for (Mask m : ex.masks()) {
            masks.add(m.toTensor());
        }
        if (pixels != null) {
            return TrainSample.withPixels(ex.inputIds(), ex.labels(), pixels.preprocess(RgbImage.read(image)), masks);
        }
        VisionFeatureCache.Features f = cache.get(image, encoder);
        return new TrainSample(ex.inputIds(), ex.labels(), f.levels(), masks);
    }

    private static long tokens(List<List<TrainSample>> micro) {
        long n = 0;
        for (List<TrainSample> b : micro) {
            for (TrainSample s : b) {
                n += s.ids().length;
            }
        }
        return n;
    }

    private static TrainingState state(String identity, TrainableOsprey model, Trainer trainer, int step, long epoch,
                                       int position, int[] order, TrainConfig cfg) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        Map<String, Tensor> m = new LinkedHashMap<>();
        Map<String, Tensor> v = new LinkedHashMap<>();
        ObjectNode hyper = JSON.valueToTree(cfg);
        ObjectNode adamSteps = hyper.putObject("adam_steps");
        for (Param p : model.trainable()) {
            params.put(p.name(), Tensor.wrap(p.value().clone(), p.shape()));
            float[][] mv = trainer.optimizer().moments(p);
            m.put(p.name(), Tensor.wrap(mv == null ? new float[p.size()] : mv[0].clone(), p.shape()));
            v.put(p.name(), Tensor.wrap(mv == null ? new float[p.size()] : mv[1].clone(), p.shape()));
            adamSteps.put(p.name(), trainer.optimizer().steps(p));
        }
        return new TrainingState(identity, step, step, cfg.seed(), order, position, epoch, new long[] {cfg.seed(), epoch},
                hyper, params, m, v);
    }

    private static void restore(TrainableOsprey model, Trainer trainer, TrainingState s) {
        JsonNode adamSteps = s.hyperParameters().path("adam_steps");
        for (Param p : model.trainable()) {
            Tensor value = s.parameters().get(p.name());
            if (value == null) {
                throw new IllegalArgumentException("the training state has no parameter '" + p.name() + "'");
            }
            System.arraycopy(value.toFloatArray(), 0, p.value(), 0, p.size());
            trainer.optimizer().restore(p, s.firstMoments().get(p.name()).toFloatArray(),
                    s.secondMoments().get(p.name()).toFloatArray(), adamSteps.path(p.name()).asInt(Math.toIntExact(s.step())));
        }
        trainer.restoreStepsTaken(Math.toIntExact(s.step()));
    }

    /** The log lines of steps up to {@code step} (a resumed run drops what came after its checkpoint). */
    private static List<String> keepLog(Path log, int step) throws IOException {
        List<String> kept = new ArrayList<>();
        if (step == 0 || !Files.isRegularFile(log)) {
            return kept;
        }
        for (String line : Files.readAllLines(log)) {
            if (line.isBlank()) {
                continue;
            }
            try {
                if (JSON.readTree(line).path("step").asInt() <= step) {
                    kept.add(line);
                }
            } catch (IOException e) {
                // a line cut by a kill: dropped
            }
        }
        return kept;
    }

    private static void rewrite(Path file, List<String> lines) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l).append('\n');
        }
        Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String eta(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    /**
     * Writes the trained model in the official layout: every tensor of the starting model (the frozen tower among
     * them) with the trained ones replaced, the starting model's tokenizer, and its {@code mm_image_size}.
     */
    public static void export(Path startDir, TrainableOsprey model, Path target, DType dtype, int modelMaxLength)
            throws IOException {
        OspreyShape shape = shapeOf(startDir);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (Checkpoint ckpt = Checkpoints.open(startDir)) {
            for (String name : shape.ospreyTensors().keySet()) {
                Tensor t = ckpt.tensor(name);
                weights.put(name, t.dtype() == DType.F32 ? t.copy() : t.to(DType.F32));
            }
        }
        weights.putAll(model.stateDict());
        JsonNode startConfig = JSON.readTree(startDir.resolve("config.json").toFile());
        writeModel(target, shape, weights, startDir.resolve("tokenizer.model"), dtype, modelMaxLength,
                startConfig.has("mm_image_size") ? startConfig.get("mm_image_size").asInt() : 0);
    }

    /**
     * {@link OfficialModelWriter#write} plus {@code mm_image_size} in {@code config.json} when {@code imageSize} is
     * positive (a model whose tower runs at another resolution than the reference's 512); the directory appears
     * whole or not at all.
     */
    public static void writeModel(Path target, OspreyShape shape, Map<String, Tensor> weights, Path tokenizerModel,
                                  DType dtype, int modelMaxLength, int imageSize) throws IOException {
        Path abs = target.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".export");
        FileTrees.delete(tmp);
        OfficialModelWriter.write(tmp, shape, weights, new OfficialModelWriter.Options(tokenizerModel,
                OspreyTokens.REGION_TOKENS, modelMaxLength, dtype));
        if (imageSize > 0) {
            ObjectNode config = (ObjectNode) JSON.readTree(tmp.resolve("config.json").toFile());
            config.put("mm_image_size", imageSize);
            Files.writeString(tmp.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
        }
        Path old = abs.resolveSibling("." + abs.getFileName() + ".old");
        FileTrees.delete(old);
        if (Files.exists(abs)) {
            Files.move(abs, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
        FileTrees.delete(old);
    }

    /** The {@link OspreyShape} of a model directory, from its config and its weights' shapes. */
    public static OspreyShape shapeOf(Path dir) {
        LlamaConfig llm = LlamaConfig.read(dir);
        JsonNode config;
        try {
            config = JSON.readTree(dir.resolve("config.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(dir + "/config.json: " + e.getMessage(), e);
        }
        try (Checkpoint ckpt = Checkpoints.open(dir)) {
            String t = OspreyShape.TOWER_PREFIX + "visual.trunk.stages.";
            int[] depths = new int[4];
            int[] dims = new int[4];
            Map<String, TensorInfo> byName = new HashMap<>();
            for (TensorInfo i : ckpt.tensors()) {
                byName.put(i.name(), i);
            }
            for (int s = 0; s < 4; s++) {
                while (byName.containsKey(t + s + ".blocks." + depths[s] + ".conv_dw.weight")) {
                    depths[s]++;
                }
                if (depths[s] == 0) {
                    throw new IllegalArgumentException(dir + ": no ConvNeXt blocks in stage " + s + " of the vision tower");
                }
                dims[s] = (int) byName.get(t + s + ".blocks.0.conv_dw.weight").shape()[0];
            }
            int clipHead = (int) ckpt.info(OspreyShape.TOWER_PREFIX + "visual.head.mlp.fc2.weight").shape()[0];
            int maskEmbed = (int) ckpt.info("mask_extractor.feat_linear.weight").shape()[1];
            long cells = ckpt.info("mask_extractor.mask_linear.layers.0.weight").shape()[1];
            int posHidden = (int) ckpt.info("mask_extractor.mask_linear.layers.0.weight").shape()[0];
            String projector = config.path("mm_projector_type").asText("linear");
            return new OspreyShape(llm, depths, dims, clipHead, maskEmbed, (int) Math.round(Math.sqrt(cells)), posHidden,
                    projector);
        }
    }

    /** The image size a model directory's config asks for (512 unless it says otherwise). */
    public static int imageSizeOf(Path modelDir) {
        return OspreyConfig.read(modelDir).imageSize();
    }
}
