package osprey4j.core.io;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * What a checkpoint says about one tensor, known without touching its data.
 *
 * @param name  the state-dict key
 * @param dtype element type
 * @param shape dimensions (row-major); empty for a scalar
 * @param file  the file that holds the data (a shard, for a sharded checkpoint)
 */
public record TensorInfo(String name, DType dtype, long[] shape, Path file) {
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(file, "file");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (product of the shape; 1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Bytes the data takes when contiguous. */
    public long byteSize() {
        return Tensor.byteSize(dtype, shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && file.equals(t.file);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), file);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " in " + file;
    }
}
