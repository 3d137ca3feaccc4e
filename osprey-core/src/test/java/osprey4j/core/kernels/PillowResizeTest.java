package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class PillowResizeTest {
    @Test
    void eightBitImagesMatchPillowByteForByte() {
        for (Fixtures.Case c : Fixtures.cases("pillow_bicubic")) {
            int[] in = c.shape("input");
            byte[] out = PillowResize.resize(c.bytes("input"), c.param("width"), c.param("height"), in[2],
                    c.param("out_width"), c.param("out_height"));
            byte[] expected = c.bytes("output");
            assertEquals(expected.length, out.length, c.name());
            int mismatch = Arrays.mismatch(expected, out);
            if (mismatch >= 0) {
                int px = mismatch / in[2];
                throw new AssertionError(c.name() + ": first difference at pixel (" + px % c.param("out_width") + ", "
                        + px / c.param("out_width") + ") channel " + mismatch % in[2] + ": " + (out[mismatch] & 0xFF)
                        + " vs Pillow's " + (expected[mismatch] & 0xFF));
            }
        }
    }

    @Test
    void tensorFormMatchesArrayForm() {
        Fixtures.Case c = Fixtures.cases("pillow_bicubic").get(3);
        int[] s = c.shape("input");
        Tensor img = Tensor.of(DType.U8, MemorySegment.ofArray(c.bytes("input")), s[0], s[1], s[2]);
        Tensor out = PillowResize.resize(img, c.param("out_height"), c.param("out_width"));
        assertArrayEquals(new long[]{c.param("out_height"), c.param("out_width"), s[2]}, out.shape());
        assertArrayEquals(c.bytes("output"), out.segment().toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void floatImagesMatchPillowModeF() {
        for (Fixtures.Case c : Fixtures.cases("pillow_bicubic_float")) {
            Tensor out = PillowResize.resizeFloat(c.tensor("input"), c.param("out_height"), c.param("out_width"));
            // Same double weights and sums and the same float roundings as Pillow: bit-exact.
            assertArrayEquals(c.floats("output"), out.toFloatArray(), c.name());
        }
    }

    @Test
    void constantImageStaysConstantAndSameSizeIsACopy() {
        byte[] grey = new byte[13 * 7 * 3];
        Arrays.fill(grey, (byte) 200);
        byte[] out = PillowResize.resize(grey, 13, 7, 3, 29, 5);
        for (byte b : out) {
            assertEquals(200, b & 0xFF);
        }
        byte[] same = PillowResize.resize(grey, 13, 7, 3, 13, 7);
        assertArrayEquals(grey, same);
        assertThrows(IllegalArgumentException.class, () -> PillowResize.resize(grey, 13, 7, 3, 0, 5));
        assertThrows(IllegalArgumentException.class, () -> PillowResize.resize(grey, 12, 7, 3, 6, 5));
    }
}
