package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Floats;
import osprey4j.core.tensor.Tensor;

/** The vector row store to 16-bit floats against the scalar roundings, bit for bit. */
class VectorConvertTest {
    /**
     * Values that exercise every branch of the rounding: ties to even both ways, the carry into the exponent, the
     * largest finite values rounding to infinity, subnormals, signed zeros, infinities and NaNs of both signs with
     * payloads in the low half only (which a plain truncation would turn into infinity).
     */
    private static float[] values(int n) {
        SplittableRandom rnd = new SplittableRandom(3);
        int[] special = {0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001,
            0xFF800001, 0x7F80FFFF, 0x3F808000, 0x3F818000, 0x3F80FFFF, 0x3F7FFFFF, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000,
            0x00000001, 0x00008000, 0x00018000, 0x807FFFFF, 0x38000000, 0x33800000, 0x477FE000, 0x477FF000};
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i < special.length ? Float.intBitsToFloat(special[i])
                    : i % 3 == 0 ? Float.intBitsToFloat(rnd.nextInt()) : (float) rnd.nextGaussian() * 100f;
        }
        return v;
    }

    @Test
    void roundsToBf16AndF16AsTheScalarConversions() {
        for (int n : new int[] {0, 1, 7, 8, 15, 16, 17, 33, 1000}) {
            float[] v = values(n);
            MemorySegment src = Arena.ofAuto().allocate(4L * n + 12);
            MemorySegment.copy(v, 0, src, ValueLayout.JAVA_FLOAT_UNALIGNED, 12, n); // unaligned offsets both sides
            MemorySegment dst = Arena.ofAuto().allocate(2L * n + 6);
            VectorConvert.fromFloats(DType.BF16, src, 12, dst, 6, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Floats.floatToBf16(v[i]), dst.get(ValueLayout.JAVA_SHORT_UNALIGNED, 6 + 2L * i),
                        "bf16 of " + Integer.toHexString(Float.floatToRawIntBits(v[i])) + " (n " + n + ", " + i + ")");
            }
            VectorConvert.fromFloats(DType.F16, src, 12, dst, 6, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToFloat16(v[i]), dst.get(ValueLayout.JAVA_SHORT_UNALIGNED, 6 + 2L * i),
                        "f16 of " + v[i]);
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> VectorConvert.fromFloats(DType.Q8_0, MemorySegment.NULL, 0, MemorySegment.NULL, 0, 0));
    }

    @Test
    void tensorConversionToSixteenBitsKeepsEveryElementsRounding() {
        float[] v = values(123);
        Tensor t = Tensor.copyOf(v, 3, 41);
        for (DType target : new DType[] {DType.BF16, DType.F16}) {
            Tensor converted = t.to(target);
            for (int i = 0; i < v.length; i++) {
                short expected = target == DType.BF16 ? Floats.floatToBf16(v[i]) : Float.floatToFloat16(v[i]);
                assertEquals(expected, converted.segment().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i),
                        target + " element " + i);
            }
        }
    }
}
