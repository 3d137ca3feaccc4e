package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code osprey bench decode|prefill} end to end on a tiny LLaMA (one layer, hidden 64), without llama.cpp.
 * Never asserts times, only that the figures are there and positive.
 */
class BenchLlmCommandTest {
    private static final String[] TINY = {"--layers", "1", "--hidden", "64", "--heads", "4", "--intermediate", "96",
            "--vocab", "320", "--bandwidth-mb", "8", "--warmup-s", "0"};

    private static BenchGemmCommandTest.Run run(Path work, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(TINY));
        all.addAll(List.of("--work", work.toString()));
        return BenchGemmCommandTest.run(all.toArray(String[]::new));
    }

    @Test
    void decodePrintsTheTableAndJsonForEveryType(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("out/decode.json");
        BenchGemmCommandTest.Run r = run(tmp.resolve("work"), "bench", "decode", "--tokens", "3", "--reps", "2", "--json",
                json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("llama.cpp not run"), r.out());
        for (String type : new String[] {"BF16", "Q8_0", "Q4_0"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(type + " ")), r.out());
        }
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals("decode", root.path("benchmark").asText());
        assertEquals(3, root.path("generated_tokens").asInt());
        assertTrue(root.path("memory_bandwidth").path("median_gbps").asDouble() > 0);
        assertFalse(root.path("peer").path("available").asBoolean(true));
        JsonNode results = root.path("results");
        assertEquals(3, results.size());
        long previousBytes = Long.MAX_VALUE;
        for (JsonNode res : results) {
            assertTrue(res.path("osprey").path("tokens_per_second").asDouble() > 0, res.toString());
            assertEquals(2, res.path("osprey").path("samples_tokens_per_second").size());
            assertTrue(res.path("roofline_fraction").asDouble() > 0, res.toString());
            long bytes = res.path("weight_bytes_per_token").asLong();
            assertTrue(bytes > 0 && bytes < previousBytes, "BF16 > Q8_0 > Q4_0 bytes per token: " + results);
            previousBytes = bytes;
            assertFalse(res.has("ratio"));
        }
        // The generated model is in the Hugging Face layout, and is reused by the next run.
        Path model = Files.list(tmp.resolve("work")).findFirst().orElseThrow().resolve("hf-bf16");
        assertTrue(Files.readString(model.resolve("config.json")).contains("LlamaForCausalLM"));
        assertTrue(Files.isRegularFile(model.resolve("tokenizer.model")));
        long written = Files.getLastModifiedTime(model.resolve("model.safetensors")).toMillis();
        BenchGemmCommandTest.Run again = run(tmp.resolve("work"), "bench", "decode", "--tokens", "1",
                "--types", "q4_0");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("reusing"), again.err());
        assertEquals(written, Files.getLastModifiedTime(model.resolve("model.safetensors")).toMillis());
    }

    @Test
    void prefillReportsTheFmaPeakFraction(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("prefill.json");
        BenchGemmCommandTest.Run r = run(tmp.resolve("work"), "bench", "prefill", "--prompt", "40", "--reps", "2", "--types",
                "bf16,q8_0", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("%FMA"), r.out());
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals(40, root.path("prompt_tokens").asInt());
        assertEquals(2, root.path("results").size());
        for (JsonNode res : root.path("results")) {
            assertTrue(res.path("osprey").path("tokens_per_second").asDouble() > 0, res.toString());
            assertTrue(res.path("fma_peak_fraction").asDouble() > 0, res.toString());
        }
    }

    @Test
    void aMissingLlamaCppBuildIsReportedNotFatal(@TempDir Path tmp) throws Exception {
        Path fake = Files.createDirectories(tmp.resolve("llama.cpp"));
        BenchGemmCommandTest.Run r = run(tmp.resolve("work"), "bench", "decode", "--tokens", "1", "--types", "bf16",
                "--llama-cpp", fake.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("not a llama.cpp source tree"), r.out());
    }

    @Test
    void helpNamesTheOptions() {
        for (String command : new String[] {"decode", "prefill"}) {
            BenchGemmCommandTest.Run r = BenchGemmCommandTest.run("bench", command, "--help");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("--llama-cpp") && r.out().contains("--layers") && r.out().contains("--types")
                    && r.out().contains(command.equals("decode") ? "--tokens" : "--prompt"), r.out());
        }
    }

    @Test
    void badOptionsGiveOneLine(@TempDir Path tmp) {
        String[][] bad = {
                {"bench", "decode", "--types", "q5_1"},
                {"bench", "prefill", "--prompt", "0"},
                {"bench", "decode", "--tokens", "5000"},
                {"bench", "decode", "--reps", "0"},
                {"bench", "decode", "--threads", "0"},
        };
        String[] expected = {"unknown type 'q5_1'", "--prompt must be at least 1", "does not fit",
                "--reps must be at least 1", "--threads must be at least 1"};
        for (int i = 0; i < bad.length; i++) {
            BenchGemmCommandTest.Run r = run(tmp.resolve("work"), bad[i]);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(expected[i]), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        assertFalse(Files.exists(tmp.resolve("work")), "nothing is generated before the options are checked");
    }
}
