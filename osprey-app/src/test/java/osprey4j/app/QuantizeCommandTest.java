package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code osprey quantize}: parsing, printing and one-line errors (the work itself is tested in osprey-service). */
class QuantizeCommandTest {
    private static final Path MODEL = Path.of("..", "osprey-model", "src", "test", "resources", "parity", "model");

    @TempDir
    Path dir;

    @Test
    void helpExplainsTheTypes() {
        BenchGemmCommandTest.Run r = BenchGemmCommandTest.run("quantize", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("q8_0") && r.out().contains("q4_0") && r.out().contains("--head"), r.out());
    }

    @Test
    void writesADirectoryAndReportsItAsJson() throws Exception {
        Path out = dir.resolve("q8");
        BenchGemmCommandTest.Run r = BenchGemmCommandTest.run("quantize", "--model", MODEL.toString(), "--type", "Q8_0",
                "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("q8_0", j.path("type").asText());
        assertEquals(12, j.path("quantized").asInt());
        assertEquals(2, j.path("not_block_aligned").size());
        assertTrue(j.path("out_bytes").asLong() < j.path("source_bytes").asLong());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("config.json")));
    }

    @Test
    void badTypeAndTakenOutputAreOneLineUsageErrors() throws Exception {
        BenchGemmCommandTest.Run r = BenchGemmCommandTest.run("quantize", "--model", MODEL.toString(), "--type", "q5_1",
                "--out", dir.resolve("x").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--type must be q8_0 or q4_0"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(dir.resolve("x")));
        Files.writeString(dir.resolve("taken"), "x");
        BenchGemmCommandTest.Run taken = BenchGemmCommandTest.run("quantize", "--model", MODEL.toString(), "--type",
                "q4_0", "--out", dir.resolve("taken").toString());
        assertEquals(2, taken.code());
        assertTrue(taken.err().contains("not an empty directory"), taken.err());
    }
}
