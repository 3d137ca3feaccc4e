package osprey4j.core.tensor;

import java.util.Locale;

/**
 * Element types a {@link Tensor} can hold. Floating types are what models compute with; integer and
 * boolean types appear in checkpoints (position ids, masks, counters) and are carried as data.
 *
 * <p>Sizes are per block: a plain type is a block of one element; the block-quantised types store
 * {@link #blockSize()} weights in {@link #blockBytes()} bytes, GGML's layouts:
 * <ul>
 *   <li>{@link #Q8_0}: 32 weights as an f16 scale d then 32 int8 q; weight i is {@code d * q[i]} (34 bytes);</li>
 *   <li>{@link #Q4_0}: 32 weights as an f16 scale d then 16 bytes of nibbles; byte j holds weight j in its low
 *       nibble and weight j + 16 in its high nibble, each {@code d * (nibble - 8)} (18 bytes).</li>
 * </ul>
 * A block type's rows (the last dimension) must be whole blocks, so that a row view starts on a block.
 * Byte counts go through {@link #bytesFor(long)}, which refuses element counts that are not whole blocks.
 */
public enum DType {
    F32(4, 1, true),
    F16(2, 1, true),
    BF16(2, 1, true),
    F64(8, 1, true),
    I64(8, 1, false),
    I32(4, 1, false),
    I16(2, 1, false),
    I8(1, 1, false),
    U8(1, 1, false),
    BOOL(1, 1, false),
    Q8_0(34, 32, true),
    Q4_0(18, 32, true);

    private final int blockBytes;
    private final int blockSize;
    private final boolean floating;

    DType(int blockBytes, int blockSize, boolean floating) {
        this.blockBytes = blockBytes;
        this.blockSize = blockSize;
        this.floating = floating;
    }

    /** Elements per block: 1 for plain types, 32 for Q8_0 and Q4_0. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block (for a plain type, per element). */
    public int blockBytes() {
        return blockBytes;
    }

    /** True for the block-quantised types, whose elements have no byte of their own. */
    public boolean isBlockQuantized() {
        return blockSize > 1;
    }

    /**
     * Bytes per element of a plain type.
     *
     * @throws IllegalStateException for a block-quantised type (use {@link #bytesFor(long)})
     */
    public int byteSize() {
        if (blockSize != 1) {
            throw new IllegalStateException(this + " stores " + blockSize + " elements in " + blockBytes
                    + " bytes; it has no per-element size");
        }
        return blockBytes;
    }

    /**
     * Bytes that {@code numel} elements take.
     *
     * @throws IllegalArgumentException if numel is negative or not a whole number of blocks
     * @throws ArithmeticException      if the size overflows a long
     */
    public long bytesFor(long numel) {
        requireWholeBlocks(numel);
        return Math.multiplyExact(numel / blockSize, (long) blockBytes);
    }

    /** Checks that {@code numel} elements are a whole number of blocks. */
    public void requireWholeBlocks(long numel) {
        if (numel < 0) {
            throw new IllegalArgumentException("negative element count " + numel);
        }
        if (numel % blockSize != 0) {
            throw new IllegalArgumentException(this + " stores elements in blocks of " + blockSize + "; " + numel
                    + " is not a multiple of " + blockSize);
        }
    }

    public boolean isFloatingPoint() {
        return floating;
    }

    /**
     * The types weights are taken in: F32, F16 and BF16, which every kernel reads in place. The one list that
     * checkpoint checks, kernels and commands consult; a {@code Linear} weight may also be block-quantised
     * ({@link #isLinearWeightType()}).
     */
    public boolean isWeightType() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The weight types, for messages: "F32, F16 or BF16". */
    public static String weightTypeNames() {
        return "F32, F16 or BF16";
    }

    /**
     * The types a {@code Linear} layer's weight may have: the {@link #isWeightType() weight types} and the
     * block-quantised Q8_0 and Q4_0, which the products ({@code Gemm.linear} and its one-row path) read in place.
     */
    public boolean isLinearWeightType() {
        return isWeightType() || isBlockQuantized();
    }

    /** The linear weight types, for messages. */
    public static String linearWeightTypeNames() {
        return "F32, F16, BF16, Q8_0 or Q4_0";
    }

    /**
     * The alignment in bytes that tensors of this type want in a file: the element size, or 2 for the
     * block-quantised types (their blocks start with an f16 scale and have an even size).
     */
    public int alignment() {
        return blockSize == 1 ? blockBytes : 2;
    }

    /** The safetensors {@code __metadata__} key under which a file records a block type's layout. */
    public String blockLayoutKey() {
        return "block_layout." + name();
    }

    /**
     * The block layout of a block-quantised type, as recorded in the {@code __metadata__} of a safetensors file
     * that holds such tensors ("Q8_0" and "Q4_0" are no standard safetensors dtypes, so a reader checks that
     * the file means the same layout); null for a plain type.
     */
    public String blockLayout() {
        return switch (this) {
            case Q8_0 -> "ggml q8_0: blocks of 32 weights in 34 bytes, f16 scale d (little-endian) then 32 int8 q;"
                    + " weight i = d * q[i]";
            case Q4_0 -> "ggml q4_0: blocks of 32 weights in 18 bytes, f16 scale d (little-endian) then 16 bytes b;"
                    + " weight i = d * ((b[i] & 15) - 8), weight i+16 = d * ((b[i] >> 4) - 8) for i < 16";
            default -> null;
        };
    }

    /** The dtype string used in safetensors headers ("F32", "BF16", "I64", ... and "Q8_0", "Q4_0"). */
    public String safetensorsName() {
        return name();
    }

    /** Parses a safetensors dtype string; returns null for one this engine does not know. */
    public static DType fromSafetensorsName(String name) {
        if (name == null) {
            return null;
        }
        return switch (name.toUpperCase(Locale.ROOT)) {
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            case "F64" -> F64;
            case "I64" -> I64;
            case "I32" -> I32;
            case "I16" -> I16;
            case "I8" -> I8;
            case "U8" -> U8;
            case "BOOL" -> BOOL;
            case "Q8_0" -> Q8_0;
            case "Q4_0" -> Q4_0;
            default -> null;
        };
    }
}
