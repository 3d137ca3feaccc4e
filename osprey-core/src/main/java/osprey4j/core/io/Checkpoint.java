package osprey4j.core.io;

import java.util.List;
import java.util.Map;
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
     * Free-form string metadata: a safetensors {@code __metadata__} block, a sharded index's
     * {@code metadata}, or the non-tensor scalar entries of a torch file (such as {@code epoch}).
     */
    Map<String, String> metadata();

    /** Releases the file mappings; tensors obtained from this checkpoint must not be used afterwards. */
    @Override
    void close();
}
