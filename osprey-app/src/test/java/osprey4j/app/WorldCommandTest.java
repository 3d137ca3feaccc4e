package osprey4j.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorldCommandTest {
    private record Run(int rc, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = OspreyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(rc, out.toString(), err.toString());
    }

    @Test
    void writesTheWorldAndItsStatistics(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("w");
        Run r = run("data", "world", "--images", "3", "--seed", "4", "--size", "96x80", "--out", out.toString(),
                "--json");
        assertEquals(0, r.rc, r.err);
        JsonNode summary = new ObjectMapper().readTree(r.out);
        assertEquals(3, summary.get("images").asInt());
        assertTrue(summary.get("objects").asInt() >= 6);
        for (String f : new String[] {"instances.json", "parts.json", "captions.json", "images/000003.png"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }

        Run stats = run("data", "stats", out.toString(), "--out", dir.resolve("s.md").toString());
        assertEquals(0, stats.rc, stats.err);
        assertTrue(Files.readString(dir.resolve("s.md")).contains("Objects per category"));
        assertTrue(Files.size(dir.resolve("s.png")) > 1000);

        Run json = run("data", "stats", out.toString(), "--json", "--no-chart");
        assertEquals(0, json.rc, json.err);
        assertEquals(summary.get("objects").asInt(),
                new ObjectMapper().readTree(json.out).get("world").get("objects").asInt());
    }

    @Test
    void badArgumentsAreOneLineUsageErrors(@TempDir Path dir) throws IOException {
        String out = dir.resolve("w").toString();
        Path instruct = Files.createDirectories(dir.resolve("instruct"));
        Files.writeString(instruct.resolve("osprey_short_form.json"), "[{\"file_name\": \"a.png\", \"height\": 4, "
                + "\"width\": 5, \"annotation\": [{\"segmentation\": [[0, 0, 3, 0, 3, 3]]}], \"conversations\": "
                + "[{\"from\": \"human\", \"value\": \"What is <region1>?\"}, "
                + "{\"from\": \"gpt\", \"value\": \"A cup.\"}]}]");
        for (String[] args : new String[][] {
                {"data", "world", "--images", "0", "--out", out},
                {"data", "world", "--images", "-3", "--out", out},
                {"data", "world", "--images", "lots", "--out", out},
                {"data", "world", "--images", "2", "--size", "10", "--out", out},
                {"data", "world", "--images", "2", "--size", "big", "--out", out},
                {"data", "world", "--images", "2"},
                {"data", "stats", dir.resolve("missing").toString()},
                {"data", "stats", dir.toString()},
                {"data", "stats", instruct.toString(), "--no-chart", "--out", dir.resolve("no/such/s.md").toString()},
                {"data", "stats", instruct.toString(), "--chart", dir.resolve("no/such/s.png").toString()}}) {
            Run r = run(args);
            assertEquals(2, r.rc, String.join(" ", args) + ": " + r.err);
            assertEquals(1, r.err.strip().lines().count(), r.err);
        }
        assertFalse(Files.exists(dir.resolve("w")));
        Run ok = run("data", "stats", instruct.toString(), "--no-chart");
        assertEquals(0, ok.rc, ok.err);
        assertTrue(ok.out.contains("| short_form | 1 | 1 | 1 | 1 | 0 |"), ok.out);
    }

    @Test
    void unwritableOrNonEmptyOutputIsRefusedWithoutLeftovers(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Run r = run("data", "world", "--images", "2", "--size", "64", "--out", file.resolve("sub").toString());
        assertEquals(2, r.rc, r.err);
        assertTrue(r.err.contains("cannot write to --out"), r.err);

        Path full = Files.createDirectories(dir.resolve("full"));
        Files.writeString(full.resolve("keep.txt"), "x");
        Run r2 = run("data", "world", "--images", "2", "--size", "64", "--out", full.toString());
        assertEquals(2, r2.rc, r2.err);
        assertTrue(r2.err.contains("not empty"), r2.err);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(2, s.count(), "no partial output left behind");
        }
    }
}
