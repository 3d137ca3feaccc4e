package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/**
 * {@code osprey spark}'s command line: help, and the one-line refusals made before Spark starts (the jobs themselves
 * are tested in osprey-spark).
 */
class SparkCommandTest {
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = OspreyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpListsTheJobs() {
        Run r = run("spark", "--help");
        assertEquals(0, r.code());
        for (String s : new String[] {"describe", "instruct", "eval", "bench", "local[*]"}) {
            assertTrue(r.out().contains(s), s);
        }
        Run d = run("spark", "describe", "--help");
        for (String s : new String[] {"--master", "--annotations", "--images", "--format", "--partitions", "--conf",
                "--everything", "--sam", "--points-per-side"}) {
            assertTrue(d.out().contains(s), s);
        }
    }

    @Test
    void badInputIsOneLineBeforeSparkStarts() {
        String[] base = {"spark", "describe", "--images", ".", "--out", "target/spark-never-written"};
        assertOneLine(run(concat(base, "--model", "no-such-model", "--annotations", "pom.xml")),
                "model directory not found: no-such-model");
        assertOneLine(run(concat(base, "--model", "../models/demo", "--annotations", "no-such.json")),
                "annotation file not found: no-such.json");
        assertOneLine(run(concat(base, "--model", "../models/demo", "--annotations", "pom.xml", "--master",
                "locale[2]")), "unknown --master URL 'locale[2]'");
        assertOneLine(run(concat(base, "--model", "../models/demo", "--annotations", "pom.xml", "--format", "csv")),
                "unknown --format 'csv'");
        assertOneLine(run(concat(base, "--model", "../models/demo", "--annotations", "pom.xml", "--everything",
                "--sam", "pom.xml")), "--annotations and --everything are mutually exclusive");
        assertOneLine(run(concat(base, "--model", "../models/demo", "--everything")),
                "--everything needs SAM to segment the images: add --sam CKPT");
        assertOneLine(run(concat(base, "--model", "../models/demo", "--annotations", "pom.xml", "--sam", "pom.xml")),
                "--sam is used with --everything");
        assertOneLine(run(concat(base, "--model", "../models/demo")),
                "regions come from --annotations FILE or from --everything --sam CKPT");
        assertOneLine(run(concat(base, "--model", "../models/demo", "--everything", "--sam", "no-such.pth")),
                "SAM checkpoint not found: no-such.pth");
        assertOneLine(run(concat(base, "--model", "../models/demo", "--everything", "--sam", "pom.xml",
                "--points-per-side", "0")), "points_per_side must be at least 1");
        assertOneLine(run("spark", "eval", "world", "--model", "../models/demo", "--data", "no-such-world", "--out",
                "target/spark-never-written"), "world directory not found: no-such-world");
        assertOneLine(run("spark", "eval", "lvis", "--model", "../models/demo", "--data", "no-such.json", "--images",
                ".", "--out", "target/spark-never-written"), "evaluation file not found: no-such.json");
        assertOneLine(run("spark", "eval", "pope", "--model", "../models/demo", "--data", "pom.xml", "--images",
                ".", "--out", "target/spark-never-written", "--greedy", "--seed", "3"), "--greedy takes no seed");
        assertOneLine(run("spark", "instruct", "--annotations", "no-such-world", "--out", "target/spark-never-written"),
                "no instances.json in no-such-world");
        assertOneLine(run("spark", "instruct", "--instances", "no-such.json", "--out", "target/spark-never-written"),
                "instances file not found: no-such.json");
    }

    private static void assertOneLine(Run r, String message) {
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(message), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
