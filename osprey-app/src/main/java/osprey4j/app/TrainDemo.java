package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.Map;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.data.samples.RegionForm;
import osprey4j.data.samples.TurnOrder;
import osprey4j.train.DemoModel;
import osprey4j.train.MaskShapePretraining;
import osprey4j.train.TowerPretraining;
import osprey4j.train.TrainingRun;
import osprey4j.train.data.Conversation;
import osprey4j.train.export.OspreyShape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code osprey train demo --out DIR}: the recipe of the bundled demo model, from nothing, with recorded seeds.
 * Each step is an ordinary osprey command (or the library call behind one) run in this process:
 * <ol>
 *   <li>{@code data world} with the training seed, {@code data instruct} on it;</li>
 *   <li>a SentencePiece BPE tokenizer trained on the instruction text as the model reads it;</li>
 *   <li>the evaluation world, from a seed never used in training;</li>
 *   <li>the starting model: the reference's architecture at small widths, seeded random weights, the tower at
 *       {@link #IMAGE_SIZE} pixels, then the tower (and the extractor's res linears) pretrained on a larger world
 *       of its own seed to name regions' category, colour and part ({@link TowerPretraining}, what CLIP
 *       pretraining is to Osprey's tower);</li>
 *   <li>{@code train --stage 3} (everything but the now frozen tower) from scratch;</li>
 *   <li>{@code eval world} on the evaluation world.</li>
 * </ol>
 * A step whose output already exists is not redone, and training resumes from its checkpoints, so an interrupted
 * recipe continues where it stopped when run again.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Reproduce the bundled demo model (models/demo) from nothing: a synthetic world and its "
                + "instruction data, a tokenizer, a vision tower pretrained on region category, colour and part, "
                + "a small Osprey instruction-tuned from scratch on it, and its evaluation on a held-out world. "
                + "It is a small model of a synthetic world, not Osprey-7B.",
                "Writes DIR/world, DIR/tokenizer, DIR/eval-world, DIR/tower-world and DIR/tower-pretraining, "
                        + "DIR/init, DIR/run (the training run), DIR/eval and DIR/model (the result: model, "
                        + "training log, loss curve, eval report). Rerun on the same DIR to resume."})
