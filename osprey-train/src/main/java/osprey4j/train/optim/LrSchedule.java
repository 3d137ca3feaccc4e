package osprey4j.train.optim;

/**
 * transformers' learning-rate schedules as multipliers of the base rate for optimiser step {@code step}
 * (0-based: HF Trainer's LambdaLR gives the first step lambda(0), which is 0 during warmup).
 * {@code cosine} is {@code get_cosine_schedule_with_warmup} (half a cosine, num_cycles 0.5), {@code linear} is
 * {@code get_linear_schedule_with_warmup}, {@code constant} is {@code get_constant_schedule_with_warmup}.
 */
public record LrSchedule(String type, int warmupSteps, int totalSteps) {
    public LrSchedule {
        if (!type.equals("cosine") && !type.equals("linear") && !type.equals("constant")) {
            throw new IllegalArgumentException("lr schedule must be cosine, linear or constant, got '" + type + "'");
        }
        if (warmupSteps < 0 || totalSteps < 0) {
            throw new IllegalArgumentException("negative step counts");
        }
    }

    /** HF TrainingArguments.get_warmup_steps: warmup_steps if > 0, else ceil(total * warmup_ratio). */
    public static int warmupSteps(int totalSteps, int warmupSteps, double warmupRatio) {
        return warmupSteps > 0 ? warmupSteps : (int) Math.ceil(totalSteps * warmupRatio);
    }

    public double multiplier(int step) {
        if (step < warmupSteps) {
            return (double) step / Math.max(1, warmupSteps);
        }
        return switch (type) {
            case "constant" -> 1.0;
            case "linear" -> Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            default -> {
                double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
                yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
            }
        };
    }
}
