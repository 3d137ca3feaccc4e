package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;
import osprey4j.core.tensor.Tensor;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.SegmentationJson;

/**
 * {@code osprey ask}, {@code describe} and {@code inspect} in-process on the parity fixture of osprey-model (a
 * tiny random Osprey checkpoint with the official code's outputs; see its README). Expected answers and tensors
 * are the reference's.
 */
class ModelCommandsTest {
    static final Path PARITY = Path.of("..", "osprey-model", "src", "test", "resources", "parity");
    static final Path MODEL = PARITY.resolve("model");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = OspreyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    static String input(String name) {
        return PARITY.resolve("inputs").resolve(name).toString();
    }

    static JsonNode testCase(String name) throws IOException {
        return JSON.readTree(PARITY.resolve("cases.json").toFile()).path("cases").path(name);
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    static void assertOneLineError(Run r, String expected) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(expected), r.err());
    }

    private static final String QUESTION_A = "What is the relationship between region1<region1> and region2<region2>?";

    @Test
    void askGreedyJsonGivesTheReferenceAnswer() throws IOException {
        JsonNode c = testCase("A");
        Run r = run("ask", "--model", MODEL.toString(), "--image", input("scene_rgb.jpg"),
                "--mask", input("A_ellipse.png"), "--mask", input("A_ring.png"), "--question", QUESTION_A,
                "--greedy", "--max-new-tokens", "20", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode answer = JSON.readTree(r.out());
        assertArrayEquals(ints(c.path("generated_ids")), ints(answer.path("tokens")));
        assertEquals(c.path("generated_text").asText().strip(), answer.path("text").asText());
        assertEquals(c.path("input_ids").size() - 1 + 1024, answer.path("prompt_tokens").asInt());
        assertTrue(answer.path("timings").path("encode_ms").asDouble() > 0);
        assertEquals(20, answer.path("timings").path("generated_tokens").asInt());
    }

    @Test
    void askStreamsTheAnswerText() throws IOException {
        JsonNode c = testCase("D");
        Run r = run("ask", "--model", MODEL.toString(), "--image", input("palette_small.png"),
                "--mask", input("D_full.png"), "--question", c.path("question").asText(),
                "--greedy", "--max-new-tokens", "20");
        assertEquals(0, r.code(), r.err());
        assertEquals(c.path("generated_text").asText().strip() + System.lineSeparator(), r.out());
    }

    @Test
    void askWithABoxUsesTheRectangleAsTheMask() throws IOException {
        // D_full covers the whole 96x80 image: the same region as a box over the whole image.
        JsonNode c = testCase("D");
        Run r = run("ask", "--model", MODEL.toString(), "--image", input("palette_small.png"),
                "--box", "0,0,96,80", "--question", c.path("question").asText(),
                "--greedy", "--max-new-tokens", "20", "--json");
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(ints(c.path("generated_ids")), ints(JSON.readTree(r.out()).path("tokens")));
    }

    /** An empty mask is accepted as in the reference, with one warning line on stderr. */
    @Test
    void askWithAnEmptyMaskWarnsOnOneLine() throws IOException {
        Path empty = dir.resolve("empty.png");
        MaskPng.write(Mask.empty(96, 80), empty);
        Run r = run("ask", "--model", MODEL.toString(), "--image", input("palette_small.png"),
                "--mask", empty.toString(), "--question", "What is <region1>?", "--greedy", "--max-new-tokens", "3",
                "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals(1, r.err().lines().filter(l -> !l.startsWith("WARNING: Using incubator")).count(), r.err());
        assertTrue(r.err().startsWith("osprey ask: warning: region 1 is empty"), r.err());
        assertEquals(3, JSON.readTree(r.out()).path("tokens").size());
    }

    @Test
    void askErrorsAreOneLine() {
        String m = MODEL.toString();
        assertOneLineError(run("ask", "--model", dir.resolve("missing").toString(), "--image",
                input("palette_small.png"), "--mask", input("D_full.png"), "--question", "What is <region1>?"),
                "model directory not found");
        assertOneLineError(run("ask", "--model", m, "--image", input("palette_small.png"),
                "--mask", input("A_ring.png"), "--question", "What is <region1>?"),
                "is 360x240 but the image is 96x80");
        assertOneLineError(run("ask", "--model", m, "--image", input("palette_small.png"),
                "--mask", input("D_full.png"), "--question", "Compare <region1> and <region2>."),
                "<region2>");
        assertOneLineError(run("ask", "--model", m, "--image", input("palette_small.png"),
                "--point", "3,4", "--question", "What is <region1>?"), "needs SAM");
        assertOneLineError(run("ask", "--model", m, "--image", input("palette_small.png"),
                "--mask", input("D_full.png"), "--question", "What is <region1>?", "--greedy", "--seed", "3"),
                "--greedy and --seed");
    }

    /** A COCO file for case B's image: B_tiny as RLE, and a polygon covering the upper left. */
    private Path cocoFileForB() throws IOException {
        Mask tiny = MaskPng.read(Path.of(input("B_tiny.png")));
        ObjectNode root = JSON.createObjectNode();
        ArrayNode images = root.putArray("images");
        images.addObject().put("id", 7).put("file_name", "gray_portrait.png").put("width", 180).put("height", 300);
        images.addObject().put("id", 8).put("file_name", "other.png").put("width", 10).put("height", 10);
        ArrayNode anns = root.putArray("annotations");
        anns.addObject().put("id", 41).put("image_id", 7).set("segmentation",
                SegmentationJson.write(CocoMasks.encode(tiny)));
        anns.addObject().put("id", 42).put("image_id", 7).set("segmentation",
                JSON.readTree("[[10, 10, 90, 10, 90, 120, 10, 120]]"));
        anns.addObject().put("id", 43).put("image_id", 8).set("segmentation",
                JSON.readTree("[[1, 1, 5, 1, 5, 5]]"));
        Path file = dir.resolve("coco.json");
        Files.writeString(file, root.toString());
        return file;
    }

    /** describe --short asks the demo's short question, which is case B's prompt: B_tiny gets case B's answer. */
    @Test
    void describeWritesOneLinePerRegionOfTheImage() throws IOException {
        JsonNode c = testCase("B");
        Path out = dir.resolve("regions.jsonl");
        Run r = run("describe", "--model", MODEL.toString(), "--image", input("gray_portrait.png"),
                "--masks", cocoFileForB().toString(), "--short", "--out", out.toString(),
                "--greedy", "--max-new-tokens", "20");
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(2, lines.size());
        JsonNode first = JSON.readTree(lines.get(0));
        assertEquals(41, first.path("id").asInt());
        assertEquals(c.path("message").asText(), first.path("question").asText());
        assertArrayEquals(ints(c.path("generated_ids")), ints(first.path("tokens")));
        assertEquals(c.path("generated_text").asText().strip(), first.path("answer").asText());
        assertEquals(6, first.path("area").asInt());
        JsonNode second = JSON.readTree(lines.get(1));
        assertEquals(42, second.path("id").asInt());
        assertEquals(4, second.path("bbox").size());
        assertTrue(r.err().contains("[2/2]"), r.err());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("coco.json", "regions.jsonl"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary file left");
        }
    }

    @Test
    void describeErrorsLeaveNothingBehind() throws IOException {
        Path out = dir.resolve("regions.jsonl");
        Path badSize = dir.resolve("bad.json");
        Files.writeString(badSize, "{\"size\": [10, 10], \"counts\": [100]}");
        assertOneLineError(run("describe", "--model", MODEL.toString(), "--image", input("gray_portrait.png"),
                "--masks", badSize.toString(), "--out", out.toString()), "bad.json");
        assertOneLineError(run("describe", "--model", MODEL.toString(), "--image", input("gray_portrait.png"),
                "--everything", "--out", out.toString()), "needs SAM");
        assertFalse(Files.exists(out));
    }

    /** inspect on case D: every tensor against the reference's dump (stem..res3 and pixels stored at stride 4). */
    @Test
    void inspectDumpMatchesTheReference() throws IOException {
        JsonNode c = testCase("D");
        Path dump = dir.resolve("d.safetensors");
        Run r = run("inspect", "--model", MODEL.toString(), "--image", input("palette_small.png"),
                "--mask", input("D_full.png"), "--question", c.path("question").asText(), "--dump", dump.toString());
        assertEquals(0, r.code(), r.err());
        try (Checkpoint ours = Checkpoints.open(dump);
             Checkpoint ref = Checkpoints.open(PARITY.resolve("dumps").resolve("case_D.safetensors"))) {
            for (String name : List.of("res4", "res5", "image_tokens", "mask_tokens", "pos_tokens", "logits")) {
                assertClose(ref.tensor(name), ours.tensor(name), name);
            }
            for (String name : List.of("pixel_values", "stem", "res2", "res3")) {
                assertClose(ref.tensor(name + "_s4"), everyFourth(ours.tensor(name)), name);
            }
            Tensor ids = ours.tensor("input_ids");
            assertArrayEquals(ints(c.path("input_ids")), longsToInts(ids));
            assertEquals(c.path("input_ids").size() - 1 + 1024, ours.tensor("inputs_embeds").size(0));
        }
    }

    @Test
    void inspectRejectsAMaskOfAnotherSize() {
        assertOneLineError(run("inspect", "--model", MODEL.toString(), "--image", input("palette_small.png"),
                "--mask", input("B_tiny.png"), "--question", "What is <region1>?", "--dump",
                dir.resolve("x.safetensors").toString()), "is 180x300 but the image is 96x80");
    }

    private static int[] longsToInts(Tensor t) {
        int[] out = new int[Math.toIntExact(t.numel())];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.toIntExact(t.getLong(i));
        }
        return out;
    }

    /** x[..., ::4, ::4] of a [C, H, W] tensor. */
    private static Tensor everyFourth(Tensor x) {
        int c = x.size(0), h = x.size(1), w = x.size(2);
        int h4 = (h + 3) / 4, w4 = (w + 3) / 4;
        float[] out = new float[c * h4 * w4];
        for (int k = 0; k < c; k++) {
            for (int y = 0; y < h4; y++) {
                for (int xx = 0; xx < w4; xx++) {
                    out[(k * h4 + y) * w4 + xx] = x.getFloat(((long) k * h + 4L * y) * w + 4L * xx);
                }
            }
        }
        return Tensor.wrap(out, c, h4, w4);
    }

    /** 1e-4 absolute: see OspreyParityTest in osprey-model for why. */
    private static void assertClose(Tensor expected, Tensor actual, String name) {
        assertArrayEquals(expected.shape(), actual.shape(), name + " shape");
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        float max = 0;
        for (int i = 0; i < e.length; i++) {
            max = Math.max(max, Math.abs(e[i] - a[i]));
        }
        assertTrue(max <= 1e-4f, name + ": max abs difference " + max);
    }
}
