package osprey4j.model.vision;

import java.util.Arrays;
import java.util.List;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.io.TensorInfo;
import osprey4j.core.tensor.Tensor;

/**
 * Looks up the weights of the vision modules with the checks that make a wrong checkpoint fail at load time
 * with one clear line (the key, the expected shape, the shape found) instead of deep inside a kernel.
 */
final class Weights {
    private Weights() {
    }

    /** {@link Checkpoint#weight}: the weight {@code key} with exactly {@code expected} as its shape. */
    static Tensor require(Checkpoint checkpoint, String key, long... expected) {
        return checkpoint.weight(key, expected);
    }

    /** The shape of {@code key}, which must exist and have {@code rank} dimensions. */
    static long[] shapeOf(Checkpoint checkpoint, String key, int rank) {
        if (!checkpoint.contains(key)) {
            throw new CheckpointException("missing weight '" + key + "'" + where(checkpoint));
        }
        TensorInfo info = checkpoint.info(key);
        long[] shape = info.shape();
        if (shape.length != rank) {
            throw new CheckpointException("weight '" + key + "' has the wrong shape: expected " + rank
                    + " dimensions, found " + Arrays.toString(shape) + " in " + info.file());
        }
        return shape;
    }

    /** The keys of {@code checkpoint} that end with {@code suffix}, in file order. */
    static List<String> keysEndingWith(Checkpoint checkpoint, String suffix) {
        return checkpoint.tensors().stream().map(TensorInfo::name).filter(n -> n.endsWith(suffix)).toList();
    }

    /** " in FILE" for error messages, naming the file of the checkpoint's first tensor. */
    static String where(Checkpoint checkpoint) {
        List<TensorInfo> all = checkpoint.tensors();
        return all.isEmpty() ? " (the checkpoint has no tensors)" : " in " + all.getFirst().file();
    }

    /** "prefix." for a prefix given with or without its final dot ("" stays ""). */
    static String withDot(String prefix) {
        return prefix.isEmpty() || prefix.endsWith(".") ? prefix : prefix + ".";
    }
}
