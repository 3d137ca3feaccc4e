package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import osprey4j.app.BenchGemmCommandTest.Run;

/** {@code osprey bench vision} on a tiny ConvNeXt, without the PyTorch peer. Never asserts times, only structure. */
class BenchVisionCommandTest {
    private static final String[] TINY = {"--dims", "8,16,32,64", "--depths", "1,1,2,1", "--size", "64", "--runs", "2"};

    private static Run run(String... args) {
        String[] all = new String[2 + args.length];
        all[0] = "bench";
        all[1] = "vision";
        System.arraycopy(args, 0, all, 2, args.length);
        return BenchGemmCommandTest.run(all);
    }

    private static String[] tiny(String... more) {
        String[] all = new String[TINY.length + more.length];
        System.arraycopy(TINY, 0, all, 0, TINY.length);
        System.arraycopy(more, 0, all, TINY.length, more.length);
        return all;
    }

    @Test
    void helpNamesTheOptionsAndThePeer() {
        Run r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--runs") && r.out().contains("--json") && r.out().contains("--threads"), r.out());
        assertTrue(r.out().contains("PyTorch"), r.out());
        assertFalse(r.out().contains("--dims"), "test-only options stay hidden");
    }

    @Test
    void jsonHasOneResultPerDtypeWithFirstRunWarmRunsAndSteps() throws Exception {
        Run r = run(tiny("--json", "--no-peer", "--dtypes", "f16,f16-as-f32,f32"));
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals(64, root.path("model").path("image_size").asInt());
        assertEquals(4, root.path("model").path("dims").size());
        assertTrue(root.path("threads").asInt() >= 1);
        assertFalse(root.path("peer").path("available").asBoolean(true));
        JsonNode results = root.path("results");
        assertEquals(3, results.size());
        assertEquals("F16", results.get(0).path("weight_dtype").asText());
        assertFalse(results.get(0).path("gemm_weights_f32").asBoolean(true));
        assertEquals("F16", results.get(1).path("weight_dtype").asText());
        assertTrue(results.get(1).path("gemm_weights_f32").asBoolean(false));
        assertEquals("F32", results.get(2).path("weight_dtype").asText());
        for (JsonNode res : results) {
            assertTrue(res.path("first_s").asDouble() > 0, res.toString());
            assertTrue(res.path("median_s").asDouble() > 0, res.toString());
            assertEquals(2, res.path("warm_s").size(), res.toString());
            JsonNode steps = res.path("warm_step_s");
            for (String step : new String[] {"stem", "downsample", "depthwise", "norm", "fc1", "gelu", "fc2"}) {
                assertTrue(steps.has(step), "step " + step + " in " + steps);
            }
            assertTrue(res.path("first_step_s").has("fc1"), res.toString());
            assertFalse(res.has("ratio"), "no ratio without a peer");
        }
    }

    @Test
    void tableSaysWhenThePeerIsMissing() {
        Run r = run(tiny("--dtypes", "f32", "--python", "/nonexistent/python3"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("PyTorch not available"), r.out());
        assertTrue(r.out().contains("warm median"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("F32")), r.out());
    }

    @Test
    void badArgumentsAreUsageErrors() {
        Run r = run(tiny("--no-peer", "--dtypes", "q4"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--dtypes"), r.err());
        Run s = run("--no-peer", "--dims", "8,16", "--depths", "1,1", "--size", "64");
        assertEquals(2, s.code());
        assertEquals(1, s.err().strip().lines().count(), s.err());
    }
}
