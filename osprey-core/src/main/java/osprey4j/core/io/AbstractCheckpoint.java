package osprey4j.core.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import osprey4j.core.tensor.Tensor;

/** The name bookkeeping every checkpoint shares: an ordered name -> info map and the missing-key error. */
abstract class AbstractCheckpoint implements Checkpoint {
    private final String source;
    private final Map<String, TensorInfo> infos = new LinkedHashMap<>();
    private final List<TensorInfo> ordered;
    private final Map<String, String> metadata;

    /** {@code source} names the file or directory in error messages. */
    AbstractCheckpoint(String source, List<TensorInfo> tensors, Map<String, String> metadata) {
        this.source = source;
        for (TensorInfo t : tensors) {
            if (infos.putIfAbsent(t.name(), t) != null) {
                throw new CheckpointException(source + ": tensor name '" + t.name() + "' appears twice");
            }
        }
        this.ordered = List.copyOf(tensors);
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    @Override
    public final List<TensorInfo> tensors() {
        return ordered;
    }

    @Override
    public final boolean contains(String name) {
        return infos.containsKey(name);
    }

    @Override
    public final TensorInfo info(String name) {
        TensorInfo info = infos.get(name);
        if (info == null) {
            throw new CheckpointException(source + ": no tensor named '" + name + "' (the checkpoint has "
                    + infos.size() + " tensors)");
        }
        return info;
    }

    @Override
    public final Tensor tensor(String name) {
        return load(info(name));
    }

    @Override
    public final Map<String, String> metadata() {
        return metadata;
    }

    /** Reads the data of a tensor known to be in this checkpoint. */
    abstract Tensor load(TensorInfo info);
}
