package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CheckpointCommandTest {
    /** The tiny LLaMA made by tools/fixtures/make_checkpoint_fixtures.py (tests run in osprey-app/). */
    private static final Path SHARDED = Path.of("..", "osprey-core", "src", "test", "resources", "checkpoints",
            "sharded");
    /**
     * Its size from its config: vocab 64 x hidden 16 for embed_tokens and lm_head, per layer 4 x 16x16
     * attention, 3 x 40x16 MLP and 2 norms of 16, two layers, and the final norm of 16.
     */
    private static final long PARAMETERS = 2 * 64 * 16 + 2 * (4 * 16 * 16 + 3 * 40 * 16 + 2 * 16) + 16;

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = OspreyCli.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void listsAShardedDirectory() {
        Run r = run("checkpoint", "ls", SHARDED.toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals("name                                            dtype  shape     file", lines[0]);
        assertTrue(r.out().contains(
                "model.layers.0.self_attn.q_proj.weight          F32    [16, 16]  model-00001-of-00002.safetensors\n"),
                r.out());
        assertTrue(r.out().contains(
                "model.norm.weight                               F32    [16]      model-00002-of-00002.safetensors\n"),
                r.out());
        assertEquals(String.format("21 tensors, %,d parameters, 31.3 KiB (%,d bytes)", PARAMETERS, PARAMETERS * 4),
                lines[lines.length - 1]);
    }

    @Test
    void jsonOutput() throws IOException {
        Run r = run("checkpoint", "ls", SHARDED.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals(21, root.get("tensors").size());
        assertEquals(PARAMETERS, root.get("total").get("parameters").asLong());
        assertEquals(PARAMETERS * 4, root.get("total").get("bytes").asLong());
        JsonNode first = root.get("tensors").get(0);
        assertEquals("lm_head.weight", first.get("name").asText());
        assertEquals("F32", first.get("dtype").asText());
        assertEquals("[64,16]", first.get("shape").toString());
        assertEquals("model-00002-of-00002.safetensors", first.get("file").asText());
    }

    @Test
    void badPathsGiveOneLineAndANonZeroExit() throws IOException {
        Run missing = run("checkpoint", "ls", tmp.resolve("missing").toString());
        assertEquals(2, missing.code());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());
        assertTrue(missing.err().startsWith("osprey checkpoint ls: "), missing.err());
        assertTrue(missing.err().contains("no such file or directory"), missing.err());

        Path junk = tmp.resolve("junk.bin");
        Files.writeString(junk, "definitely not a checkpoint");
        Run bad = run("checkpoint", "ls", junk.toString());
        assertEquals(1, bad.code());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertTrue(bad.err().contains("not a checkpoint"), bad.err());
        assertEquals("", bad.out());
    }
}
