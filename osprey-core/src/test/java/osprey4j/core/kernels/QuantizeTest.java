package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/** Q8_0 and Q4_0 quantisation against blocks made by a numpy re-implementation of GGML's reference quantisers. */
class QuantizeTest {
    private static JsonNode fixture() throws Exception {
        try (InputStream in = QuantizeTest.class.getResourceAsStream("/quant/quant_blocks.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static float[] floats(byte[] le) {
        float[] x = new float[le.length / 4];
        MemorySegment.copy(MemorySegment.ofArray(le), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, x, 0, x.length);
        return x;
    }

    @Test
    void blocksAreByteExactWithGgmlReference() throws Exception {
        HexFormat hex = HexFormat.of();
        int cases = 0;
        for (JsonNode c : fixture().get("cases")) {
            float[] x = floats(hex.parseHex(c.get("x_f32_le_hex").asText()));
            for (DType t : new DType[] {DType.Q8_0, DType.Q4_0}) {
                byte[] expected = hex.parseHex(c.get(t == DType.Q8_0 ? "q8_0_hex" : "q4_0_hex").asText());
                byte[] got = new byte[expected.length];
                Quantize.quantizeRow(t, x, 0, x.length, MemorySegment.ofArray(got), 0);
                assertArrayEquals(expected, got, c.get("name").asText() + " " + t);
                // the tensor form gives the same bytes, from F32
                Tensor q = Quantize.quantize(Tensor.copyOf(x, 1, x.length), t);
                assertArrayEquals(expected, q.segment().toArray(ValueLayout.JAVA_BYTE), "tensor " + t);
            }
            cases++;
        }
        assertTrue(cases >= 10);
    }

    @Test
    void edgeCasesWorkedOutByHand() {
        // all zero: scale 0, Q8_0 quants 0, Q4_0 quants 8 (0x88)
        byte[] q8 = quant(DType.Q8_0, new float[32]);
        byte[] q4 = quant(DType.Q4_0, new float[32]);
        assertEquals(0, q8[0] | q8[1]);
        for (int i = 2; i < 34; i++) {
            assertEquals(0, q8[i]);
        }
        for (int i = 2; i < 18; i++) {
            assertEquals((byte) 0x88, q4[i]);
        }
        // amax 127 gives d = 1: halves round away from zero
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.5f;
        x[4] = -0.5f;
        byte[] b = quant(DType.Q8_0, x);
        assertEquals(1f, Float.float16ToFloat((short) ((b[0] & 0xFF) | b[1] << 8)));
        assertArrayEquals(new byte[] {127, 3, -3, 1, -1, 0}, java.util.Arrays.copyOfRange(b, 2, 8));
        // Q4_0 with a negative max -4: d = 0.5, -4 -> nibble 0, +4 -> 16 clamped to 15, 1 -> trunc(10.5) = 10
        float[] y = new float[32];
        y[0] = -4f;
        y[16] = 4f;
        y[1] = 1f;
        byte[] c = quant(DType.Q4_0, y);
        assertEquals(0.5f, Float.float16ToFloat((short) ((c[0] & 0xFF) | c[1] << 8)));
        assertEquals(0 | 15 << 4, c[2] & 0xFF);
        assertEquals(10 | 8 << 4, c[3] & 0xFF);
        // a positive max 4 gives a negative scale: 4 -> nibble 0 and dequantises back to 4
        y[0] = 4f;
        y[16] = -1f;
        byte[] p = quant(DType.Q4_0, y);
        assertEquals(-0.5f, Float.float16ToFloat((short) ((p[0] & 0xFF) | p[1] << 8)));
        float[] back = new float[32];
        VectorConvert.toFloats(DType.Q4_0, MemorySegment.ofArray(p), 0, back, 0, 32);
        assertEquals(4f, back[0]);
        assertEquals(-1f, back[16]);
    }

    @Test
    void sixteenBitSourcesQuantiseTheirFloatValues() {
        Random rnd = new Random(3);
        float[] x = new float[4 * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * 0.03f;
        }
        for (DType src : new DType[] {DType.BF16, DType.F16}) {
            Tensor t = Tensor.copyOf(x, 4, 64).to(src);
            float[] rounded = t.toFloatArray();
            for (DType q : new DType[] {DType.Q8_0, DType.Q4_0}) {
                Tensor got = Quantize.quantize(t, q);
                assertArrayEquals(quant(q, rounded), got.segment().toArray(ValueLayout.JAVA_BYTE), src + "->" + q);
                assertArrayEquals(new long[] {4, 64}, got.shape());
            }
        }
    }

    @Test
    void refusesWhatItCannotQuantise() {
        assertThrows(IllegalArgumentException.class, () -> Quantize.quantize(Tensor.zeros(DType.F32, 2, 48), DType.Q8_0));
        assertThrows(IllegalArgumentException.class, () -> Quantize.quantize(Tensor.zeros(DType.F32, 2, 32), DType.BF16));
        assertThrows(IllegalArgumentException.class, () -> Quantize.quantize(Tensor.zeros(DType.I32, 2, 32), DType.Q4_0));
        float[] nan = new float[32];
        nan[5] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> quant(DType.Q8_0, nan));
    }

    private static byte[] quant(DType t, float[] x) {
        byte[] out = new byte[(int) t.bytesFor(x.length)];
        Quantize.quantizeRow(t, x, 0, x.length, MemorySegment.ofArray(out), 0);
        return out;
    }
}
