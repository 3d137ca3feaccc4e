package osprey4j.train.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class TorchSaveWriterTest {
    @TempDir
    Path tmp;

    @Test
    void torchZipRoundTripsThroughTheCheckpointReaderWithAlignedData() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Tensor big = Tensor.zeros(DType.F32, 300, 7);
        for (long i = 0; i < big.numel(); i++) {
            big.setFloat(i, i * 0.5f - 3);
        }
        tensors.put("visual.trunk.stem.0.weight", big);
        tensors.put("scalar.like", Tensor.copyOf(new float[] {4.5f}, 1));
        tensors.put("half.bf16", Tensor.copyOf(new float[] {1, -2, 3.5f}, 3).to(DType.BF16));
        Path file = tmp.resolve("clip.bin");
        TorchSaveWriter.write(file, tensors);
        try (Checkpoint c = Checkpoints.open(file)) {
            assertEquals(3, c.tensors().size());
            for (var e : tensors.entrySet()) {
                assertEquals(e.getValue().dtype(), c.info(e.getKey()).dtype());
                assertArrayEquals(e.getValue().shape(), c.info(e.getKey()).shape());
                assertArrayEquals(e.getValue().toFloatArray(), c.tensor(e.getKey()).toFloatArray());
            }
        }
        // Same tensors, same bytes; records aligned as torch aligns them.
        Path again = tmp.resolve("again.bin");
        TorchSaveWriter.write(again, tensors);
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again));
        try (ZipFile zip = new ZipFile(file.toFile())) {
            assertEquals("archive/data.pkl", zip.entries().nextElement().getName());
            ZipEntry version = zip.getEntry("archive/version");
            assertEquals("3\n", new String(zip.getInputStream(version).readAllBytes()));
        }
    }
}
