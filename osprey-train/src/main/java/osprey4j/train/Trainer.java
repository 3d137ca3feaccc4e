package osprey4j.train;

import java.util.List;
import java.util.Objects;
import osprey4j.core.kernels.Gemm;
import osprey4j.train.optim.AdamW;
import osprey4j.train.optim.GradClip;
import osprey4j.train.optim.LrSchedule;

/**
 * One optimiser step as HF Trainer does it: zero the gradients, run each micro-batch forward and backward with
 * its loss divided by the accumulation count, clip the global gradient norm, AdamW at the scheduled rate.
 * Every trainable parameter takes part in every step, with a zero gradient when the step's batches did not
 * reach it (e.g. the mask extractor for samples without regions): this is how the reference's DeepSpeed ZeRO-2
 * runs behave (gradients live in flat partitions); plain torch with {@code zero_grad(set_to_none=True)} would
 * instead skip such parameters.
 * <pre>
 *   TrainableOsprey model = TrainableOsprey.load(dir);          // or random(dims, seed)
 *   Trainer trainer = new Trainer(model, maskTokenId, TrainConfig.forStage(Stage.FULL), totalSteps);
 *   Trainer.StepResult r = trainer.step(List.of(microBatch1, microBatch2));   // each a List&lt;TrainSample&gt;
 *   SafetensorsWriter.write(out, model.stateDict());
 * </pre>
 */
public final class Trainer {
    /**
     * @param loss     HF's logged loss for the step: the mean of the micro-batches' losses
     * @param gradNorm the global gradient norm before clipping
     * @param lr       the learning rate the step used
     */
    public record StepResult(int step, double loss, int tokens, double gradNorm, double lr, long nanos) {
    }

    private final TrainableOsprey model;
    private final OspreyLoss loss;
    private final TrainConfig config;
    private final AdamW adam;
    private final LrSchedule schedule;
    private int step;

    /** Freezes the model for the config's stage. {@code totalSteps} sizes the schedule. */
    public Trainer(TrainableOsprey model, int maskTokenId, TrainConfig config, int totalSteps) {
        this.model = Objects.requireNonNull(model, "model");
        this.config = Objects.requireNonNull(config, "config");
        model.freezeFor(config.stage());
        this.loss = new OspreyLoss(model, maskTokenId);
        this.adam = new AdamW(config.beta1(), config.beta2(), config.eps(), config.weightDecay());
        this.schedule = new LrSchedule(config.schedule(),
                LrSchedule.warmupSteps(totalSteps, config.warmupSteps(), config.warmupRatio()), totalSteps);
    }

    public LrSchedule schedule() {
        return schedule;
    }

    public AdamW optimizer() {
        return adam;
    }

    public int stepsTaken() {
        return step;
    }

    /** Continues a run from a saved state: the next step is {@code stepsTaken + 1} (optimiser state restored apart). */
    public void restoreStepsTaken(int stepsTaken) {
        if (stepsTaken < 0) {
            throw new IllegalArgumentException("steps taken must not be negative, got " + stepsTaken);
        }
        this.step = stepsTaken;
    }

    /** One optimiser step over {@code microBatches} (normally {@link TrainConfig#gradientAccumulation()} of them). */
    public StepResult step(List<List<TrainSample>> microBatches) {
        if (microBatches.isEmpty()) {
            throw new IllegalArgumentException("a step needs at least one micro-batch");
        }
        long start = System.nanoTime();
        model.zeroGrad();
        double scale = 1.0 / microBatches.size();
        double lossSum = 0;
        int tokens = 0;
        for (List<TrainSample> mb : microBatches) {
            // products of 32 rows or more go to OpenBLAS however small (see Gemm.withSmallProductsNative)
            OspreyLoss.Result r = Gemm.withSmallProductsNative(() -> loss.forwardBackward(mb, scale));
            lossSum += r.loss();
            tokens += r.tokens();
        }
        List<Param> trainable = model.trainable();
        double norm = config.maxGradNorm() > 0 ? GradClip.clip(trainable, config.maxGradNorm()) : Double.NaN;
        double lr = config.learningRate() * schedule.multiplier(step);
        adam.step(trainable, lr);
        step++;
        return new StepResult(step, lossSum / microBatches.size(), tokens, norm, lr, System.nanoTime() - start);
    }
}
