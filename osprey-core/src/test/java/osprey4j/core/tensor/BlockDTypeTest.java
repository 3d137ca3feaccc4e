package osprey4j.core.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.kernels.VectorConvert;

/** Q8_0 and Q4_0: block sizes, views, file validation and the row load against a scalar reading of the bytes. */
class BlockDTypeTest {
    @Test
    void sizesArePerBlock() {
        assertEquals(34, DType.Q8_0.blockBytes());
        assertEquals(18, DType.Q4_0.blockBytes());
        assertEquals(32, DType.Q8_0.blockSize());
        assertEquals(1, DType.BF16.blockSize());
        assertEquals(34L * 3, DType.Q8_0.bytesFor(96));
        assertEquals(18L * 128, DType.Q4_0.bytesFor(4096));
        assertEquals(0L, DType.Q4_0.bytesFor(0));
        assertEquals(12L, DType.F32.bytesFor(3));
        assertThrows(IllegalArgumentException.class, () -> DType.Q8_0.bytesFor(33));
        assertThrows(IllegalArgumentException.class, () -> DType.Q8_0.bytesFor(-32));
        assertThrows(IllegalStateException.class, DType.Q4_0::byteSize);
        assertThrows(ArithmeticException.class, () -> DType.F64.bytesFor(Long.MAX_VALUE / 4));
        assertEquals(DType.Q8_0, DType.fromSafetensorsName("q8_0"));
        assertTrue(DType.Q4_0.isBlockQuantized() && !DType.F16.isBlockQuantized());
    }

