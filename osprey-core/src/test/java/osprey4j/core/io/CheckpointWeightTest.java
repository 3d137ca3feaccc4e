package osprey4j.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/** {@link Checkpoint#weight}: the load-time checks every model class relies on. */
class CheckpointWeightTest {
    @TempDir
    Path tmp;

    @Test
    void returnsAWeightOfTheExpectedShapeAndNamesTheProblemOtherwise() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("proj.weight", Tensor.zeros(DType.BF16, 3, 2));
        tensors.put("position_ids", Tensor.zeros(DType.I64, 4));
        Path file = tmp.resolve("w.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of());
        try (Checkpoint ckpt = Checkpoints.open(file)) {
            Tensor w = ckpt.weight("proj.weight", 3, 2);
            assertEquals(DType.BF16, w.dtype(), "weights are returned as stored");
            assertArrayEquals(new long[] {3, 2}, w.shape());

            String shape = assertThrows(CheckpointException.class, () -> ckpt.weight("proj.weight", 2, 3)).getMessage();
            assertTrue(shape.contains("'proj.weight' has the wrong shape: expected [2, 3], found [3, 2]"), shape);
            assertTrue(shape.contains(file.toString()), shape);

            String missing = assertThrows(CheckpointException.class, () -> ckpt.weight("head.weight", 5)).getMessage();
            assertTrue(missing.contains("missing weight 'head.weight' (expected shape [5])"), missing);

            String dtype = assertThrows(CheckpointException.class, () -> ckpt.weight("position_ids", 4)).getMessage();
            assertTrue(dtype.contains("'position_ids' is I64; expected F32, F16 or BF16"), dtype);
        }
    }
}
