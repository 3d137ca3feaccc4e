package osprey4j.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;
import osprey4j.core.kernels.VectorConvert;

/**
 * A dense, row-major (C-order) n-dimensional array over a {@link MemorySegment}.
 *
 * <p>The segment may be memory-mapped from a checkpoint (weights are then used in place, never copied),
 * allocated off-heap, or wrap a Java array. A tensor is always contiguous: views along the first
 * dimension ({@link #row}, {@link #slice}) and {@link #reshape} share the segment without copying, and
 * anything that would need strides (a transpose, a column slice) is done by a kernel that writes a new
 * tensor. Element accessors are for tests, I/O and set-up code; hot loops use the kernels in
 * {@code osprey4j.core.kernels}, which read the segment with the Vector API.
 *
 * <p>All multi-byte values are little-endian, as in safetensors and torch files; accesses are unaligned-safe
 * because checkpoint data need not be aligned.
 */
public final class Tensor {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED;
    static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private final DType dtype;
    private final long[] shape;
    private final long numel;
    private final MemorySegment segment;

    private Tensor(DType dtype, long[] shape, MemorySegment segment) {
        this.dtype = dtype;
        this.shape = shape;
        this.numel = numel(shape);
        this.segment = segment;
    }

    /** Wraps {@code segment} (exactly numel x element size bytes) as a tensor of the given shape. */
    public static Tensor of(DType dtype, MemorySegment segment, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(segment, "segment");
        long[] s = shape.clone();
        long bytes = byteSize(dtype, s);
        if (segment.byteSize() != bytes) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes cannot hold a "
                    + dtype + " tensor of shape " + Arrays.toString(s) + " (" + bytes + " bytes)");
        }
        return new Tensor(dtype, s, segment);
    }

    /** Set on the calling thread by {@link #allocatingIn}. */
    private static final ThreadLocal<Arena> SCRATCH = new ThreadLocal<>();

    /**
     * A zero-filled tensor in off-heap memory (64-byte aligned) owned by the garbage collector, or by the arena
     * that {@link #allocatingIn} names on this thread.
     */
    public static Tensor zeros(DType dtype, long... shape) {
        long bytes = byteSize(dtype, shape);
        Arena scratch = SCRATCH.get();
        return new Tensor(dtype, shape.clone(), (scratch != null ? scratch : Arena.ofAuto()).allocate(bytes, 64));
    }

    /**
     * Runs {@code work} with every {@link #zeros(DType, long...)} of the calling thread (directly or in the kernels
     * it calls on this thread) allocated in {@code arena}, so that the arena's owner frees the temporaries when it
     * closes it rather than the garbage collector some time later. A SAM click allocates about 40 MB of them:
     * freed at once, the next click's allocations reuse the same warm memory; left to the collector, each click
     * touches fresh pages, and zeroing them cost most of a click. Nothing allocated inside may outlive the arena:
     * results that escape are copied out (an access after the arena closes fails, it does not read stale memory).
     * Threads of the compute pool keep allocating as usual. Scopes nest; the innermost arena wins.
     */
    public static <T> T allocatingIn(Arena arena, Supplier<T> work) {
        Objects.requireNonNull(arena, "arena");
        Arena before = SCRATCH.get();
        SCRATCH.set(arena);
        try {
            return work.get();
        } finally {
            if (before == null) {
                SCRATCH.remove();
            } else {
                SCRATCH.set(before);
            }
        }
    }

    /** A zero-filled tensor allocated in the given arena (its lifetime is the arena's). */
    public static Tensor zeros(Arena arena, DType dtype, long... shape) {
        long bytes = byteSize(dtype, shape);
        return new Tensor(dtype, shape.clone(), arena.allocate(bytes, 64));
    }

    /** An F32 tensor viewing a Java array (no copy; writes go to the array). */
    public static Tensor wrap(float[] data, long... shape) {
        if (numel(shape) != data.length) {
            throw new IllegalArgumentException("array of " + data.length + " floats does not match shape "
                    + Arrays.toString(shape));
        }
        return new Tensor(DType.F32, shape.clone(), MemorySegment.ofArray(data));
    }

    /** An F32 tensor holding a copy of {@code data}, off-heap. */
    public static Tensor copyOf(float[] data, long... shape) {
        Tensor t = zeros(DType.F32, shape);
        if (numel(shape) != data.length) {
            throw new IllegalArgumentException("array of " + data.length + " floats does not match shape "
                    + Arrays.toString(shape));
        }
        MemorySegment.copy(data, 0, t.segment, F32_LE, 0, data.length);
        return t;
    }

    public DType dtype() {
        return dtype;
    }

    /** The shape (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code d}; negative d counts from the end. */
    public long dim(int d) {
        return shape[d < 0 ? shape.length + d : d];
    }

    /** Size of dimension {@code d} as an int, for kernels that index arrays. */
    public int size(int d) {
        return Math.toIntExact(dim(d));
    }

    public long numel() {
        return numel;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    /** The backing memory: numel x element size bytes, row-major, little-endian. */
    public MemorySegment segment() {
        return segment;
    }

    /** The same memory seen with another shape of the same element count (and rows of whole blocks). */
    public Tensor reshape(long... newShape) {
        if (numel(newShape) != numel) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to "
                    + Arrays.toString(newShape));
        }
        byteSize(dtype, newShape);
        return new Tensor(dtype, newShape.clone(), segment);
    }

    /** Rows [from, to) along the first dimension, sharing memory. */
    public Tensor slice(long from, long to) {
        if (shape.length == 0) {
            throw new IllegalStateException("cannot slice a scalar");
        }
        Objects.checkFromToIndex(from, to, shape[0]);
        long rowBytes = dtype.bytesFor(rowElements());
        long[] s = shape.clone();
        s[0] = to - from;
        return new Tensor(dtype, s, segment.asSlice(from * rowBytes, (to - from) * rowBytes));
    }

    /** Row {@code i} along the first dimension (one rank lower), sharing memory. */
    public Tensor row(long i) {
        if (shape.length == 0) {
            throw new IllegalStateException("cannot index a scalar");
        }
        Objects.checkIndex(i, shape[0]);
        long rowElems = rowElements();
        long rowBytes = dtype.bytesFor(rowElems);
        return new Tensor(dtype, Arrays.copyOfRange(shape, 1, shape.length), segment.asSlice(i * rowBytes, rowBytes));
    }

    /** Elements per index of the first dimension. */
    private long rowElements() {
        long n = 1;
        for (int d = 1; d < shape.length; d++) {
            n *= shape[d];
        }
        return n;
    }

    /** Element {@code index} (flat, row-major) converted to float (dequantised for the block types). */
    public float getFloat(long index) {
        Objects.checkIndex(index, numel);
        return dtype.isFloatingPoint() ? VectorConvert.scalar(dtype, segment, index) : getLong(index);
    }

    /** Element {@code index} as a long (integer types; floats are truncated toward zero). */
    public long getLong(long index) {
        Objects.checkIndex(index, numel);
        return switch (dtype) {
            case I64 -> segment.getAtIndex(I64_LE, index);
            case I32 -> segment.getAtIndex(I32_LE, index);
            case I16 -> segment.getAtIndex(I16_LE, index);
            case I8 -> segment.get(ValueLayout.JAVA_BYTE, index);
            case U8, BOOL -> segment.get(ValueLayout.JAVA_BYTE, index) & 0xFF;
            case F64 -> (long) segment.getAtIndex(F64_LE, index);
            default -> (long) getFloat(index);
        };
    }

    /** Stores {@code value} at flat index {@code index}, rounding to this tensor's dtype. */
    public void setFloat(long index, float value) {
        Objects.checkIndex(index, numel);
        switch (dtype) {
            case F32 -> segment.setAtIndex(F32_LE, index, value);
            case F16 -> segment.setAtIndex(I16_LE, index, Floats.floatToF16(value));
            case BF16 -> segment.setAtIndex(I16_LE, index, Floats.floatToBf16(value));
            case F64 -> segment.setAtIndex(F64_LE, index, value);
            case I64 -> segment.setAtIndex(I64_LE, index, (long) value);
            case I32 -> segment.setAtIndex(I32_LE, index, (int) value);
            case I16 -> segment.setAtIndex(I16_LE, index, (short) value);
            case I8, U8 -> segment.set(ValueLayout.JAVA_BYTE, index, (byte) value);
            case BOOL -> segment.set(ValueLayout.JAVA_BYTE, index, (byte) (value != 0 ? 1 : 0));
            case Q8_0, Q4_0 -> throw new UnsupportedOperationException("cannot store one element of a " + dtype
                    + " tensor (its elements share a block scale)");
        }
    }

    /** All elements converted to float, row-major. */
    public float[] toFloatArray() {
        int n = Math.toIntExact(numel);
        float[] out = new float[n];
        if (dtype.isFloatingPoint()) {
            VectorConvert.toFloats(dtype, segment, 0, out, 0, n);
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = getFloat(i);
            }
        }
        return out;
    }

    /** A copy converted to {@code target} (rounding to nearest-even for the 16-bit floats). */
    public Tensor to(DType target) {
        Tensor out = zeros(target, shape);
        if (target == dtype) {
            MemorySegment.copy(segment, 0, out.segment, 0, segment.byteSize());
            return out;
        }
        if (dtype == DType.F32 && (target == DType.BF16 || target == DType.F16)) {
            osprey4j.core.kernels.VectorConvert.fromFloats(target, segment, 0, out.segment, 0, numel);
            return out;
        }
        for (long i = 0; i < numel; i++) {
            out.setFloat(i, getFloat(i));
        }
        return out;
    }

    /** A contiguous off-heap copy (useful to detach from a mapped file). */
    public Tensor copy() {
        return to(dtype);
    }

    /**
     * Bytes a tensor of {@code dtype} and {@code shape} takes. For a block-quantised type the last dimension
     * (a row) must be whole blocks, so that every row view starts on a block.
     *
     * @throws IllegalArgumentException for a negative dimension or rows that are not whole blocks
     * @throws ArithmeticException      if the size overflows a long
     */
    public static long byteSize(DType dtype, long... shape) {
        long n = numel(shape);
        if (dtype.isBlockQuantized()) {
            if (shape.length == 0) {
                throw new IllegalArgumentException("a " + dtype + " tensor needs rows of whole blocks, not a scalar");
            }
            try {
                dtype.requireWholeBlocks(shape[shape.length - 1]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("rows of shape " + Arrays.toString(shape) + ": " + e.getMessage());
            }
        }
        return dtype.bytesFor(n);
    }

    public static long numel(long... shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + Arrays.toString(shape) + "]";
    }
}
