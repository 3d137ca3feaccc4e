package osprey4j.train;

import java.util.Arrays;
import java.util.Objects;

/**
 * One trainable tensor: its checkpoint name, F32 values and (when trainable) the gradient accumulated by the
 * backward passes. Row-major like the checkpoint's tensor; training owns these copies, the inference classes
 * never see them.
 */
public final class Param {
    private final String name;
    private final long[] shape;
    private final float[] value;
    private float[] grad;
    private boolean trainable;

    public Param(String name, float[] value, long... shape) {
        this.name = Objects.requireNonNull(name, "name");
        this.shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (value.length != n) {
            throw new IllegalArgumentException(name + ": " + value.length + " values for shape " + Arrays.toString(shape));
        }
        this.value = value;
    }

    public String name() {
        return name;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int size() {
        return value.length;
    }

    /** The values, updated in place by the optimiser. */
    public float[] value() {
        return value;
    }

    /** The accumulated gradient, or null while the parameter is frozen. */
    public float[] grad() {
        return grad;
    }

    public boolean trainable() {
        return trainable;
    }

    /** Freezes or unfreezes; unfreezing allocates a zero gradient, freezing drops it. */
    public void setTrainable(boolean trainable) {
        this.trainable = trainable;
        if (trainable && grad == null) {
            grad = new float[value.length];
        } else if (!trainable) {
            grad = null;
        }
    }

    public void zeroGrad() {
        if (grad != null) {
            Arrays.fill(grad, 0f);
        }
    }

    /** Whether torch's AdamW as HF Trainer groups it applies weight decay: every weight but biases. */
    public boolean decays() {
        return !name.contains("bias");
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + (trainable ? "" : " (frozen)");
    }
}
