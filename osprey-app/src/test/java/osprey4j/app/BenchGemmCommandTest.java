package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code osprey bench gemm} on tiny shapes, without the PyTorch peer. Never asserts times, only structure. */
class BenchGemmCommandTest {
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = OspreyCli.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpStatesTheShapeConvention() {
        Run r = run("bench", "gemm", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("MxKxN"), r.out());
        assertTrue(r.out().contains("W[N,K]"), r.out());
        assertTrue(r.out().contains("--quick") && r.out().contains("--json") && r.out().contains("--threads"));
    }

    @Test
    void jsonHasOneResultPerShapeAndBandwidthForOneRowProducts() throws Exception {
        Run r = run("bench", "gemm", "--quick", "--json", "--no-peer", "--bandwidth-mb", "8",
                "--shapes", "9x20x13:f32,1x33x17:bf16,5x16x50:f16");
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertTrue(root.path("threads").asInt() >= 1);
        assertTrue(root.path("memory_bandwidth").path("median_gbps").asDouble() > 0);
        assertTrue(root.path("f32_fma_peak").path("median_gflops").asDouble() > 0);
        assertFalse(root.path("peer").path("available").asBoolean(true));
        JsonNode results = root.path("results");
        assertEquals(3, results.size());
        assertEquals("9x20x13", results.get(0).path("shape").asText());
        assertEquals("BF16", results.get(1).path("weight_dtype").asText());
        assertEquals("F16", results.get(2).path("weight_dtype").asText());
        for (JsonNode res : results) {
            assertTrue(res.path("gflops").asDouble() > 0, res.toString());
            assertEquals(2, res.path("reps").asInt());
        }
        assertTrue(results.get(1).has("bandwidth_fraction"), "the 1-row product reports its bandwidth fraction");
        assertFalse(results.get(0).has("bandwidth_fraction"));
        assertTrue(results.get(0).path("fma_peak_fraction").asDouble() > 0, "products of several rows are judged by the FMA peak");
        assertFalse(results.get(1).has("fma_peak_fraction"));
    }

    @Test
    void quantisedWeightsAreTimedWithoutAPeer() throws Exception {
        Run r = run("bench", "gemm", "--quick", "--json", "--no-peer", "--bandwidth-mb", "8",
                "--shapes", "1x64x40:q8_0,3x96x9:q4_0");
        assertEquals(0, r.code(), r.err());
        JsonNode results = new ObjectMapper().readTree(r.out()).path("results");
        assertEquals("Q8_0", results.get(0).path("weight_dtype").asText());
        assertEquals("Q4_0", results.get(1).path("weight_dtype").asText());
        assertTrue(results.get(0).has("bandwidth_fraction"));
        Run bad = run("bench", "gemm", "--no-peer", "--shapes", "1x48x8:q8_0");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("K to be a multiple of 32"), bad.err());
    }

    @Test
    void tableSaysWhenThePeerIsMissing() {
        Run r = run("bench", "gemm", "--quick", "--bandwidth-mb", "8", "--python", "/nonexistent/python3",
                "--shapes", "3x8x5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("PyTorch not available"), r.out());
        assertTrue(r.out().contains("3x8x5"), r.out());
    }

    @Test
    void badShapeIsAUsageError() {
        Run r = run("bench", "gemm", "--no-peer", "--shapes", "3x8");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("bad shape '3x8'"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
