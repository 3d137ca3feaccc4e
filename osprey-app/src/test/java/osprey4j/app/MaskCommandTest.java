package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;

/**
 * {@code osprey mask convert}, run in-process. Expected counts strings, areas and boxes are pycocotools'
 * answers for the same inputs (copied from osprey-data's pycocotools_masks.json fixture).
 */
class MaskCommandTest {
    @TempDir
    Path dir;

    private static final ObjectMapper JSON = new ObjectMapper();
    // pycocotools for the polygon [[1.3,1.7,8.6,1.2,8.9,7.45,1.1,7.5]] on a 10x12 image.
    private static final String SQUARE_POLYGON = "[[1.3,1.7,8.6,1.2,8.9,7.45,1.1,7.5]]";
    private static final String SQUARE_COUNTS = "<6400000O0100000m0";
    // pycocotools for the uncompressed RLE {"size":[1500,1400],"counts":[100000,1500000,3000,496999,1]}.
    private static final String LONG_RUNS = "{\"size\":[1500,1400],\"counts\":[100000,1500000,3000,496999,1]}";
    private static final String LONG_RUNS_COUNTS = "PeQ3Pkh]1hm2W`\\QOYRM";

    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = OspreyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private JsonNode readJson(Path p) throws IOException {
        return JSON.readTree(p.toFile());
    }

