package osprey4j.core.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void viewsShareMemory() {
        float[] data = new float[2 * 3 * 4];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        Tensor t = Tensor.wrap(data, 2, 3, 4);
        Tensor row = t.row(1);
        assertArrayEquals(new long[] {3, 4}, row.shape());
        assertEquals(12f, row.getFloat(0));
        Tensor slice = t.reshape(6, 4).slice(2, 5);
        assertArrayEquals(new long[] {3, 4}, slice.shape());
        assertEquals(8f, slice.getFloat(0));
        slice.setFloat(0, -1f);
        assertEquals(-1f, data[8], "a slice writes through to the original memory");
        assertEquals(-1f, t.getFloat(8));
    }

    @Test
    void rejectsBadShapesAndIndices() {
        Tensor t = Tensor.zeros(DType.F32, 2, 3);
        assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> t.row(2));
        assertThrows(IndexOutOfBoundsException.class, () -> t.slice(1, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(6));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F32, 2, -1));
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(DType.BF16, MemorySegment.ofArray(new byte[5]), 3));
        assertThrows(ArithmeticException.class, () -> Tensor.numel(1L << 40, 1L << 40));
    }

    @Test
    void emptyAndScalarTensors() {
        Tensor empty = Tensor.zeros(DType.F32, 0, 7);
        assertEquals(0, empty.numel());
        assertEquals(0, empty.toFloatArray().length);
        Tensor scalar = Tensor.zeros(DType.I64);
        assertEquals(1, scalar.numel());
        scalar.setFloat(0, 42);
        assertEquals(42L, scalar.getLong(0));
    }

    @Test
    void halfPrecisionConversionsRoundToNearestEven() {
        // Values checked against torch: torch.tensor([...]).to(torch.bfloat16).view(torch.int16)
        assertEquals((short) 0x3F80, Floats.floatToBf16(1.0f));
        // 1 + 2^-8 lies exactly halfway between two bf16 values: ties go to the even one (1.0).
        assertEquals((short) 0x3F80, Floats.floatToBf16(Float.intBitsToFloat(0x3F808000)));
        // 1 + 3*2^-8 is halfway too, and rounds up to the even mantissa 0x3F82.
        assertEquals((short) 0x3F82, Floats.floatToBf16(Float.intBitsToFloat(0x3F818000)));
        assertTrue(Float.isNaN(Floats.bf16ToFloat(Floats.floatToBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, Floats.bf16ToFloat(Floats.floatToBf16(Float.POSITIVE_INFINITY)));
        assertEquals((short) 0x3C00, Floats.floatToF16(1.0f));
        assertEquals(65504f, Floats.f16ToFloat(Floats.floatToF16(65504f)));
        Tensor t = Tensor.copyOf(new float[] {1.5f, -2.25f, 3.0e-3f}, 3);
        Tensor bf = t.to(DType.BF16);
        Tensor back = bf.to(DType.F32);
        assertEquals(1.5f, back.getFloat(0));
        assertEquals(-2.25f, back.getFloat(1));
        assertEquals(3.0e-3f, back.getFloat(2), 3.0e-3f / 128, "bf16 keeps 8 significant bits");
    }
}
