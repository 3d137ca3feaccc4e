package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static osprey4j.app.ModelCommandsTest.assertOneLineError;
import static osprey4j.app.ModelCommandsTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;
import osprey4j.core.tensor.Tensor;

/**
 * {@code osprey segment} on the SAM fixture (osprey-model's src/test/resources/sam, made by the official code):
 * the written mask is the reference's best mask for the same prompt, {@code --everything} writes the reference
 * generator's records, and bad input is one line.
 */
class SegmentCommandTest {
    static final Path SAM = Path.of("..", "osprey-model", "src", "test", "resources", "sam");
    static final String CKPT = SAM.resolve("sam_tiny.pth").toString();
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void pointAndBoxGiveTheReferencesBestMask() throws IOException {
        // case tall.point_box.multi: image 80x120, background click at (40, 60), box 2,3,76,118
        Path out = dir.resolve("mask.png");
        ModelCommandsTest.Run r = run("segment", "--sam", CKPT, "--image", SAM.resolve("images/tall.png").toString(),
                "--point", "40,60,0", "--box", "2,3,76,118", "--multimask", "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode result = JSON.readTree(r.out());
        assertEquals(3, result.get("masks").size());
        try (Checkpoint dumps = Checkpoints.open(SAM.resolve("dumps.safetensors"))) {
            float[] iou = dumps.tensor("tall.point_box.multi.iou").toFloatArray();
            int best = 0;
            for (int i = 1; i < iou.length; i++) {
                if (iou[i] > iou[best]) {
                    best = i;
                }
            }
            assertEquals(best, result.get("best").asInt());
            Tensor masks = dumps.tensor("tall.point_box.multi.masks");
            byte[] bytes = masks.segment().toArray(ValueLayout.JAVA_BYTE);
            int h = masks.size(1), w = masks.size(2), b = best;
            Mask expected = Mask.fromPredicate(w, h, (x, y) -> bytes[(b * h + y) * w + x] != 0);
            assertEquals(expected, MaskPng.read(out));
            assertEquals(expected.area(), result.get("masks").get(best).get("area").asLong());
        }
    }

    @Test
    void everythingWritesTheReferenceRecords() throws IOException {
        JsonNode c = JSON.readTree(SAM.resolve("cases.json").toFile()).get("amg").get(2);
        JsonNode o = c.get("options");
        Path out = dir.resolve("masks.json");
        ModelCommandsTest.Run r = run("segment", "--sam", CKPT, "--image", SAM.resolve("images/amg.png").toString(),
                "--everything", "--points-per-side", o.get("points_per_side").asText(),
                "--pred-iou-thresh", "0", "--stability-score-thresh", "0",
                "--min-mask-region-area", o.get("min_mask_region_area").asText(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode records = JSON.readTree(out.toFile());
        JsonNode expected = c.get("records");
        assertEquals(expected.size(), records.size());
        for (int i = 0; i < records.size(); i++) {
            assertEquals(expected.get(i).get("area"), records.get(i).get("area"));
            assertEquals(expected.get(i).get("bbox"), records.get(i).get("bbox"));
            assertEquals(expected.get(i).get("crop_box"), records.get(i).get("crop_box"));
            assertEquals(expected.get(i).get("segmentation").get("size"), records.get(i).get("segmentation").get("size"));
        }
    }

    @Test
    void badInputIsOneLine() {
        String image = SAM.resolve("images/tall.png").toString();
        Path out = dir.resolve("m.png");
        assertOneLineError(run("segment", "--sam", CKPT, "--image", image, "--point", "100,5", "--out", out.toString()),
                "point 100,5 is outside the 80x120 image");
        assertOneLineError(run("segment", "--sam", CKPT, "--image", image, "--box", "5,5,5,20", "--out", out.toString()),
                "has no area");
        assertOneLineError(run("segment", "--sam", CKPT, "--image", image, "--box", "1,1,9,9", "--box", "2,2,8,8",
                "--out", out.toString()), "one box per prompt");
        assertOneLineError(run("segment", "--sam", CKPT, "--image", image, "--point", "3,4,7", "--out", out.toString()),
                "label '7'");
        assertOneLineError(run("segment", "--sam", SAM.resolve("dumps.safetensors").toString(), "--image", image,
                "--point", "3,4", "--out", out.toString()), "not a Segment Anything checkpoint");
        assertOneLineError(run("segment", "--sam", CKPT, "--image", image, "--out", out.toString()), "give a prompt");
        assertOneLineError(run("segment", "--sam", dir.resolve("none.pth").toString(), "--image", image, "--point", "3,4",
                "--out", out.toString()), "SAM checkpoint not found");
        assertFalse(Files.exists(out));
    }

    @Test
    void singleMaskIsTheDefault() throws IOException {
        // case square.point.single: a click at (19.2, 32) on the 64x64 image, one mask
        ModelCommandsTest.Run r = run("segment", "--sam", CKPT, "--image", SAM.resolve("images/square.png").toString(),
                "--point", "19.2,32", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode result = JSON.readTree(r.out());
        assertEquals(1, result.get("masks").size());
        try (Checkpoint dumps = Checkpoints.open(SAM.resolve("dumps.safetensors"))) {
            byte[] bytes = dumps.tensor("square.point.single.masks").segment().toArray(ValueLayout.JAVA_BYTE);
            long area = 0;
            for (byte b : bytes) {
                area += b != 0 ? 1 : 0;
            }
            assertEquals(area, result.get("masks").get(0).get("area").asLong());
            // float32 rounding of the decoder, as in osprey-model's SamParityTest
            assertEquals(dumps.tensor("square.point.single.iou").toFloatArray()[0],
                    result.get("masks").get(0).get("predicted_iou").asDouble(), 1e-5);
        }
    }

    @Test
    void askWithSamUsesSamsMask() throws IOException {
        // the same question about SAM's mask for a click, given as --point with --sam and as the PNG that
        // `osprey segment` writes for that click: the same greedy answer
        String model = ModelCommandsTest.MODEL.toString(), image = ModelCommandsTest.input("scene_rgb.jpg");
        Path png = dir.resolve("click.png");
        assertEquals(0, run("segment", "--sam", CKPT, "--image", image, "--point", "30,40", "--out", png.toString()).code());
        ModelCommandsTest.Run viaPng = run("ask", "--model", model, "--image", image, "--mask", png.toString(),
                "--question", "What is <region1>?", "--greedy", "--max-new-tokens", "6", "--json");
        ModelCommandsTest.Run viaSam = run("ask", "--model", model, "--image", image, "--point", "30,40", "--sam", CKPT,
                "--question", "What is <region1>?", "--greedy", "--max-new-tokens", "6", "--json");
        assertEquals(0, viaSam.code(), viaSam.err());
        assertEquals(JSON.readTree(viaPng.out()).get("tokens"), JSON.readTree(viaSam.out()).get("tokens"));
        ModelCommandsTest.Run rectangle = run("ask", "--model", model, "--image", image, "--box", "10,10,60,50",
                "--question", "What is <region1>?", "--greedy", "--max-new-tokens", "6", "--json");
        assertEquals(0, rectangle.code(), rectangle.err());
        assertOneLineError(run("ask", "--model", model, "--image", image, "--point", "30,40", "--question",
                "What is <region1>?"), "add --sam CKPT");
    }

    @Test
    void describeEverythingDescribesEachSamMask() throws IOException {
        String model = ModelCommandsTest.MODEL.toString(), image = ModelCommandsTest.input("scene_rgb.jpg");
        String[] amg = {"--points-per-side", "4", "--pred-iou-thresh", "0", "--stability-score-thresh", "0"};
        Path records = dir.resolve("masks.json");
        List<String> seg = new java.util.ArrayList<>(List.of("segment", "--sam", CKPT, "--image", image, "--everything",
                "--out", records.toString()));
        seg.addAll(List.of(amg));
        assertEquals(0, run(seg.toArray(String[]::new)).code());
        Path out = dir.resolve("regions.jsonl");
        List<String> describe = new java.util.ArrayList<>(List.of("describe", "--model", model, "--image", image,
                "--everything", "--sam", CKPT, "--greedy", "--max-new-tokens", "3", "--out", out.toString()));
        describe.addAll(List.of(amg));
        ModelCommandsTest.Run r = run(describe.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        JsonNode masks = JSON.readTree(records.toFile());
        List<String> lines = Files.readAllLines(out);
        assertEquals(masks.size(), lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = JSON.readTree(lines.get(i));
            assertEquals(i + 1, line.get("id").asInt());
            assertEquals(masks.get(i).get("area").asLong(), line.get("area").asLong());
        }
    }

    @Test
    void chatWithSamAddsSamsMasks() throws IOException {
        // /point with --sam adds SAM's mask for the click: the same region as the PNG `osprey segment` writes
        String image = ModelCommandsTest.input("scene_rgb.jpg");
        Path png = dir.resolve("click.png");
        assertEquals(0, run("segment", "--sam", CKPT, "--image", image, "--point", "30,40", "--out", png.toString()).code());
        ChatCommandTest.Run r = ChatCommandTest.chat(String.join("\n", "/point 30,40", "/point 900,40", "/regions",
                "/quit") + "\n", "--model", ModelCommandsTest.MODEL.toString(), "--image", image, "--sam", CKPT,
                "--greedy", "--max-new-tokens", "2");
        assertEquals(0, r.code(), r.err());
        long area = MaskPng.read(png).area();
        assertEquals(List.of("<region1>  point 30,40 (SAM)  (" + area), List.of(r.out().lines().toList().getFirst()
                .substring(0, ("<region1>  point 30,40 (SAM)  (" + area).length())));
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("/point 900,40: point 900,40 is outside the 360x240 image"), r.err());
    }
}
