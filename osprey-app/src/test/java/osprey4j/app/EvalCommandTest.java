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

class EvalCommandTest {
    static final Path MODEL = Path.of("..", "osprey-model", "src", "test", "resources", "parity", "model");

    private record Run(int rc, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = OspreyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(rc, out.toString(), err.toString());
    }

    @Test
    void evaluatesAWorldAndResumes(@TempDir Path dir) throws IOException {
        Path world = dir.resolve("w");
        assertEquals(0, run("data", "world", "--images", "2", "--seed", "77", "--size", "96", "--out",
                world.toString()).rc);
        Path out = dir.resolve("eval");
        Run first = run("eval", "world", "--model", MODEL.toString(), "--data", world.toString(), "--out",
                out.toString(), "--limit", "3", "--json");
        assertEquals(0, first.rc, first.err);
        JsonNode s = new ObjectMapper().readTree(first.out);
        assertEquals(3, s.get("questions").asInt());
        assertEquals(3, s.get("asked_now").asInt());
        assertEquals(3, Files.readAllLines(out.resolve("samples.jsonl")).size());
        assertTrue(Files.readString(out.resolve("report.md")).contains("| question type |"));

        Run again = run("eval", "world", "--model", MODEL.toString(), "--data", world.toString(), "--out",
                out.toString(), "--limit", "3");
        assertEquals(0, again.rc, again.err);
        assertTrue(again.out.contains("3 questions (0 asked now, 3 resumed)"), again.out);
    }

    @Test
    void badArgumentsAreOneLineUsageErrors(@TempDir Path dir) throws IOException {
        Path notWorld = Files.createDirectories(dir.resolve("empty"));
        Path file = Files.writeString(dir.resolve("f"), "x");
        String m = MODEL.toString();
        for (String[] args : new String[][] {
                {"eval", "world", "--model", m, "--data", dir.resolve("missing").toString(), "--out", dir.toString()},
                {"eval", "world", "--model", m, "--data", notWorld.toString(), "--out", dir.resolve("o").toString()},
                {"eval", "world", "--model", dir.resolve("nomodel").toString(), "--data", notWorld.toString(),
                        "--out", dir.resolve("o").toString()},
                {"eval", "world", "--model", m, "--data", notWorld.toString(), "--out", file.toString()},
                {"eval", "world", "--model", m, "--data", notWorld.toString(), "--out", dir.toString(), "--limit", "-1"},
                {"eval", "world", "--model", m}}) {
            Run r = run(args);
            assertEquals(2, r.rc, String.join(" ", args) + ": " + r.err);
            assertEquals(1, r.err.strip().lines().count(), r.err);
        }
        Run help = run("eval", "world", "--help");
        assertEquals(0, help.rc);
        assertTrue(help.out.contains("--limit"), help.out);
    }
}
