package osprey4j.train;

/**
 * The hyper-parameters of a training run, defaulting to what the reference's scripts give HF Trainer
 * (transformers 4.31, {@code scripts/stage2.sh}/{@code stage3.sh}): torch AdamW with betas 0.9/0.999, eps 1e-8,
 * weight decay 0, a cosine schedule with 3% warmup, gradient clipping at 1.0, no gradient accumulation.
 * The learning rate defaults to the stage's ({@link Stage#learningRate()}); every field can be overridden with
 * the {@code with*} methods or the canonical constructor.
 *
 * @param warmupSteps a fixed warmup length; 0 = use {@code warmupRatio} (HF's rule)
 * @param maxGradNorm 0 or less disables clipping, as in HF Trainer
 */
public record TrainConfig(Stage stage, double learningRate, double weightDecay, double beta1, double beta2, double eps,
                          String schedule, double warmupRatio, int warmupSteps, double maxGradNorm,
                          int gradientAccumulation, int epochs, int batchSize, long seed) {
    public TrainConfig {
        if (stage == null) {
            throw new IllegalArgumentException("a training stage is required");
        }
        if (!(learningRate >= 0)) {
            throw new IllegalArgumentException("learning rate must be >= 0, got " + learningRate);
        }
        if (gradientAccumulation < 1 || epochs < 1 || batchSize < 1) {
            throw new IllegalArgumentException("gradient accumulation, epochs and batch size must be at least 1");
        }
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
            throw new IllegalArgumentException("warmup ratio must be in [0, 1], got " + warmupRatio);
        }
        new osprey4j.train.optim.LrSchedule(schedule, 0, 0); // validates the name
    }

    /** The reference's settings for a stage (1, 2 or 3 as {@link Stage}). */
    public static TrainConfig forStage(Stage stage) {
        return new TrainConfig(stage, stage.learningRate(), 0.0, 0.9, 0.999, 1e-8, "cosine", 0.03, 0, 1.0, 1, 2, 1, 42);
    }

    public TrainConfig withLearningRate(double lr) {
        return new TrainConfig(stage, lr, weightDecay, beta1, beta2, eps, schedule, warmupRatio, warmupSteps, maxGradNorm,
                gradientAccumulation, epochs, batchSize, seed);
    }

    public TrainConfig withWeightDecay(double wd) {
        return new TrainConfig(stage, learningRate, wd, beta1, beta2, eps, schedule, warmupRatio, warmupSteps, maxGradNorm,
                gradientAccumulation, epochs, batchSize, seed);
    }

    public TrainConfig withSchedule(String type, double ratio, int steps) {
        return new TrainConfig(stage, learningRate, weightDecay, beta1, beta2, eps, type, ratio, steps, maxGradNorm,
                gradientAccumulation, epochs, batchSize, seed);
    }

    public TrainConfig withMaxGradNorm(double norm) {
        return new TrainConfig(stage, learningRate, weightDecay, beta1, beta2, eps, schedule, warmupRatio, warmupSteps, norm,
                gradientAccumulation, epochs, batchSize, seed);
    }

    public TrainConfig withBatching(int batch, int accumulation, int epochCount) {
        return new TrainConfig(stage, learningRate, weightDecay, beta1, beta2, eps, schedule, warmupRatio, warmupSteps,
                maxGradNorm, accumulation, epochCount, batch, seed);
    }

    /** HF Trainer's optimiser steps: floor(samples / batch / accumulation) per epoch (at least 1), times epochs. */
    public int totalSteps(int samples) {
        int batches = (samples + batchSize - 1) / batchSize; // the dataloader keeps the last partial batch
        return Math.max(1, batches / gradientAccumulation) * epochs;
    }
}
