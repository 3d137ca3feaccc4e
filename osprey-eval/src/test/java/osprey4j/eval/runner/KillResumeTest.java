package osprey4j.eval.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.eval.bench.PaperEval;
import osprey4j.model.GenerationOptions;

/** A run killed with SIGKILL in another JVM, then resumed: nothing lost, nothing asked twice, the same answers. */
class KillResumeTest {
    @TempDir
    Path tmp;

    @Test
    void killNineThenRerunCompletesEverySampleExactlyOnce() throws Exception {
        int n = 60;
        Path data = EvalData.popeFile(tmp, n);
        Path images = tmp.resolve("images");
        Path out = tmp.resolve("out");
        Path samples = out.resolve(EvalRun.SAMPLES);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp",
                System.getProperty("java.class.path"), KillableRun.class.getName(), data.toString(),
                images.toString(), out.toString()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (lines(samples) < 5 && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the child was still running when killed: " + Files.readString(tmp.resolve("child.log")));
        p.destroyForcibly(); // SIGKILL
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue());
        int before = lines(samples);
        assertTrue(before >= 5 && before < n, "killed mid-way, after " + before + " answers");

        ScriptedAsker rest = new ScriptedAsker(q -> q.contains("thing1 ") ? "No." : "Yes, there is.", -1, 0);
        PaperEval.POPE.run(data, images, new EvalRun.Options("pope", out, 0, Shard.ALL,
                GenerationOptions.reference().withSeed(5), null), rest);
        List<String> ids = EvalRunTest.ids(samples);
        assertEquals(n, ids.size(), "every sample once");
        assertEquals(n, new HashSet<>(ids).size(), "no sample twice");
        assertTrue(rest.asked.get() <= n - before + 1 && rest.asked.get() >= n - before,
                "only the unanswered ones (and a line cut by the kill) were asked again: " + rest.asked.get());

        Path clean = tmp.resolve("clean");
        PaperEval.POPE.run(data, images, new EvalRun.Options("pope", clean, 0, Shard.ALL,
                GenerationOptions.reference().withSeed(5), null),
                new ScriptedAsker(q -> q.contains("thing1 ") ? "No." : "Yes, there is.", -1, 0));
        assertEquals(EvalRunTest.answers(clean), EvalRunTest.answers(out));
    }

    private static int lines(Path f) throws IOException {
        if (!Files.exists(f)) {
            return 0;
        }
        String s = Files.readString(f);
        int last = s.lastIndexOf('\n');
        return last < 0 ? 0 : (int) s.substring(0, last + 1).lines().count();
    }
}
