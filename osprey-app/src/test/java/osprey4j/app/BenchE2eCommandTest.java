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
import osprey4j.app.BenchGemmCommandTest.Run;

/**
 * {@code osprey bench e2e} end to end on a tiny shape (each type measured in a child JVM), without the reference.
 * Never asserts times, only structure.
 */
class BenchE2eCommandTest {
    @TempDir
    Path tmp;

    private static Run run(String... args) {
        String[] all = new String[2 + args.length];
        all[0] = "bench";
        all[1] = "e2e";
        System.arraycopy(args, 0, all, 2, args.length);
        return BenchGemmCommandTest.run(all);
    }

    @Test
    void helpNamesTheOptionsAndTheReference() {
        Run r = run("--help");
        assertEquals(0, r.code());
        for (String opt : new String[] {"--work", "--layers", "--types", "--reference", "--json", "--threads", "--tokens"}) {
            assertTrue(r.out().contains(opt), opt + " in " + r.out());
        }
        assertFalse(r.out().contains("--tiny"), "test-only options stay hidden");
    }

    @Test
    void tinyModelRunsEndToEndWithTableAndJson() throws Exception {
        Path work = tmp.resolve("work");
        Path json = tmp.resolve("out/e2e.json");
        Run r = run("--tiny", "--layers", "2", "--types", "bf16,q4_0", "--tokens", "3", "--threads", "1",
                "--work", work.toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("first region s") && r.out().contains("next region s")
                && r.out().contains("decode tok/s") && r.out().contains("peak RSS GB"), r.out());
        assertTrue(r.out().contains("BF16") && r.out().contains("Q4_0"), r.out());
        assertTrue(r.out().contains("reference: not run"), r.out());

        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals(2, root.path("model").path("layers").asInt());
        assertEquals(32000, root.path("model").path("vocab_size").asInt());
        assertEquals(1, root.path("threads").asInt());
        assertFalse(root.path("reference").path("available").asBoolean(true));
        JsonNode results = root.path("results");
        assertEquals(2, results.size());
        assertEquals("BF16", results.get(0).path("type").asText());
        assertEquals("Q4_0", results.get(1).path("type").asText());
        for (JsonNode res : results) {
            assertTrue(res.path("first_region_s").asDouble() > 0, res.toString());
            assertTrue(res.path("next_region_s").asDouble() > 0, res.toString());
            assertTrue(res.path("decode_tokens_per_s").asDouble() > 0, res.toString());
            assertTrue(res.path("peak_rss_gb").asDouble() > 0, res.toString());
            JsonNode m = res.path("measured");
            assertEquals(3, m.path("generated_tokens").asInt(), res.toString());
            int prompt = m.path("prompt_tokens").asInt();
            assertTrue(prompt > 1024, "image tokens + mask tokens + prompt: " + prompt);
            // The second region reuses the image's prefix from the session: everything up to the image's end.
            int reused = m.path("next_timings").path("reused_prompt_tokens").asInt();
            assertTrue(reused >= 1024 && reused < m.path("next_prompt_tokens").asInt(), res.toString());
            assertEquals(0, m.path("first_timings").path("reused_prompt_tokens").asInt(), res.toString());
        }
        assertTrue(root.path("goals").path("Q4_0").has("peak_rss_at_most_5_gb"));
        // Models are kept and reused by a second run of the same shape.
        assertTrue(Files.isRegularFile(work.resolve("osprey-tiny-L2-bf16/model.safetensors")));
        assertTrue(Files.isRegularFile(work.resolve("osprey-tiny-L2-q4_0/model.safetensors")));
        Run again = run("--tiny", "--layers", "2", "--types", "bf16", "--tokens", "2", "--threads", "1",
                "--work", work.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("reusing"), again.err());
    }

    @Test
    void badOptionsAreUsageErrorsThatSayWhy() {
        Path work = tmp.resolve("w");
        Run types = run("--types", "bf16,fp8", "--work", work.toString());
        assertEquals(2, types.code());
        assertTrue(types.err().contains("bad --types entry 'fp8'"), types.err());
        Run layers = run("--layers", "40", "--work", work.toString());
        assertEquals(2, layers.code());
        assertTrue(layers.err().contains("--layers must be 1 to 32"), layers.err());
        Run tokens = run("--tokens", "1", "--work", work.toString());
        assertEquals(2, tokens.code());
        assertTrue(tokens.err().contains("--tokens must be at least 2"), tokens.err());
        Run ref = run("--reference", tmp.resolve("none").toString(), "--work", work.toString());
        assertEquals(2, ref.code());
        assertTrue(ref.err().contains("--reference") && ref.err().contains("osprey/"), ref.err());
        assertFalse(Files.exists(work.resolve("osprey-7b-L32-bf16")), "nothing is generated for a bad command line");
    }
}
