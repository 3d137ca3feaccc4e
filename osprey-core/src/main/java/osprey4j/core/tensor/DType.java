package osprey4j.core.tensor;

import java.util.Locale;

/**
 * Element types a {@link Tensor} can hold. Floating types are what models compute with; integer and
 * boolean types appear in checkpoints (position ids, masks, counters) and are carried as data.
 */
public enum DType {
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    F64(8, true),
    I64(8, false),
    I32(4, false),
    I16(2, false),
    I8(1, false),
    U8(1, false),
    BOOL(1, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return floating;
    }

    /** The dtype string used in safetensors headers ("F32", "BF16", "I64", ...). */
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
            default -> null;
        };
    }
}
