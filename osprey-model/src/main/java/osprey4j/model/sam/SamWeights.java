package osprey4j.model.sam;

import java.util.Arrays;
import java.util.List;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.io.TensorInfo;

/** Shape look-ups for reading SAM's modules from a state dict, failing with one line naming the key. */
final class SamWeights {
    private SamWeights() {
    }

    /** The shape of {@code key}, which must exist and have {@code rank} dimensions. */
    static long[] shape(Checkpoint checkpoint, String key, int rank) {
        if (!checkpoint.contains(key)) {
            List<TensorInfo> all = checkpoint.tensors();
            throw new CheckpointException("missing weight '" + key + "'"
                    + (all.isEmpty() ? " (the checkpoint has no tensors)" : " in " + all.getFirst().file()));
        }
        TensorInfo info = checkpoint.info(key);
        if (info.shape().length != rank) {
            throw new CheckpointException("weight '" + key + "' has the wrong shape: expected " + rank
                    + " dimensions, found " + Arrays.toString(info.shape()) + " in " + info.file());
        }
        return info.shape();
    }

    /** How many of {@code prefix + i + suffix}, i = 0, 1, ..., exist. */
    static int count(Checkpoint checkpoint, String prefix, String suffix) {
        int n = 0;
        while (checkpoint.contains(prefix + n + suffix)) {
            n++;
        }
        return n;
    }
}