    private List<String> filesInDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void polygonJsonToCompressedRleWithAreaAndBbox() throws IOException {
        Path in = write("poly.json", SQUARE_POLYGON), out = dir.resolve("rle.json");
        Run r = run("mask", "convert", "--in", in.toString(), "--out", out.toString(), "--size", "10x12", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode o = readJson(out);
        assertEquals(SQUARE_COUNTS, o.at("/segmentation/counts").textValue());
        assertEquals(10, o.at("/segmentation/size/0").intValue());
        assertEquals(12, o.at("/segmentation/size/1").intValue());
        assertEquals(48, o.get("area").intValue());
        assertEquals("[1.0,1.0,8.0,7.0]", o.get("bbox").toString());
        JsonNode summary = JSON.readTree(r.out());
        assertEquals(48, summary.get("area").intValue());
    }

    @Test
    void rleToPngAndBack() throws IOException {
        Path in = write("rle.json", "{\"segmentation\":{\"size\":[10,12],\"counts\":\"" + SQUARE_COUNTS
                + "\"},\"id\":5}");
        Path png = dir.resolve("m.png"), back = dir.resolve("back.json");
        assertEquals(0, run("mask", "convert", "--in", in.toString(), "--out", png.toString()).code());
        Mask m = MaskPng.read(png);
        assertEquals(12, m.width());
        assertEquals(10, m.height());
        assertEquals(48, m.area());
        assertEquals(new Mask.Box(1, 1, 8, 7), m.bbox());
        assertEquals(0, run("mask", "convert", "--in", png.toString(), "--out", back.toString()).code());
        assertEquals(SQUARE_COUNTS, readJson(back).at("/segmentation/counts").textValue());
    }

    @Test
    void uncompressedRleWithLongRuns() throws IOException {
        Path in = write("u.json", LONG_RUNS), out = dir.resolve("c.json");
        Run r = run("mask", "convert", "--in", in.toString(), "--out", out.toString(), "--size", "1500x1400");
        assertEquals(0, r.code(), r.err());
        JsonNode o = readJson(out);
        assertEquals(LONG_RUNS_COUNTS, o.at("/segmentation/counts").textValue());
        assertEquals(1996999, o.get("area").longValue());
        assertEquals("[66.0,0.0,1334.0,1500.0]", o.get("bbox").toString());
    }

    /**
     * Uncompressed RLEs with zero-length runs are written as the canonical compressed RLE of their mask, with the
     * mask's true box (pycocotools would write "2013" and [0,0,3,2] for the first and [0,0,2147483648,2] for the
     * second; osprey4j departs on purpose). Expected values worked out by hand, and they are what pycocotools
     * gives when it encodes the same masks (osprey-core's pycocotools_zero_runs.json): 2x3 runs 2,0,1,3 set
     * pixels (1,1), (2,0), (2,1); runs 0,0,0,2,4 set the first column.
     */
    @Test
    void uncompressedRleWithZeroRunsIsWrittenCanonical() throws IOException {
        String[][] cases = {
                {"{\"counts\": [2,0,1,3], \"size\": [2,3]}", "33", "3", "[1.0,0.0,2.0,2.0]"},
                {"{\"counts\": [0,0,0,2,4], \"size\": [2,3]}", "024", "2", "[0.0,0.0,1.0,2.0]"},
                {"{\"counts\": [3,0,0,3,0], \"size\": [2,3]}", "33", "3", "[1.0,0.0,2.0,2.0]"},
                {"{\"counts\": [0,0,6,0], \"size\": [2,3]}", "6", "0", "[0.0,0.0,0.0,0.0]"},
                {"{\"counts\": [0,6,0,0], \"size\": [2,3]}", "06", "6", "[0.0,0.0,3.0,2.0]"}};
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < cases.length; i++) {
            String[] c = cases[i];
            Path in = write("z" + i + ".json", c[0]), out = dir.resolve("z" + i + "-out.json");
            Run r = run("mask", "convert", "--in", in.toString(), "--out", out.toString(), "--json");
            assertEquals(0, r.code(), r.err());
            JsonNode o = readJson(out);
            assertEquals(c[1], o.at("/segmentation/counts").textValue(), c[0]);
            assertEquals(Long.parseLong(c[2]), o.get("area").longValue(), c[0]);
            assertEquals(c[3], o.get("bbox").toString(), c[0]);
            assertEquals(c[3], JSON.readTree(r.out()).get("bbox").toString(), c[0]);

            Path png = dir.resolve("z" + i + ".png");
            assertEquals(0, run("mask", "convert", "--in", in.toString(), "--out", png.toString()).code());
            Mask m = MaskPng.read(png);
            assertEquals(Long.parseLong(c[2]), m.area(), c[0]);
            assertEquals(c[3], JSON.valueToTree(m.bbox().toXywh()).toString(), c[0]);
            jsonl.append("{\"id\":").append(i).append(",\"segmentation\":").append(c[0]).append("}\n");
        }
        Path in = write("z.jsonl", jsonl.toString()), out = dir.resolve("z-out.jsonl");
        Run r = run("mask", "convert", "--in", in.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(cases.length, lines.size());
        for (int i = 0; i < cases.length; i++) {
            JsonNode o = JSON.readTree(lines.get(i));
            assertEquals(i, o.get("id").intValue());
            assertEquals(cases[i][1], o.at("/segmentation/counts").textValue());
            assertEquals(cases[i][3], o.get("bbox").toString());
        }
    }

    @Test
    void badUncompressedCountsAreOneLineErrors() throws IOException {
        String out = dir.resolve("o.json").toString();
        assertError(run("mask", "convert", "--in", write("a.json", "{\"counts\": [2,0,1,2], \"size\": [2,3]}")
                .toString(), "--out", out), "add up to 5 pixels, but its size 2x3 has 6");
        assertError(run("mask", "convert", "--in", write("b.json", "{\"counts\": [7,-1], \"size\": [2,3]}")
                .toString(), "--out", out), "run 1 is -1");
        assertError(run("mask", "convert", "--in", write("c.json", "{\"counts\": [2,0.5,4], \"size\": [2,3]}")
                .toString(), "--out", out), "run 1 is not an integer: 0.5");
        assertError(run("mask", "convert", "--in", write("d.json", "{\"counts\": [0,0,0], \"size\": [2,3]}")
                .toString(), "--out", out), "add up to 0");
        assertError(run("mask", "convert", "--in", write("e.jsonl", "{\"counts\": [6], \"size\": [2,3]}\n"
                + "{\"counts\": [1,\"2\",3], \"size\": [2,3]}\n").toString(), "--out",
                dir.resolve("o.jsonl").toString()), "line 2");
        assertFalse(Files.exists(dir.resolve("o.json")));
        assertFalse(Files.exists(dir.resolve("o.jsonl")));
    }

    @Test
    void jsonlLineByLineKeepsOtherFields() throws IOException {
        Path in = write("in.jsonl", String.join("\n",
                "{\"id\":1,\"height\":10,\"width\":12,\"segmentation\":" + SQUARE_POLYGON + "}",
                "",
                "{\"id\":2,\"segmentation\":" + LONG_RUNS + ",\"area\":0}",
                "{\"size\":[10,12],\"counts\":\"" + SQUARE_COUNTS + "\"}") + "\n");
        Path out = dir.resolve("out.jsonl");
        Run r = run("mask", "convert", "--in", in.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("3 segmentation"), r.out());
        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size());
        JsonNode a = JSON.readTree(lines.get(0)), b = JSON.readTree(lines.get(1)), c = JSON.readTree(lines.get(2));
        assertEquals(1, a.get("id").intValue());
        assertEquals(SQUARE_COUNTS, a.at("/segmentation/counts").textValue());
        assertEquals(2, b.get("id").intValue());
        assertEquals(LONG_RUNS_COUNTS, b.at("/segmentation/counts").textValue());
        assertEquals(1996999, b.get("area").longValue()); // the stale area is replaced
        assertEquals(48, c.get("area").intValue());
    }

