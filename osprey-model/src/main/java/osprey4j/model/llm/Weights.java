package osprey4j.model.llm;

import java.util.Arrays;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/** Reads weights from a checkpoint as they are stored (no copy, no conversion), checking their shapes. */
final class Weights {
    private Weights() {
    }

    /**
     * The tensor {@code key} of {@code checkpoint}, which must have exactly {@code shape} and a float dtype the
     * kernels take in place (F32, BF16 or F16).
     */
    static Tensor require(Checkpoint checkpoint, String key, long... shape) {
        if (!checkpoint.contains(key)) {
            throw new CheckpointException("the checkpoint has no '" + key + "' (expected shape " + Arrays.toString(shape)
                    + ")");
        }
        Tensor t = checkpoint.tensor(key);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new CheckpointException("'" + key + "' has shape " + Arrays.toString(t.shape()) + ", expected "
                    + Arrays.toString(shape) + " from config.json");
        }
        DType d = t.dtype();
        if (d != DType.F32 && d != DType.BF16 && d != DType.F16) {
            throw new CheckpointException("'" + key + "' is " + d + "; the decoder takes F32, BF16 or F16 weights");
        }
        return t;
    }
}
