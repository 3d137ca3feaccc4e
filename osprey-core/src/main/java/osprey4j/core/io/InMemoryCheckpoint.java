package osprey4j.core.io;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import osprey4j.core.tensor.Tensor;

/**
 * A read-only checkpoint over tensors already in memory (random weights made for benchmarks and tests), listed
 * in the order they were given; {@code label} stands where a file name would.
 */
public final class InMemoryCheckpoint implements Checkpoint {
    private final Path label;
    private final Map<String, Tensor> tensors;

    public InMemoryCheckpoint(String label, Map<String, Tensor> tensors) {
        this.label = Path.of(label);
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors.entrySet().stream()
                .map(e -> new TensorInfo(e.getKey(), e.getValue().dtype(), e.getValue().shape(), label)).toList();
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        Tensor t = tensor(name);
        return new TensorInfo(name, t.dtype(), t.shape(), label);
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException("no tensor '" + name + "' in " + label);
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
}
