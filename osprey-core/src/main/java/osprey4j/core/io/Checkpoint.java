package osprey4j.core.io;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * A set of named tensors read from disk: one safetensors file, one PyTorch {@code torch.save} file, or a
 * sharded Hugging Face directory. Open one with {@link Checkpoints#open}.
 *
 * <p>Tensor data is memory-mapped: {@link #tensor} returns tensors that view the file where the layout
 * allows (no copy) and are valid only until {@link #close}, which unmaps the file. Copy a tensor
 * ({@link Tensor#copy()}) to keep it longer. Instances are safe to read from several threads.
 */
public interface Checkpoint extends AutoCloseable {
    /** Every tensor, in the file's (or index's) order. */
    List<TensorInfo> tensors();

    boolean contains(String name);

    /** The description of {@code name}; throws {@link CheckpointException} naming the key if it is absent. */
    TensorInfo info(String name);

    /** The tensor {@code name}; throws {@link CheckpointException} naming the key if it is absent. */
    Tensor tensor(String name);

    /**
     * The model weight {@code name}, which must exist, have exactly {@code expectedShape} and a float dtype the
     * kernels read in place (F32, F16 or BF16). A wrong checkpoint thus fails at load time with one line naming
     * the key, the expected and the found shape, and the file, instead of deep inside a kernel.
     */
    default Tensor weight(String name, long... expectedShape) {
        if (!contains(name)) {
            List<TensorInfo> all = tensors();
            throw new CheckpointException("missing weight '" + name + "' (expected shape "
                    + Arrays.toString(expectedShape) + ")"
                    + (all.isEmpty() ? " (the checkpoint has no tensors)" : " in " + all.getFirst().file()));
        }
        TensorInfo info = info(name);
        if (!Arrays.equals(info.shape(), expectedShape)) {
            throw new CheckpointException("weight '" + name + "' has the wrong shape: expected "
                    + Arrays.toString(expectedShape) + ", found " + Arrays.toString(info.shape()) + " in " + info.file());
        }
        DType d = info.dtype();
        if (!d.isWeightType()) {
            throw new CheckpointException("weight '" + name + "' is " + d + "; expected " + DType.weightTypeNames() + ", in "
                    + info.file());
        }
        return tensor(name);
    }

    /**
     * The weight of a {@code Linear} layer: as {@link #weight}, but the block-quantised Q8_0 and Q4_0 are accepted
     * too (the products read them in place; see {@link DType#isLinearWeightType()}).
     */
    default Tensor linearWeight(String name, long... expectedShape) {
        if (contains(name)) {
            TensorInfo info = info(name);
            if (info.dtype().isBlockQuantized() && Arrays.equals(info.shape(), expectedShape)) {
                return tensor(name);
            }
            if (!info.dtype().isLinearWeightType() && Arrays.equals(info.shape(), expectedShape)) {
                throw new CheckpointException("weight '" + name + "' is " + info.dtype() + "; expected "
                        + DType.linearWeightTypeNames() + ", in " + info.file());
            }
        }
        return weight(name, expectedShape);
    }

    /**
     * Free-form string metadata: a safetensors {@code __metadata__} block, a sharded index's
     * {@code metadata}, or the non-tensor scalar entries of a torch file (such as {@code epoch}).
     */
    Map<String, String> metadata();

    /** Releases the file mappings; tensors obtained from this checkpoint must not be used afterwards. */
    @Override
    void close();
}
