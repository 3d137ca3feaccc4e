package osprey4j.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.data.datasets.Osprey724k;
import osprey4j.data.datasets.Osprey724kEntry;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.instruct.FakeChatServer;
import osprey4j.data.instruct.WorldFiles;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InstructCommandTest {
    private static final ObjectMapper M = new ObjectMapper();
    private static final String[] LLM_FILES = {"osprey_detail_description.json", "osprey_conversation.json",
            "osprey_short_form.json"};

    @Test
    void templateModePrintsAJsonSummary(@TempDir Path dir) throws IOException {
        Path world = WorldFiles.write(dir.resolve("world"), 0);
        Path out = dir.resolve("out");
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int rc;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            rc = OspreyCli.execute("data", "instruct", "--annotations", world.toString(), "--out", out.toString(),
                    "--json");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, rc);
        JsonNode s = M.readTree(captured.toString(StandardCharsets.UTF_8));
        assertEquals(2, s.path("images").asInt());
        assertEquals(4, s.path("regions").asInt());
        assertEquals(1, s.path("records").path("osprey_part_level.json").asInt());
        assertEquals("templates", s.path("mode").asText());
        for (String f : List.of("osprey_detail_description.json", "osprey_conversation.json",
                "osprey_part_level.json", "osprey_lvis_positive_negative.json", "osprey_short_form.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
    }

    @Test
    void badInputIsOneLine(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        int rc = OspreyCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "data", "instruct",
                "--annotations", dir.resolve("nowhere").toString(), "--out", dir.resolve("out").toString());
        assertEquals(2, rc);
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().contains("no instances.json"), err.toString());
        assertFalse(Files.exists(dir.resolve("out")));
        err = new StringWriter();
        rc = OspreyCli.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "data", "instruct",
                "--annotations", dir.toString(), "--instances", "x.json", "--out", "o");
        assertEquals(2, rc);
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }

    /**
     * The CLI in its own JVM against the local fake endpoint, killed with destroyForcibly in the middle of the run,
     * then run again with the same command: every (image, subset) task ends up in the output exactly once.
     */
    @Test
    @Timeout(240)
    void killedRunFinishesWhenRunAgain(@TempDir Path dir) throws Exception {
        int images = 32;
        int tasks = images * 3;
        Path world = WorldFiles.write(dir.resolve("world"), images - 2);
        Path out = dir.resolve("out");
        try (FakeChatServer server = new FakeChatServer().delay(120)) {
            List<String> args = List.of("data", "instruct", "--annotations", world.toString(), "--out", out.toString(),
                    "--llm", server.baseUrl(), "--llm-model", "fake-model", "--llm-key-env", "OSPREY_TEST_NO_KEY",
                    "--concurrency", "2", "--backoff", "0.05", "--timeout", "5", "--no-progress", "--json");
            Process first = start(args, dir.resolve("first.log"));
            Path log = out.resolve("instruct_work.jsonl");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (lines(log) < 15) {
                assertTrue(first.isAlive(), "the first run ended before it was killed: "
                        + Files.readString(dir.resolve("first.log")));
                assertTrue(System.nanoTime() < deadline, "no progress in the work log");
                Thread.sleep(20);
            }
            first.destroyForcibly();
            assertTrue(first.waitFor(30, TimeUnit.SECONDS));
            long doneAtKill = lines(log);
            assertTrue(doneAtKill < tasks, "killed mid-run: " + doneAtKill + " of " + tasks);
            for (String f : LLM_FILES) {
                assertFalse(Files.exists(out.resolve(f)), "the final files are written only at the end");
            }

            Process second = start(args, dir.resolve("second.log"));
            assertTrue(second.waitFor(180, TimeUnit.SECONDS), "the rerun did not finish");
            String secondOut = Files.readString(dir.resolve("second.log"));
            assertEquals(0, second.exitValue(), secondOut);
            JsonNode summary = M.readTree(secondOut.lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
            assertEquals(tasks, summary.path("tasks_done").asLong() + summary.path("tasks_resumed").asLong());
            assertTrue(summary.path("tasks_resumed").asLong() >= doneAtKill - 1, summary.toString());

            // Every task once in the log, every image once in each LLM-written file.
            Set<String> seen = new HashSet<>();
            for (String line : Files.readAllLines(log)) {
                JsonNode n = M.readTree(line);
                assertEquals("ok", n.path("status").asText(), line);
                assertTrue(seen.add(n.path("task").asText()), "task twice: " + n.path("task").asText());
            }
            assertEquals(tasks, seen.size());
            Set<String> expectedNames = new HashSet<>(List.of("img1.png", "img2.png"));
            for (int k = 0; k < images - 2; k++) {
                expectedNames.add("extra" + k + ".png");
            }
            for (String f : LLM_FILES) {
                List<String> names = new ArrayList<>();
                try (Stream<Osprey724kEntry> e = Osprey724k.read(out.resolve(f), ReadReport.strict())) {
                    e.forEach(x -> names.add(x.fileName()));
                }
                assertEquals(images, names.size(), f);
                assertEquals(expectedNames, new HashSet<>(names), f);
            }
            // Only requests in flight at the kill can have been answered and lost.
            assertTrue(server.requests() <= tasks + 2, "requests " + server.requests());
            assertEquals(List.of("null"), server.authorisations().stream().distinct().toList(), "no key, no header");
        }
    }

    private static Process start(List<String> args, Path output) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), OspreyCli.class.getName()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    }

    private static long lines(Path log) throws IOException {
        if (!Files.exists(log)) {
            return 0;
        }
        return Files.readString(log).chars().filter(c -> c == '\n').count();
    }
}