final class TrainDemo implements Callable<Integer> {
    /** The recipe. Changing any of these changes the model; models/demo/README.md records them. */
    static final long WORLD_SEED = 1;
    static final int WORLD_IMAGES = 1800;
    static final int IMAGE_SIZE = 128;
    static final long INSTRUCT_SEED = 1;
    static final int VOCAB = 1000;
    static final long INIT_SEED = 7;
    static final int HIDDEN = 192;
    static final int INTERMEDIATE = 512;
    static final int LAYERS = 3;
    static final int HEADS = 4;
    static final int[] CONV_DEPTHS = {1, 1, 1, 1};
    static final int[] CONV_DIMS = {32, 64, 128, 256};
    static final int MASK_EMBED = 256;
    static final int POS_HIDDEN = 256;
    static final String LR = "2e-3";
    static final String EPOCHS = "1";
    /** How questions show their regions: each region its own {@code <mask><pos>} where it is named, as users ask. */
    static final RegionForm REGION_FORM = RegionForm.INLINE;
    /**
     * Each record's question-answer pairs in a seeded order, so part and yes/no questions also open conversations
     * (in the generated files the object question always comes first), as users ask them.
     */
    static final TurnOrder TURN_ORDER = TurnOrder.SHUFFLED;
    /**
     * The reference's fast tokenizer, the one {@code osprey ask} and {@code eval world} use: trained and asked the
     * same way around {@code <mask>} (the slow one strips the space before it, the fast one keeps a lone '▁').
     */
    static final String TOKENIZER_MODE = "fast";
    static final String BATCH = "4";
    /**
     * The data mixture ({@code osprey train --repeat}): the one-word answers of the positive/negative and short-form
     * subsets weigh more beside the long descriptions and conversations (yes/no answers are otherwise about 1% of
     * the supervised tokens).
     */
    static final String REPEAT = "lvis_positive_negative=4,short_form=2";
    /**
     * Parameters kept frozen in instruction tuning ({@code osprey train --freeze}): the extractor's per-level linears
     * that tower pretraining made (left to train they moved by 76-135% of their norm). Freezing alone did not raise
     * the category named (37.0% against 38.5%); with the mixture above the recipe names 64.4%. The mixture without
     * the freezing did worse on every figure (63.0 / 52.6 / 53.7 / 75.6 / 0%).
     */
    static final String FREEZE = "mask_extractor.res";
    static final String WARMUP = "0.03";
    static final long TRAIN_SEED = 1;
    static final long TOWER_WORLD_SEED = 2;
    static final int TOWER_WORLD_IMAGES = 40000;
    static final int TOWER_STEPS = 20000;
    static final int TOWER_IMAGES_PER_STEP = 4;
    static final double TOWER_LR = 3e-3;
    static final long TOWER_SEED = 1;
    /**
     * Mask-shape pretraining of the position MLP ({@link MaskShapePretraining}): off in the recipe. With 3000 steps
     * the demo stopped reading its regions (category 9.6%, colour 8.9%), where the same recipe without it did not.
     */
    static final int SHAPE_STEPS = 0;
    static final int SHAPE_IMAGES_PER_STEP = 8;
    static final double SHAPE_LR = 1e-3;
    static final long SHAPE_SEED = 1;
    static final long EVAL_WORLD_SEED = 1001;
    static final int EVAL_IMAGES = 30;

    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "recipe directory (created; reused)")
    Path out;

    /** Smaller runs of the same recipe (tests): images, epochs. */
    @Option(names = "--world-images", hidden = true)
    Integer worldImages;

    @Option(names = "--epochs", hidden = true)
    String epochs;

    @Option(names = "--eval-images", hidden = true)
    Integer evalImages;

    @Option(names = "--eval-limit", hidden = true, defaultValue = "0")
    int evalLimit;

    @Option(names = "--tower-steps", hidden = true)
    Integer towerSteps;

    @Option(names = "--shape-steps", hidden = true)
    Integer shapeSteps;

    /** Another data mixture ({@code osprey train --repeat}) for experiments; the recipe's is {@link #REPEAT}. */
    @Option(names = "--repeat", hidden = true)
    String repeat;

    /** Other frozen parameters ({@code osprey train --freeze}) for experiments; the recipe's are {@link #FREEZE}. */
    @Option(names = "--freeze", hidden = true)
    String freeze;

    @Option(names = "--tower-world-images", hidden = true)
    Integer towerWorldImages;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter o = spec.commandLine().getOut();
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new UsageException("--out " + out + " exists and is not a directory");
        }
        Files.createDirectories(out);
        long start = System.nanoTime();
        int images = worldImages == null ? WORLD_IMAGES : worldImages;
        int evalN = evalImages == null ? EVAL_IMAGES : evalImages;
        String ep = epochs == null ? EPOCHS : epochs;
        Path world = out.resolve("world");
        Path instruct = world.resolve("instruct");
        if (!Files.isRegularFile(world.resolve("instances.json"))) {
            step(err, "1/7 synthetic world (seed " + WORLD_SEED + ", " + images + " images)");
            run(o, err, "data", "world", "--images", Integer.toString(images), "--size", Integer.toString(IMAGE_SIZE),
                    "--seed", Long.toString(WORLD_SEED), "--out", world.toString());
        }
        if (!Files.isRegularFile(instruct.resolve("osprey_short_form.json"))) {
            step(err, "2/7 instruction data (seed " + INSTRUCT_SEED + ")");
            run(o, err, "data", "instruct", "--annotations", world.toString(), "--seed", Long.toString(INSTRUCT_SEED),
                    "--no-progress", "--out", instruct.toString());
        }
        Path tokenizer = out.resolve("tokenizer").resolve("tokenizer.model");
        Conversation conv = Conversation.OSPREY_V1;
        if (!Files.isRegularFile(tokenizer)) {
            step(err, "3/7 tokenizer (SentencePiece BPE, " + VOCAB + " pieces)");
            List<String> corpus = DemoModel.tokenizerCorpus(instruct, world.resolve("images"), conv, REGION_FORM);
            DemoModel.trainTokenizer(corpus, VOCAB, tokenizer);
        }
        Path evalWorld = out.resolve("eval-world");
        if (!Files.isRegularFile(evalWorld.resolve("instances.json"))) {
            step(err, "4/7 evaluation world (seed " + EVAL_WORLD_SEED + ", never used in training)");
            run(o, err, "data", "world", "--images", Integer.toString(evalN), "--size", Integer.toString(IMAGE_SIZE),
                    "--seed", Long.toString(EVAL_WORLD_SEED), "--out", evalWorld.toString());
        }
        Path init = out.resolve("init");
        OspreyShape shape = DemoModel.shape(VOCAB, HIDDEN, INTERMEDIATE, LAYERS, HEADS, CONV_DEPTHS, CONV_DIMS,
                MASK_EMBED, POS_HIDDEN);
        int tSteps = towerSteps == null ? TOWER_STEPS : towerSteps;
        Path towerWorld = out.resolve("tower-world");
        if (!Files.isRegularFile(init.resolve("config.json"))) {
            Map<String, Tensor> weights = DemoModel.initialWeights(shape, INIT_SEED);
            int sSteps = shapeSteps == null ? SHAPE_STEPS : shapeSteps;
            if ((tSteps > 0 || sSteps > 0) && !Files.isRegularFile(towerWorld.resolve("parts.json"))) {
                int tImages = towerWorldImages == null ? TOWER_WORLD_IMAGES : towerWorldImages;
                step(err, "5/7 tower pretraining world (seed " + TOWER_WORLD_SEED + ", " + tImages + " images)");
                run(o, err, "data", "world", "--images", Integer.toString(tImages), "--size",
                        Integer.toString(IMAGE_SIZE), "--seed", Long.toString(TOWER_WORLD_SEED), "--out",
                        towerWorld.toString());
            }
            if (tSteps > 0) {
                pretrainOnce(err, out.resolve("tower-pretraining"), "tower pretraining", "(" + tSteps + " steps of "
                        + TOWER_IMAGES_PER_STEP + " images, lr " + TOWER_LR
                        + "): region category, colour and part from mask-pooled features", weights, state -> {
                    TowerPretraining pre = new TowerPretraining(weights, shape, IMAGE_SIZE);
                    Object acc = pre.train(towerWorld, evalWorld, new TowerPretraining.Options(tSteps,
                            TOWER_IMAGES_PER_STEP, TOWER_LR, 0.03, 1.0, TOWER_SEED, 250), state, err);
                    return new Pretrained(acc, pre.pretrainedWeights());
                });
            }
            if (sSteps > 0) {
                pretrainOnce(err, out.resolve("mask-shape-pretraining"), "mask-shape pretraining", "(" + sSteps
                        + " steps of " + SHAPE_IMAGES_PER_STEP + " images, lr " + SHAPE_LR
                        + "): region category, part and box from the mask alone", weights, state -> {
                    MaskShapePretraining pre = new MaskShapePretraining(weights, shape);
                    Object acc = pre.train(towerWorld, evalWorld, new TowerPretraining.Options(sSteps,
                            SHAPE_IMAGES_PER_STEP, SHAPE_LR, 0.03, 1.0, SHAPE_SEED, 250), state, err);
                    return new Pretrained(acc, pre.pretrainedWeights());
                });
            }
            step(err, "5/7 starting model (seed " + INIT_SEED + "): " + shape);
            DemoModel.writeInitial(init, shape, weights, tokenizer, IMAGE_SIZE);
        }
        Path run = out.resolve("run");
        if (!Files.isRegularFile(run.resolve(TrainingRun.MODEL).resolve("config.json"))) {
            step(err, "6/7 training (stage 3 from scratch, lr " + LR + ", " + ep + " epochs, batch " + BATCH + ")");
            List<String> args = new ArrayList<>(List.of("train", "--stage", "3", "--model", init.toString(),
                    "--data", instruct.toString(), "--images", world.resolve("images").toString(),
                    "--out", run.toString(), "--lr", LR, "--epochs", ep, "--batch-size", BATCH,
                    "--warmup-ratio", WARMUP, "--weight-decay", "0", "--max-grad-norm", "1.0",
                    "--conversation", "osprey_v1", "--tokenizer-mode", TOKENIZER_MODE,
                    "--region-form", REGION_FORM.name().toLowerCase(Locale.ROOT),
                    "--turn-order", TURN_ORDER == TurnOrder.SHUFFLED ? "shuffled" : "as-written", "--seed", Long.toString(TRAIN_SEED), "--save-every", "100", "--dtype", "bf16"));
            if (!repeatOrRecipe().isEmpty()) {
                args.addAll(List.of("--repeat", repeatOrRecipe()));
            }
            if (!freezeOrRecipe().isEmpty()) {
                args.addAll(List.of("--freeze", freezeOrRecipe()));
            }
            if (Files.isDirectory(run.resolve(TrainingRun.RESUME))) {
                args.add("--resume");
            }
            run(o, err, args.toArray(String[]::new));
        }
        Path model = out.resolve("model");
        copyTree(run.resolve(TrainingRun.MODEL), model);
        Files.copy(run.resolve(TrainingRun.LOG), model.resolve(TrainingRun.LOG), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(run.resolve(TrainingRun.CURVE), model.resolve(TrainingRun.CURVE), StandardCopyOption.REPLACE_EXISTING);
        step(err, "7/7 evaluation");
        Path eval = out.resolve("eval");
        run(o, err, "eval", "world", "--region-form", REGION_FORM.name().toLowerCase(Locale.ROOT), "--model", model.toString(), "--data", evalWorld.toString(), "--out", eval.toString(),
                "--limit", Integer.toString(evalLimit));
        Path evalCopy = model.resolve("eval");
        Files.createDirectories(evalCopy);
        for (String f : List.of("report.md", "summary.json")) {
            if (Files.isRegularFile(eval.resolve(f))) {
                Files.copy(eval.resolve(f), evalCopy.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        writeRecipe(model.resolve("recipe.json"), shape, images, evalN, ep, secs);
        o.printf(Locale.ROOT, "demo model -> %s (%.1f minutes)%n", model, secs / 60);
        o.flush();
        return 0;
    }

    /** A pretraining's held-out accuracy (as printed and recorded) and its weights under Osprey names. */
    private record Pretrained(Object heldOut, Map<String, Tensor> weights) {
    }

    /** Trains with its resumable state in the given file. */
    @FunctionalInterface
    private interface Pretraining {
        Pretrained train(Path stateFile) throws IOException;
    }

    /**
     * A pretraining step of the recipe, done once: unless {@code dir} already holds its result, trains, prints and
     * records the held-out accuracy ({@code heldout.txt}) and writes the weights atomically; then puts them into
     * {@code weights}.
     */
    private static void pretrainOnce(PrintWriter err, Path dir, String name, String what, Map<String, Tensor> weights,
                                     Pretraining pretraining) throws IOException {
        Path pretrained = dir.resolve("pretrained.safetensors");
        if (!Files.isRegularFile(pretrained)) {
            step(err, "5/7 " + name + " " + what);
            Pretrained result = pretraining.train(dir.resolve("state.safetensors"));
            err.println("osprey train demo: " + name + " held-out (seed " + EVAL_WORLD_SEED + "): " + result.heldOut());
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("heldout.txt"), result.heldOut() + "\n");
            AtomicFiles.write(pretrained, tmp -> SafetensorsWriter.write(tmp, result.weights()));
        }
        loadInto(weights, pretrained);
    }

    /** Replaces {@code weights}' tensors by a pretraining's result (F32), by name. */
    private static void loadInto(Map<String, Tensor> weights, Path pretrained) {
        try (Checkpoint c = Checkpoints.open(pretrained)) {
            for (osprey4j.core.io.TensorInfo info : c.tensors()) {
                String name = info.name();
                weights.put(name, Tensor.wrap(c.tensor(name).to(DType.F32).toFloatArray().clone(), info.shape()));
            }
        }
    }

    private static void step(PrintWriter err, String what) {
        err.println("osprey train demo: " + what);
        err.flush();
    }

    private static void run(PrintWriter o, PrintWriter err, String... args) {
        int rc = OspreyCli.execute(o, err, args);
        if (rc != 0) {
            throw new IllegalStateException("'osprey " + String.join(" ", args) + "' failed (exit " + rc + ")");
        }
    }

    private void writeRecipe(Path file, OspreyShape shape, int images, int evalN, String ep, double secs)
            throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("command", "osprey train demo --out DIR");
        r.put("world_seed", WORLD_SEED);
        r.put("world_images", images);
        r.put("image_size", IMAGE_SIZE);
        r.put("instruct_seed", INSTRUCT_SEED);
        r.put("vocab", VOCAB);
        r.put("init_seed", INIT_SEED);
        r.put("shape", shape.toString());
        r.put("tower_world_seed", TOWER_WORLD_SEED);
        r.put("tower_world_images", towerWorldImages == null ? TOWER_WORLD_IMAGES : towerWorldImages);
        r.put("tower_steps", towerSteps == null ? TOWER_STEPS : towerSteps);
        r.put("tower_images_per_step", TOWER_IMAGES_PER_STEP);
        r.put("tower_lr", TOWER_LR);
        r.put("tower_seed", TOWER_SEED);
        Path heldout = out.resolve("tower-pretraining").resolve("heldout.txt");
        if (Files.isRegularFile(heldout)) {
            r.put("tower_heldout_accuracy", Files.readString(heldout).strip());
        }
        r.put("shape_steps", shapeSteps == null ? SHAPE_STEPS : shapeSteps);
        r.put("shape_images_per_step", SHAPE_IMAGES_PER_STEP);
        r.put("shape_lr", SHAPE_LR);
        r.put("shape_seed", SHAPE_SEED);
        Path shapeHeldout = out.resolve("mask-shape-pretraining").resolve("heldout.txt");
        if (Files.isRegularFile(shapeHeldout)) {
            r.put("shape_heldout_accuracy", Files.readString(shapeHeldout).strip());
        }
        r.put("region_form", REGION_FORM.name().toLowerCase(Locale.ROOT));
        r.put("turn_order", TURN_ORDER.name().toLowerCase(Locale.ROOT));
        r.put("tokenizer_mode", TOKENIZER_MODE);
        r.put("conversation", "osprey_v1");
        r.put("stage", 3);
        r.put("lr", LR);
        r.put("epochs", ep);
        r.put("batch_size", BATCH);
        r.put("warmup_ratio", WARMUP);
        r.put("repeat", repeatOrRecipe());
        r.put("freeze", freezeOrRecipe());
        r.put("train_seed", TRAIN_SEED);
        r.put("eval_world_seed", EVAL_WORLD_SEED);
        r.put("eval_images", evalN);
        r.put("wall_seconds", Math.round(secs));
        r.put("threads", Runtime.getRuntime().availableProcessors());
        Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(r) + "\n");
    }

    private String repeatOrRecipe() {
        return repeat == null ? REPEAT : repeat;
    }

    private String freezeOrRecipe() {
        return freeze == null ? FREEZE : freeze;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
