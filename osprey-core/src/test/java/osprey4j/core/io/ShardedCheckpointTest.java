package osprey4j.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.tensor.Tensor;

class ShardedCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void safetensorsShards() {
        try (Checkpoint ckpt = Checkpoints.open(Fixtures.path("sharded"))) {
            Fixtures.assertMatchesManifest(ckpt, "sharded");
            assertEquals(1 + 2 * 9 + 2, ckpt.tensors().size(), "embed, 9 per layer, norm, lm_head");
            assertTrue(ckpt.metadata().containsKey("total_size"));
        }
    }

    @Test
    void torchBinShards() {
        try (Checkpoint ckpt = Checkpoints.open(Fixtures.path("sharded_bin"))) {
            Fixtures.assertMatchesManifest(ckpt, "sharded_bin");
        }
    }

    @Test
    void theIndexFileItselfCanBeOpened() {
        try (Checkpoint ckpt = Checkpoints.open(Fixtures.path("sharded/model.safetensors.index.json"))) {
            assertTrue(ckpt.contains("model.layers.1.mlp.down_proj.weight"));
        }
    }

    @Test
    void shardNamesMayNotLeaveTheDirectory() throws IOException {
        Path outside = tmp.resolve("outside.safetensors");
        Files.copy(Fixtures.path("tensors.safetensors"), outside);
        Path dir = Files.createDirectories(tmp.resolve("model"));
        for (String shard : new String[] {"../outside.safetensors", outside.toString(), "sub/../../outside.safetensors"}) {
            writeIndex(dir, Map.of("f32", shard));
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
            assertTrue(e.getMessage().contains("points outside the checkpoint directory"), e.getMessage());
        }
    }

    @Test
    void missingShardOrKeyIsReported() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        writeIndex(dir, Map.of("f32", "model-00001-of-00002.safetensors"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
        assertTrue(e.getMessage().contains("model-00001-of-00002.safetensors is missing"), e.getMessage());

        Files.copy(Fixtures.path("tensors.safetensors"), dir.resolve("model-00001-of-00002.safetensors"));
        writeIndex(dir, Map.of("not.there", "model-00001-of-00002.safetensors"));
        e = assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
        assertTrue(e.getMessage().contains("'not.there'"), e.getMessage());

        writeIndex(dir, Map.of("f32", "model-00001-of-00002.safetensors"));
        try (Checkpoint ckpt = Checkpoints.open(dir)) {
            Tensor t = ckpt.tensor("f32");
            assertEquals(12, t.numel());
            assertEquals(1, ckpt.tensors().size(), "only the keys of the index are exposed");
        }
    }

    @Test
    void anIndexCannotPointAtAnotherIndex() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        writeIndex(dir, Map.of("f32", "model.safetensors.index.json"));
        assertThrows(CheckpointException.class, () -> Checkpoints.open(dir));
    }

    @Test
    void directoryResolution() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(empty));
        assertTrue(e.getMessage().contains("no checkpoint found"), e.getMessage());

        Path single = Files.createDirectories(tmp.resolve("single"));
        Files.copy(Fixtures.path("torch_nested.pt"), single.resolve("weights.pth"));
        try (Checkpoint ckpt = Checkpoints.open(single)) {
            assertTrue(ckpt.contains("encoder.layer.weight"));
        }

        Path several = Files.createDirectories(tmp.resolve("several"));
        Files.copy(Fixtures.path("torch_nested.pt"), several.resolve("a.bin"));
        Files.copy(Fixtures.path("torch_dtypes.pt"), several.resolve("b.bin"));
        e = assertThrows(CheckpointException.class, () -> Checkpoints.open(several));
        assertTrue(e.getMessage().contains("several checkpoint files"), e.getMessage());

        // the standard name wins over other files, and safetensors over .bin
        Files.copy(Fixtures.path("torch_dtypes.pt"), several.resolve("pytorch_model.bin"));
        try (Checkpoint ckpt = Checkpoints.open(several)) {
            assertEquals("pytorch_model.bin", ckpt.info("f32").file().getFileName().toString());
        }
        Files.copy(Fixtures.path("tensors.safetensors"), several.resolve("model.safetensors"));
        try (Checkpoint ckpt = Checkpoints.open(several)) {
            assertEquals("model.safetensors", ckpt.info("f32").file().getFileName().toString());
        }

        e = assertThrows(CheckpointException.class, () -> Checkpoints.open(tmp.resolve("nowhere")));
        assertTrue(e.getMessage().contains("no such file or directory"), e.getMessage());
    }

    private static void writeIndex(Path dir, Map<String, String> weightMap) throws IOException {
        StringBuilder json = new StringBuilder("{\"metadata\": {\"total_size\": 48}, \"weight_map\": {");
        String sep = "";
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            json.append(sep).append('"').append(e.getKey()).append("\": \"")
                    .append(e.getValue().replace("\\", "\\\\")).append('"');
            sep = ", ";
        }
        json.append("}}");
        Files.writeString(dir.resolve("model.safetensors.index.json"), json, StandardCharsets.UTF_8);
    }
}
