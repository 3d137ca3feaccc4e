package osprey4j.data.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.data.datasets.Osprey724kEntry;
import osprey4j.data.datasets.ReadReport;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LLM mode end to end against the local fake endpoint, with faults. */
@Timeout(120)
class LlmModeTest {
    @TempDir
    Path tmp;

    static LlmGenerator.Options options(FakeChatServer s, int concurrency, int maxInvalid) {
        return new LlmGenerator.Options(new ChatClient.Settings(ChatClient.Settings.endpoint(s.baseUrl()),
                "fake-model", "sk-test", Duration.ofMillis(1000), 8, Duration.ofMillis(10), Duration.ofMillis(1200),
                0.2), concurrency, maxInvalid, 2.5, 10.0, null);
    }

    static InstructSummary run(Path world, Path out, LlmGenerator.Options llm) throws Exception {
        SceneReader.Inputs in = SceneReader.Inputs.directory(world, null);
        SceneReader reader = SceneReader.open(in, ReadReport.strict());
        return LlmGenerator.run(reader, MiniLmEmbedder.get(), new InstructOptions(3, 20), llm, out, in);
    }

    @Test
    void everyTaskOnceDespiteTransientFaults() throws Exception {
        Path world = WorldFiles.write(tmp.resolve("world"), 10);   // 12 images, 36 LLM tasks
        Path out = tmp.resolve("out");
        int tasks = 12 * 3;
        try (FakeChatServer s = new FakeChatServer()) {
            // Five different transient faults in a row, all met by the first task: the client retries through them.
            s.inject(FakeChatServer.Fault.RATE_LIMITED, FakeChatServer.Fault.SERVER_ERROR, FakeChatServer.Fault.SLOW,
                    FakeChatServer.Fault.BROKEN_JSON, FakeChatServer.Fault.DROP);
            InstructSummary first = run(world, out, options(s, 1, 2));
            assertEquals(0, first.tasksSkipped());
            assertEquals(tasks, first.tasksDone());
            assertEquals(5, first.retries());
            assertEquals(tasks + 5, s.requests());
            assertEquals(tasks, records(out, LlmGenerator.LLM_SUBSETS));
            assertTrue(first.promptTokens() > 0 && first.completionTokens() > 0);
            assertEquals(first.promptTokens() / 1e6 * 2.5 + first.completionTokens() / 1e6 * 10, first.cost(), 1e-12);
            JsonNode checkpoint = new ObjectMapper().readTree(out.resolve(LlmGenerator.CHECKPOINT).toFile());
            assertTrue(checkpoint.path("finished").asBoolean());
            assertEquals(first.promptTokens(), checkpoint.path("prompt_tokens").asLong());
        }
    }

    @Test
    void invalidRepliesAreRetriedThenSkippedAndARerunFillsTheGap() throws Exception {
        Path world = WorldFiles.write(tmp.resolve("world"), 2);   // 4 images, 12 tasks
        Path out = tmp.resolve("out");
        try (FakeChatServer s = new FakeChatServer()) {
            s.inject(FakeChatServer.Fault.INVALID_REPLY, FakeChatServer.Fault.INVALID_REPLY,
                    FakeChatServer.Fault.INVALID_REPLY, FakeChatServer.Fault.INVALID_REPLY);
            InstructSummary first = run(world, out, options(s, 1, 2));
            // the first task got three invalid replies (skipped), the second one invalid reply then a good one
            assertEquals(1, first.tasksSkipped());
            assertEquals(11, first.tasksDone());
            assertEquals(4, first.invalidReplies());
            assertEquals(11, records(out, LlmGenerator.LLM_SUBSETS));
            int before = s.requests();
            InstructSummary second = run(world, out, options(s, 1, 2));
            assertEquals(1, s.requests() - before, "only the skipped task is asked again");
            assertEquals(11, second.tasksResumed());
            assertEquals(1, second.tasksDone());
            assertEquals(12, records(out, LlmGenerator.LLM_SUBSETS));
            // tokens of all three runs' replies, the invalid ones included, are accounted
            assertTrue(second.promptTokens() > first.promptTokens());
            // the template subsets are written too: one mug with parts, one yes/no record per image
            assertEquals(1, TemplateModeTest.read(out, Subset.PART_LEVEL).size());
            assertEquals(4, TemplateModeTest.read(out, Subset.LVIS_POSITIVE_NEGATIVE).size());
        }
    }

    @Test
    void concurrencyIsBounded() throws Exception {
        Path world = WorldFiles.write(tmp.resolve("world"), 10);
        try (FakeChatServer s = new FakeChatServer().delay(60)) {
            run(world, tmp.resolve("out"), options(s, 3, 0));
            assertTrue(s.maxInFlight() <= 3, "max in flight " + s.maxInFlight());
            assertTrue(s.maxInFlight() >= 2, "requests overlap: " + s.maxInFlight());
        }
    }

    @Test
    void aRefusedKeyStopsTheRunWithoutRetrying() throws Exception {
        Path world = WorldFiles.write(tmp.resolve("world"), 0);
        try (FakeChatServer s = new FakeChatServer()) {
            s.inject(FakeChatServer.Fault.UNAUTHORISED);
            ChatClient.ChatException e = assertThrows(ChatClient.ChatException.class,
                    () -> run(world, tmp.resolve("out"), options(s, 1, 2)));
            assertTrue(e.refused(), e.getMessage());
            assertEquals(1, s.requests());
        }
    }

    @Test
    void aTornLastLineIsDroppedAndOtherSettingsAreRefused() throws Exception {
        Path world = WorldFiles.write(tmp.resolve("world"), 0);
        Path out = tmp.resolve("out");
        try (FakeChatServer s = new FakeChatServer()) {
            run(world, out, options(s, 1, 0));
            Path log = WorkLog.in(out);
            List<String> lines = Files.readAllLines(log);
            assertEquals(6, lines.size());
            // Simulate kill -9 in the middle of appending the last line: keep only half of it.
            String last = lines.getLast();
            Files.writeString(log, String.join("\n", lines.subList(0, 5)) + "\n" + last.substring(0, last.length() / 2),
                    StandardCharsets.UTF_8);
            int before = s.requests();
            run(world, out, options(s, 1, 0));
            assertEquals(1, s.requests() - before, "the torn task is asked again");
            List<String> after = Files.readAllLines(log);
            assertEquals(6, after.size());
            for (String l : after) {
                new ObjectMapper().readTree(l);   // every line whole
            }
            assertEquals(6, records(out, LlmGenerator.LLM_SUBSETS));
            // the same folder with another model is refused, not mixed
            LlmGenerator.Options o = options(s, 1, 0);
            LlmGenerator.Options other = new LlmGenerator.Options(new ChatClient.Settings(o.chat().endpoint(),
                    "another-model", null, o.chat().timeout(), 1, o.chat().baseBackoff(), o.chat().maxBackoff(), 0),
                    1, 0, 0, 0, null);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(world, out, other));
            assertTrue(e.getMessage().contains("model"), e.getMessage());
        }
    }

    /** Records in the given subsets' files, each (image, subset) at most once. */
    static int records(Path out, List<Subset> subsets) throws Exception {
        int n = 0;
        for (Subset s : subsets) {
            Map<String, Integer> seen = new HashMap<>();
            for (Osprey724kEntry e : TemplateModeTest.read(out, s)) {
                String key = e.fileName();
                assertEquals(null, seen.put(key, 1), "duplicate record for " + key + " in " + s);
                n++;
            }
        }
        return n;
    }
}
