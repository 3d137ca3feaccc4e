package osprey4j.core.tensor;

/** Scalar conversions between float and the 16-bit float formats, rounding as PyTorch does. */
public final class Floats {
    private Floats() {
    }

    /** bfloat16 bits to float: the bf16 bits are the top half of the float's bits. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float to bfloat16 bits with round-to-nearest-even; NaN stays a (quiet) NaN, as torch does. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** IEEE half bits to float. */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** float to IEEE half bits, round-to-nearest-even. */
    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }
}