    @Test
    void rowsMustBeWholeBlocksAndViewsStartOnBlocks() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.Q8_0, 64, 48));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.Q8_0));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.of(DType.Q4_0, MemorySegment.ofArray(new byte[18 * 3]), 3, 32).reshape(6, 16));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.of(DType.Q4_0, MemorySegment.ofArray(new byte[18 * 3 - 1]), 3, 32));
        Tensor q = Tensor.zeros(DType.Q8_0, 5, 64);
        assertEquals(5 * 2 * 34, q.byteSize());
        Tensor row = q.row(3);
        assertEquals(2 * 34, row.byteSize());
        assertEquals(3L * 2 * 34, row.segment().address() - q.segment().address());
        assertEquals(3 * 2 * 34, q.slice(1, 4).byteSize());
        assertThrows(IllegalArgumentException.class, () -> row.row(0), "one element of a block is no view");
        assertThrows(UnsupportedOperationException.class, () -> q.setFloat(0, 1f));
    }

    @Test
    void rowLoadMatchesScalarDequantisation() {
        Random rnd = new Random(8);
        for (DType t : new DType[] {DType.Q8_0, DType.Q4_0}) {
            int blocks = 7;
            byte[] bytes = randomBlocks(rnd, t, blocks);
            MemorySegment seg = MemorySegment.ofArray(bytes);
            float[] expected = new float[blocks * 32];
            for (int b = 0; b < blocks; b++) {
                int base = b * t.blockBytes();
                float d = Float.float16ToFloat((short) ((bytes[base] & 0xFF) | bytes[base + 1] << 8));
                for (int i = 0; i < 32; i++) {
                    int q = t == DType.Q8_0 ? bytes[base + 2 + i]
                            : (i < 16 ? bytes[base + 2 + i] & 0xF : (bytes[base + 2 + i - 16] >> 4) & 0xF) - 8;
                    expected[b * 32 + i] = q * d;
                }
            }
            Tensor tensor = Tensor.of(t, seg, blocks, 32);
            assertArrayEquals(expected, tensor.toFloatArray(), t + " whole tensor");
            for (int[] range : new int[][] {{0, 0}, {0, 1}, {5, 27}, {31, 2}, {17, 150}, {64, 32}, {3, 221}}) {
                float[] got = new float[range[1] + 2];
                VectorConvert.toFloats(t, seg, range[0], got, 1, range[1]);
                for (int i = 0; i < range[1]; i++) {
                    assertEquals(expected[range[0] + i], got[1 + i], t + " element " + (range[0] + i));
                }
                assertEquals(0f, got[0]);
                assertEquals(0f, got[range[1] + 1], "nothing written past the run");
            }
            for (int i = 0; i < expected.length; i += 13) {
                assertEquals(expected[i], tensor.getFloat(i));
            }
            assertArrayEquals(java.util.Arrays.copyOfRange(expected, 96, 128), tensor.row(3).toFloatArray());
        }
    }

    @Test
    void safetensorsCarryBlockTypesAndCheckTheirSizes(@TempDir Path dir) throws Exception {
        Random rnd = new Random(9);
        Tensor q8 = Tensor.of(DType.Q8_0, MemorySegment.ofArray(randomBlocks(rnd, DType.Q8_0, 6)), 3, 64);
        Tensor q4 = Tensor.of(DType.Q4_0, MemorySegment.ofArray(randomBlocks(rnd, DType.Q4_0, 3)), 96);
        Path file = dir.resolve("q.safetensors");
        SafetensorsWriter.write(file, Map.of("a.weight", q8, "b.weight", q4, "c", Tensor.copyOf(new float[] {1, 2}, 2)));
        try (Checkpoint ck = Checkpoints.open(file)) {
            assertArrayEquals(q8.toFloatArray(), ck.tensor("a.weight").toFloatArray());
            assertArrayEquals(q4.toFloatArray(), ck.tensor("b.weight").toFloatArray());
            assertEquals(DType.Q8_0.bytesFor(192), ck.info("a.weight").byteSize());
            long offset = ck.tensor("b.weight").segment().address() - ck.tensor("a.weight").segment().address();
            assertEquals(0, Math.floorMod(offset, DType.Q4_0.alignment()), "block scales stay 2-byte aligned");
        }
        // a Q8_0 entry whose rows are not whole blocks is refused with the file named
        String header = "{\"w\":{\"dtype\":\"Q8_0\",\"shape\":[2,48],\"data_offsets\":[0,102]}}";
        byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] out = new byte[8 + h.length + 102];
        MemorySegment.ofArray(out).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, h.length);
        System.arraycopy(h, 0, out, 8, h.length);
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, out);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(bad).close());
        assertTrue(e.getMessage().contains("multiple of 32"), e.getMessage());
    }

    @Test
    void blockLayoutIsRecordedAndRequired(@TempDir Path dir) throws Exception {
        Random rnd = new Random(10);
        Tensor q4 = Tensor.of(DType.Q4_0, MemorySegment.ofArray(randomBlocks(rnd, DType.Q4_0, 4)), 2, 64);
        Path file = dir.resolve("q4.safetensors");
        SafetensorsWriter.write(file, Map.of("model.layers.0.mlp.up_proj.weight", q4,
                "model.norm.weight", Tensor.copyOf(new float[] {1, 2}, 2)));
        try (Checkpoint ck = Checkpoints.open(file)) {
            assertEquals(DType.Q4_0.blockLayout(), ck.metadata().get("block_layout.Q4_0"));
            assertTrue(!ck.metadata().containsKey("block_layout.Q8_0"), "only the types present");
            // a Linear weight may be quantised; any other weight may not
            assertArrayEquals(q4.toFloatArray(), ck.linearWeight("model.layers.0.mlp.up_proj.weight", 2, 64).toFloatArray());
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> ck.weight("model.layers.0.mlp.up_proj.weight", 2, 64));
            assertTrue(e.getMessage().contains("is Q4_0; expected F32, F16 or BF16"), e.getMessage());
            assertThrows(CheckpointException.class, () -> ck.linearWeight("model.layers.0.mlp.up_proj.weight", 64, 2));
            assertArrayEquals(new float[] {1, 2}, ck.linearWeight("model.norm.weight", 2).toFloatArray());
        }
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(dir.resolve("x.safetensors"),
                Map.of("w", q4), Map.of("block_layout.Q4_0", "something else")));
        // the same bytes with the layout missing, or a different layout, are refused with the tensor named
        byte[] good = Files.readAllBytes(file);
        long headerLength = MemorySegment.ofArray(good).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        String header = new String(good, 8, (int) headerLength, java.nio.charset.StandardCharsets.UTF_8);
        String layout = DType.Q4_0.blockLayout(); // no character of it needs escaping in JSON
        assertTrue(header.contains(layout), header);
        for (String replacement : new String[] {layout.replace("& 15", "& 0xF"), layout.substring(0, 4)}) {
            String other = header.replace(layout, replacement);
            // keep the header length (the data offsets do not depend on it, but the padding does)
            StringBuilder padded = new StringBuilder(other);
            while (padded.length() % 8 != 0 || padded.length() < other.length()) {
                padded.append(' ');
            }
            byte[] h = padded.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] bad = new byte[8 + h.length + (int) (good.length - 8 - headerLength)];
            MemorySegment.ofArray(bad).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, h.length);
            System.arraycopy(h, 0, bad, 8, h.length);
            System.arraycopy(good, 8 + (int) headerLength, bad, 8 + h.length, good.length - 8 - (int) headerLength);
            Path badFile = dir.resolve("bad" + replacement.length() + ".safetensors");
            Files.write(badFile, bad);
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(badFile).close());
            assertTrue(e.getMessage().contains("'model.layers.0.mlp.up_proj.weight' is Q4_0")
                    && e.getMessage().contains("block layout"), e.getMessage());
        }
        String noMeta = "{\"w\":{\"dtype\":\"Q8_0\",\"shape\":[1,32],\"data_offsets\":[0,34]}}";
        byte[] h = noMeta.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] raw = new byte[8 + h.length + 34];
        MemorySegment.ofArray(raw).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, h.length);
        System.arraycopy(h, 0, raw, 8, h.length);
        Path bare = dir.resolve("bare.safetensors");
        Files.write(bare, raw);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(bare).close());
        assertTrue(e.getMessage().contains("does not record its block layout ('block_layout.Q8_0')"), e.getMessage());
    }

    @Test
    void deferredTensorsAreMadeWhenWrittenAndMustMatchTheirAnnouncement(@TempDir Path dir) throws Exception {
        float[] w = new float[64];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i - 30) * 0.25f;
        }
        Tensor f = Tensor.copyOf(w, 2, 32);
        java.util.List<String> made = new java.util.ArrayList<>();
        Path file = dir.resolve("d.safetensors");
        SafetensorsWriter.writeDeferred(file, Map.of("q", new SafetensorsWriter.Deferred(DType.Q8_0, new long[] {2, 32},
                arena -> {
                    made.add("q");
                    return osprey4j.core.kernels.Quantize.quantize(f, DType.Q8_0, arena);
                }), "f", new SafetensorsWriter.Deferred(DType.F32, new long[] {2, 32}, arena -> f)), Map.of());
        assertEquals(java.util.List.of("q"), made);
        try (Checkpoint ck = Checkpoints.open(file)) {
            assertArrayEquals(osprey4j.core.kernels.Quantize.quantize(f, DType.Q8_0).toFloatArray(),
                    ck.tensor("q").toFloatArray());
            assertArrayEquals(w, ck.tensor("f").toFloatArray());
        }
        Path bad = dir.resolve("bad.safetensors");
        assertThrows(IllegalStateException.class, () -> SafetensorsWriter.writeDeferred(bad, Map.of("q",
                new SafetensorsWriter.Deferred(DType.Q4_0, new long[] {2, 32}, arena -> f)), Map.of()));
        assertTrue(!Files.exists(bad));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }

    /** Blocks with a random finite f16 scale and random quants. */
    private static byte[] randomBlocks(Random rnd, DType t, int blocks) {
        byte[] b = new byte[blocks * t.blockBytes()];
        rnd.nextBytes(b);
        for (int i = 0; i < blocks; i++) {
            short scale = Float.floatToFloat16((rnd.nextFloat() - 0.5f) * 0.1f);
            b[i * t.blockBytes()] = (byte) scale;
            b[i * t.blockBytes() + 1] = (byte) (scale >> 8);
        }
        return b;
    }
}
