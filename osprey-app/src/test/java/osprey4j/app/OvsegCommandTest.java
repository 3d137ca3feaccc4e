package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.eval.bench.OvsegSampleData;

/**
 * {@code osprey eval ovseg} with the bundled demo model on the tiny sample layouts: it runs, reports and resumes
 * (the demo model knows none of these classes; the figures are not a quality claim).
 */
class OvsegCommandTest {
    static final String DEMO = "../models/demo";

    private record Run(int rc, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = OspreyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(rc, out.toString(), err.toString());
    }

    @Test
    void demoModelRunsReportsAndResumesOnAde(@TempDir Path dir) throws IOException {
        OvsegSampleData.write(dir, "ade");
        Path out = dir.resolve("out");
        String[] args = {"eval", "ovseg", "--model", DEMO, "--data", dir.toString(), "--dataset", "ade", "--out",
                out.toString(), "--greedy", "--max-new-tokens", "4", "--json"};
        Run first = run(args);
        assertEquals(0, first.rc, first.err);
        JsonNode s = new ObjectMapper().readTree(first.out);
        assertEquals(2, s.get("images").asInt());
        assertEquals(7, s.get("segments_asked").asInt());
        for (String k : new String[] {"PQ", "AP", "mIoU"}) {
            assertTrue(s.get(k).isNumber(), k + " in " + s);
        }
        assertEquals(29.63, s.get("paper_osprey_7b").get("mIoU").asDouble());
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| mIoU |"));
        assertTrue(md.contains("![charts](chart.png)"), md);
        assertPng(out.resolve("chart.png"));
        // the demo model knows none of these classes: its misses are listed, the six most wrong drawn
        JsonNode worst = s.get("worst");
        assertEquals(7 - s.get("segments_right").asInt(), worst.size());
        for (int i = 0; i < Math.min(6, worst.size()); i++) {
            String file = "worst/" + worst.get(i).get("id").asText().replace('#', '_') + ".png";
            assertTrue(md.contains("](" + file + ")"), md);
            assertPng(out.resolve(file));
            if (i > 0) {
                assertTrue(worst.get(i - 1).get("truth_probability").asDouble()
                        <= worst.get(i).get("truth_probability").asDouble(), "most wrong first: " + worst);
            }
        }
        long lines = Files.readAllLines(out.resolve("samples.jsonl")).size();
        assertEquals(7, lines);

        String[] plain = java.util.Arrays.copyOf(args, args.length - 1);
        Run again = run(plain);
        assertEquals(0, again.rc, again.err);
        assertTrue(again.out.contains("(0 segments asked now, 7 resumed)"), again.out);
        assertEquals(7, Files.readAllLines(out.resolve("samples.jsonl")).size(), "nothing asked twice");
        JsonNode s2 = new ObjectMapper().readTree(Files.readString(out.resolve("summary.json")));
        assertEquals(s.get("PQ").asDouble(), s2.get("PQ").asDouble(), "the same figures from the resumed answers");
    }

    private static void assertPng(Path f) throws IOException {
        assertTrue(Files.isRegularFile(f), f + " written");
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(f), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head, f + " is a PNG");
        assertNotNull(ImageIO.read(f.toFile()), f + " decodes");
    }

    @Test
    void cityscapesRunsAndMissingDataIsOneLine(@TempDir Path dir) throws IOException {
        OvsegSampleData.write(dir, "cityscapes");
        Run r = run("eval", "ovseg", "--model", DEMO, "--data", dir.toString(), "--dataset", "cityscapes", "--out",
                dir.resolve("out").toString(), "--greedy", "--max-new-tokens", "4", "--limit", "1");
        assertEquals(0, r.rc, r.err);
        assertTrue(r.out.contains("AP     "), r.out);
        assertTrue(r.out.contains("1 images (4 segments asked now, 0 resumed)"), r.out);

        Run missing = run("eval", "ovseg", "--model", DEMO, "--data", dir.toString(), "--dataset", "ade", "--out",
                dir.resolve("o2").toString());
        assertNotEquals(0, missing.rc);
        assertTrue(missing.err.contains("ade20k_panoptic_val.json not found"), missing.err);
        assertEquals(1, missing.err.strip().lines().count(), missing.err);
    }
}
