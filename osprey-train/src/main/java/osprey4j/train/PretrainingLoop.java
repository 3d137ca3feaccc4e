package osprey4j.train;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.train.optim.AdamW;
import osprey4j.train.optim.GradClip;
import osprey4j.train.optim.LrSchedule;

/**
 * The step loop the region pretrainings share ({@link TowerPretraining}, {@link MaskShapePretraining}): each step
 * takes {@code imagesPerStep} images of the world in a seeded per-epoch order, zeroes the gradients, lets the
 * pretraining accumulate its loss's gradient over them, clips, and takes an AdamW step on a cosine schedule with
 * warm-up; progress goes to the log every 25 steps.
 *
 * <p>The resumable state is one safetensors file, written atomically every {@code saveEvery} steps: every parameter,
 * its AdamW moments and the number of steps done (metadata {@code step}). A run started again restores it and
 * continues exactly.
 */
final class PretrainingLoop {
    private PretrainingLoop() {
    }

    /** One step's work: accumulate the gradient of the loss over these images into the parameters; return the loss. */
    @FunctionalInterface
    interface StepLoss {
        double lossAndGrad(List<RegionWorld.Source> images) throws IOException;
    }

    /** Runs steps from the saved state (if any) to {@code o.steps()}, logging as "{@code name}: step ...". */
    static void run(String name, List<RegionWorld.Source> train, List<Param> params, TowerPretraining.Options o,
                    Path stateFile, PrintWriter log, StepLoss stepLoss) throws IOException {
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0);
        int start = restore(stateFile, params, adam);
        LrSchedule schedule = new LrSchedule("cosine", LrSchedule.warmupSteps(o.steps(), 0, o.warmupRatio()), o.steps());
        int perEpoch = Math.max(1, train.size() / o.imagesPerStep());
        long t0 = System.nanoTime();
        double recent = 0;
        int recentN = 0;
        for (int step = start; step < o.steps(); step++) {
            for (Param p : params) {
                p.zeroGrad();
            }
            int epoch = step / perEpoch;
            int[] order = TrainingRun.permutation(train.size(), o.seed() * 1_000_003L + epoch);
            List<RegionWorld.Source> images = new ArrayList<>(o.imagesPerStep());
            for (int i = 0; i < o.imagesPerStep(); i++) {
                images.add(train.get(order[((step % perEpoch) * o.imagesPerStep() + i) % train.size()]));
            }
            // the towers' per-image products are small (see Gemm.withSmallProductsNative)
            double loss = Gemm.withSmallProductsNative(() -> stepLoss.lossAndGrad(images));
            GradClip.clip(params, o.maxGradNorm());
            adam.step(params, o.lr() * schedule.multiplier(step));
            recent += loss;
            recentN++;
            int done = step + 1;
            if (done % 25 == 0 || done == o.steps()) {
                double secs = (System.nanoTime() - t0) / 1e9;
                double perStep = secs / (done - start);
                log.printf(Locale.ROOT, "%s: step %d/%d  loss %.4f  %.2f images/s  ETA %.1f min%n", name,
                        done, o.steps(), recent / recentN, o.imagesPerStep() / perStep, perStep * (o.steps() - done) / 60);
                log.flush();
                recent = 0;
                recentN = 0;
            }
            if (done % o.saveEvery() == 0 && done < o.steps()) {
                save(stateFile, params, adam, done);
            }
        }
    }

    /** A trainable F32 copy of the starting model's tensor {@code name}. */
    static Param startingParam(Map<String, Tensor> weights, String name) {
        Tensor t = java.util.Objects.requireNonNull(weights.get(name), () -> "the starting model has no " + name);
        Param p = new Param(name, t.to(DType.F32).toFloatArray().clone(), t.shape());
        p.setTrainable(true);
        return p;
    }

    /** A linear head of {@code outs} x {@code in}, torch's default uniform bound 1/sqrt(in), zero bias, trainable. */
    static Param[] head(String name, int outs, int in, SplittableRandom rnd) {
        double bound = 1 / Math.sqrt(in);
        float[] w = new float[outs * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextDouble(-bound, bound);
        }
        Param weight = new Param(name + ".weight", w, outs, in);
        Param bias = new Param(name + ".bias", new float[outs], outs);
        weight.setTrainable(true);
        bias.setTrainable(true);
        return new Param[] {weight, bias};
    }

    private static void save(Path stateFile, List<Param> params, AdamW adam, int step) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Param p : params) {
            t.put("param." + p.name(), Tensor.wrap(p.value().clone(), p.shape()));
            float[][] mv = adam.moments(p);
            if (mv != null) {
                t.put("adam_m." + p.name(), Tensor.wrap(mv[0].clone(), p.shape()));
                t.put("adam_v." + p.name(), Tensor.wrap(mv[1].clone(), p.shape()));
            }
        }
        Files.createDirectories(stateFile.toAbsolutePath().getParent());
        AtomicFiles.write(stateFile, tmp -> SafetensorsWriter.write(tmp, t, Map.of("step", Integer.toString(step))));
    }

    /** Loads a saved state into the parameters and AdamW; returns the step to continue from (0: none saved). */
    private static int restore(Path stateFile, List<Param> params, AdamW adam) {
        if (stateFile == null || !Files.isRegularFile(stateFile)) {
            return 0;
        }
        try (Checkpoint c = Checkpoints.open(stateFile)) {
            int step = Integer.parseInt(c.metadata().get("step"));
            for (Param p : params) {
                if (!c.contains("param." + p.name())) {
                    throw new IllegalArgumentException(stateFile + " is from another model (no " + p.name() + ")");
                }
                float[] v = c.tensor("param." + p.name()).to(DType.F32).toFloatArray();
                if (v.length != p.size()) {
                    throw new IllegalArgumentException(stateFile + " is from another model (" + p.name() + ")");
                }
                System.arraycopy(v, 0, p.value(), 0, v.length);
                if (c.contains("adam_m." + p.name())) {
                    adam.restore(p, c.tensor("adam_m." + p.name()).to(DType.F32).toFloatArray(),
                            c.tensor("adam_v." + p.name()).to(DType.F32).toFloatArray(), step);
                }
            }
            return step;
        }
    }
}
