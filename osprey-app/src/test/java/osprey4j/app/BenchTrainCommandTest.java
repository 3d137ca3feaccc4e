package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import osprey4j.app.BenchGemmCommandTest.Run;

/** {@code osprey bench train} at the demo's dimensions, without the PyTorch peer. Never asserts times. */
class BenchTrainCommandTest {
    @Test
    void theDemoPresetTimesStepsOfTheDemoSizedModel() throws Exception {
        Run r = BenchGemmCommandTest.run("bench", "train", "--preset", "demo", "--steps", "2", "--no-peer", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out());
        JsonNode row = o.get("rows").get(0);
        assertEquals("demo", row.get("preset").asText());
        // 64 image tokens + 120 text positions; the parameter count torch's copy of the model reports too
        assertEquals(184, row.get("positions").asInt());
        assertEquals(5_274_176L, row.get("parameters").asLong());
        assertEquals(2, row.get("osprey_step_ms").size());
        assertTrue(row.get("osprey_median_ms").asDouble() > 0);
        assertEquals(false, row.get("peer").get("available").asBoolean());
    }

    @Test
    void badOptionsAreOneLine() {
        Run r = BenchGemmCommandTest.run("bench", "train", "--preset", "13b");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--preset must be demo, 7b-layer or all"), r.err());
        Run s = BenchGemmCommandTest.run("bench", "train", "--steps", "1");
        assertEquals(2, s.code());
        assertTrue(s.err().contains("--steps must be at least 2"), s.err());
    }
}
