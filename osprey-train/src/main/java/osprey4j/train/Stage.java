package osprey4j.train;

/**
 * The reference's stage-wise freezing ({@code osprey/train/train.py} and {@code scripts/stage*.sh}):
 * <ul>
 *   <li>{@link #PROJECTOR} (stage 1, {@code tune_mm_mlp_adapter}): {@code model.requires_grad_(False)}, then
 *       only {@code mm_projector} trains;</li>
 *   <li>{@link #MASK_EXTRACTOR} (stage 2, {@code TRAIN_MASK_MODULE=1}, lr 2e-5): only parameters whose name
 *       contains {@code mask_extractor};</li>
 *   <li>{@link #FULL} (stage 3, lr 1e-5): everything but the CLIP tower (which is never a parameter here).</li>
 * </ul>
 */
public enum Stage {
    PROJECTOR(1e-3), MASK_EXTRACTOR(2e-5), FULL(1e-5);

    private final double learningRate;

    Stage(double learningRate) {
        this.learningRate = learningRate;
    }

    /** The stage's learning rate in the reference scripts (stage 1's comes from LLaVA's pretraining recipe). */
    public double learningRate() {
        return learningRate;
    }

    /** Whether the parameter of this checkpoint name trains in this stage. */
    public boolean trains(String name) {
        return switch (this) {
            case PROJECTOR -> name.contains("mm_projector");
            case MASK_EXTRACTOR -> name.contains("mask_extractor");
            case FULL -> true;
        };
    }

    /** 1, 2 or 3. */
    public static Stage of(int number) {
        return switch (number) {
            case 1 -> PROJECTOR;
            case 2 -> MASK_EXTRACTOR;
            case 3 -> FULL;
            default -> throw new IllegalArgumentException("training stage must be 1, 2 or 3, got " + number);
        };
    }
}