    @Test
    void badLineNamesItsNumberAndLeavesNothing() throws IOException {
        Path in = write("in.jsonl", "{\"size\":[10,12],\"counts\":\"" + SQUARE_COUNTS + "\"}\n"
                + "{\"size\":[10,12],\"counts\":\"" + SQUARE_COUNTS + "x\"}\n");
        Path out = dir.resolve("out.jsonl");
        Run r = run("mask", "convert", "--in", in.toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("line 2") && r.err().contains("invalid character 'x'"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(out));
        assertEquals(List.of("in.jsonl"), filesInDir()); // no temporary file left behind
    }

    @Test
    void failureKeepsAnExistingOutput() throws IOException {
        Path in = write("bad.json", "{\"size\":[10,12],\"counts\":\"" + SQUARE_COUNTS.substring(0, 5) + "\"}");
        Path out = write("out.json", "old");
        Run r = run("mask", "convert", "--in", in.toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("osprey mask convert: ") && r.err().contains("add up to"), r.err());
        assertEquals("old", Files.readString(out));
        assertEquals(List.of("bad.json", "out.json"), filesInDir());
    }

    @Test
    void usageErrors() throws IOException {
        Path poly = write("p.json", SQUARE_POLYGON);
        Path rle = write("r.json", "{\"size\":[10,12],\"counts\":\"" + SQUARE_COUNTS + "\"}");
        Path odd = write("odd.json", "[[1,2,3,4,5]]");
        String out = dir.resolve("o.json").toString();
        assertError(run("mask", "convert", "--in", poly.toString(), "--out", out), "--size");
        assertError(run("mask", "convert", "--in", rle.toString(), "--out", out, "--size", "12x10"), "12x10");
        assertError(run("mask", "convert", "--in", odd.toString(), "--out", out, "--size", "10x10"), "odd number");
        assertError(run("mask", "convert", "--in", rle.toString(), "--out", dir.resolve("o.txt").toString()),
                "unknown format");
        assertError(run("mask", "convert", "--in", rle.toString(), "--out", out, "--size", "10by12"), "HEIGHTxWIDTH");
        assertError(run("mask", "convert", "--in", rle.toString(), "--out", out, "--size", "0x12"), "positive");
        assertError(run("mask", "convert", "--in", rle.toString(), "--out", dir.resolve("o.jsonl").toString()),
                ".jsonl");
        assertError(run("mask", "convert", "--in", dir.resolve("missing.json").toString(), "--out", out),
                "not found");
        assertError(run("mask", "convert", "--in", write("x.json", "{oops").toString(), "--out", out),
                "not valid JSON");
        assertFalse(Files.exists(dir.resolve("o.json")));
    }

    private static void assertError(Run r, String mention) {
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(mention), "'" + r.err() + "' should mention " + mention);
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void instancePngToJsonl() throws IOException {
        SortedMap<Integer, Mask> ids = new TreeMap<>();
        ids.put(3, Mask.fromPredicate(12, 10, (x, y) -> x < 4));
        ids.put(9, Mask.fromPredicate(12, 10, (x, y) -> x >= 6 && y >= 5));
        Path png = dir.resolve("ids.png"), out = dir.resolve("ids.jsonl");
        MaskPng.writeInstances(ids, 12, 10, png);
        Run r = run("mask", "convert", "--instances", "--in", png.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(2, lines.size());
        JsonNode a = JSON.readTree(lines.get(0)), b = JSON.readTree(lines.get(1));
        assertEquals(3, a.get("id").intValue());
        assertEquals(40, a.get("area").intValue());
        assertEquals("[0.0,0.0,4.0,10.0]", a.get("bbox").toString());
        assertEquals(9, b.get("id").intValue());
        assertEquals(30, b.get("area").intValue());
        assertEquals("[6.0,5.0,6.0,5.0]", b.get("bbox").toString());
    }
}
