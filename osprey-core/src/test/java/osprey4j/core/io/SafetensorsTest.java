package osprey4j.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class SafetensorsTest {
    @TempDir
    Path tmp;

    @Test
    void readsTheHandWrittenFixture() {
        try (Checkpoint ckpt = Checkpoints.open(Fixtures.path("tensors.safetensors"))) {
            Fixtures.assertMatchesManifest(ckpt, "tensors.safetensors");
            assertEquals(Map.of("format", "pt", "source", "fixture"), ckpt.metadata());
            assertTrue(ckpt.tensor("f32").segment().isMapped(), "zero-copy");
        }
    }

    @Test
    void roundTripsEveryDtype() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a.weight", Tensor.wrap(new float[] {1.5f, -2f, 3.25f, 0f, 7f, -0.5f}, 2, 3));
        int i = 0;
        for (DType d : DType.values()) {
            if (d.isBlockQuantized()) {
                continue; // rows of whole 32-weight blocks: round-tripped in BlockDTypeTest
            }
            Tensor t = Tensor.zeros(d, 3, 1 + i % 3);
            for (long j = 0; j < t.numel(); j++) {
                t.setFloat(j, d == DType.BOOL ? (j % 2) : (float) (j * 3 - 4 + i));
            }
            tensors.put("t_" + d.name().toLowerCase(), t);
            i++;
        }
        tensors.put("scalar", Tensor.wrap(new float[] {42f}));
        tensors.put("empty", Tensor.zeros(DType.BF16, 0, 5));
        Path file = tmp.resolve("out.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));

        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLength) % 8, "data section is 8-byte aligned");
        assertEquals('{', bytes[8]);
        try (Checkpoint ckpt = Checkpoints.open(file)) {
            assertEquals(Map.of("format", "pt"), ckpt.metadata());
            assertEquals(tensors.keySet(), ckpt.tensors().stream().map(TensorInfo::name).collect(Collectors.toSet()));
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor back = ckpt.tensor(e.getKey());
                assertEquals(e.getValue().dtype(), back.dtype(), e.getKey());
                assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
                assertArrayEquals(e.getValue().segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        back.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), e.getKey());
                long offset = back.segment().address() - ckpt.tensor("a.weight").segment().address();
                assertEquals(0, Math.floorMod(offset, back.dtype().byteSize()), "aligned " + e.getKey());
            }
        }
    }

    @Test
    void failedWriteLeavesTheTargetAndNoTemporaryFile() throws IOException {
        Path file = tmp.resolve("keep.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.wrap(new float[] {1f})));
        byte[] before = Files.readAllBytes(file);
        Arena arena = Arena.ofConfined();
        Tensor dead = Tensor.zeros(arena, DType.F32, 4);
        arena.close();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("ok", Tensor.wrap(new float[] {2f}));
        tensors.put("dead", dead);
        assertThrows(RuntimeException.class, () -> SafetensorsWriter.write(file, tensors));
        assertArrayEquals(before, Files.readAllBytes(file));
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void refusesAHeaderClaimingATerabyte() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(1L << 40).put("{\"a\":{}}".getBytes(StandardCharsets.US_ASCII));
        Path file = tmp.resolve("huge.safetensors");
        Files.write(file, b.array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains("header length 1099511627776 is impossible"), e.getMessage());
    }

    @Test
    void refusesMalformedHeaders() throws IOException {
        String ok = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        assertRefused("{" + ok + "}", 4, "data section has 4 bytes");                       // truncated data
        assertRefused("{" + ok + "}", 12, "data section has 12 bytes");                     // trailing bytes
        assertRefused("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, "a hole");
        assertRefused("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}", 8, "needs 8");
        assertRefused("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlapping");
        assertRefused("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8000000000000]}}", 8,
                "needs 8");
        assertRefused("{\"w\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unsupported dtype Q7");
        assertRefused("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "invalid entry -2");
        assertRefused("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
                + "\"data_offsets\":[0,8]}}", 8, "overflows");
        assertRefused("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "before begin");
        assertRefused("{" + ok + "," + ok + "}", 8, "not valid JSON");                     // duplicate key
        assertRefused("{" + ok, 8, "not valid JSON");
        assertRefused("{" + ok + "}xyz", 8, "not valid JSON");
        assertRefused("[1,2,3]  ", 8, "does not start with '{'");
        assertRefused("{\"__metadata__\":{\"a\":1}}", 0, "is not a string");
    }

    private void assertRefused(String header, int dataBytes, String expected) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path file = tmp.resolve("bad.safetensors");
        Files.write(file, b.array());
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> SafetensorsCheckpoint.open(file).close(), header);
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }
}
