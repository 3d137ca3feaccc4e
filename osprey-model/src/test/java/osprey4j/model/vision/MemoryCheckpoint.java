package osprey4j.model.vision;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.io.TensorInfo;
import osprey4j.core.tensor.Tensor;

/** A checkpoint held in memory, for tests that make their own weights. */
final class MemoryCheckpoint implements Checkpoint {
    private static final Path FILE = Path.of("<memory>");
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    MemoryCheckpoint put(String name, Tensor t) {
        tensors.put(name, t);
        return this;
    }

    MemoryCheckpoint remove(String name) {
        tensors.remove(name);
        return this;
    }

    /** A copy whose keys have {@code from} replaced by {@code to} at their start (all keys must start with it). */
    MemoryCheckpoint rekeyed(String from, String to) {
        MemoryCheckpoint out = new MemoryCheckpoint();
        tensors.forEach((k, v) -> out.put(to + k.substring(from.length()), v));
        return out;
    }

    /** A copy holding every tensor of {@code source}. */
    static MemoryCheckpoint copyOf(Checkpoint source) {
        MemoryCheckpoint out = new MemoryCheckpoint();
        source.tensors().forEach(i -> out.put(i.name(), source.tensor(i.name())));
        return out;
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors.entrySet().stream().map(e -> info(e.getKey(), e.getValue())).toList();
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return info(name, tensor(name));
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException("no tensor '" + name + "' in " + FILE);
        }
        return t;
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    @Override
    public void close() {
    }

    private static TensorInfo info(String name, Tensor t) {
        return new TensorInfo(name, t.dtype(), t.shape(), FILE);
    }
}
