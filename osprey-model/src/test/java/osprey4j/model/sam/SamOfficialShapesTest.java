package osprey4j.model.sam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.image.RgbImage;

/**
 * The official models' state-dict keys and shapes ({@code sam_shapes.json}, written by the official
 * {@code build_sam_vit_b/l/h}; tools/fixtures/sam/make_sam_shapes.py): each loads, with the architecture read from
 * the shapes alone. ViT-B also runs, with random weights written to a temporary safetensors file, on a 1024-side
 * input (opt-in: {@code -Dosprey.sam.vitb=true}; it takes about a minute on two shared cores).
 */
class SamOfficialShapesTest {

    static Map<String, long[]> shapes(String model) throws IOException {
        JsonNode all = new ObjectMapper().readTree(SamFixtures.dir().resolve("sam_shapes.json").toFile()).get(model);
        Map<String, long[]> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = all.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            long[] shape = new long[e.getValue().size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = e.getValue().get(i).asLong();
            }
            out.put(e.getKey(), shape);
        }
        return out;
    }

    /** A safetensors file of zero F16 weights with these shapes, sparse on disk (nothing is written but the header). */
    static Path sparseCheckpoint(Path dir, Map<String, long[]> shapes) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        long off = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long bytes = Tensor.byteSize(DType.F16, e.getValue());
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F16");
            var shape = t.putArray("shape");
            for (long d : e.getValue()) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(off).add(off + bytes);
            off += bytes;
        }
        byte[] h = json.writeValueAsBytes(header);
        int padded = (h.length + 7) / 8 * 8;
        Path file = dir.resolve("sam.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] head = new byte[8 + padded];
            java.nio.ByteBuffer.wrap(head).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(padded);
            System.arraycopy(h, 0, head, 8, h.length);
            for (int i = 8 + h.length; i < head.length; i++) {
                head[i] = ' ';
            }
            f.write(head);
            f.setLength(head.length + off);
        }
        return file;
    }

    @ParameterizedTest
    @CsvSource({
            "vit_b, 'ViT width 768, depth 12, 12 heads, window 14, global blocks [2, 5, 8, 11]'",
            "vit_l, 'ViT width 1024, depth 24, 16 heads, window 14, global blocks [5, 11, 17, 23]'",
            "vit_h, 'ViT width 1280, depth 32, 16 heads, window 14, global blocks [7, 15, 23, 31]'"})
    void officialArchitecturesLoadFromTheirShapes(String model, String description, @TempDir Path tmp) throws IOException {
        Sam sam = Sam.load(sparseCheckpoint(tmp, shapes(model)));
        assertEquals(description, sam.imageEncoder().describe());
        assertEquals(1024, sam.imageSize());
        assertEquals(64, sam.imageEncoder().grid());
        assertEquals(256, sam.imageEncoder().outChannels());
        assertEquals(256, sam.promptEncoder().maskInputSize());
        assertEquals(4, sam.maskDecoder().maskTokens());
    }

    @Test
    void aWeightOfAnotherSizeIsOneLine(@TempDir Path tmp) throws IOException {
        Map<String, long[]> shapes = shapes("vit_b");
        shapes.put("mask_decoder.transformer.layers.1.mlp.lin2.weight", new long[] {256, 1024});
        var e = org.junit.jupiter.api.Assertions.assertThrows(osprey4j.core.io.CheckpointException.class,
                () -> Sam.load(sparseCheckpoint(tmp, shapes)));
        assertTrue(e.getMessage().startsWith("weight 'mask_decoder.transformer.layers.1.mlp.lin2.weight' has the wrong"
                + " shape: expected [256, 2048], found [256, 1024]"), e.getMessage());
        Map<String, long[]> noDecoder = shapes("vit_b");
        noDecoder.keySet().removeIf(k -> k.startsWith("mask_decoder."));
        var e2 = org.junit.jupiter.api.Assertions.assertThrows(osprey4j.core.io.CheckpointException.class,
                () -> Sam.load(sparseCheckpoint(tmp.resolve("x").toFile().mkdirs() ? tmp.resolve("x") : tmp, noDecoder)));
        assertTrue(e2.getMessage().startsWith("not a Segment Anything checkpoint"), e2.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"vit_b", "vit_l", "vit_h"})
    void randomSamHasTheOfficialKeysAndShapes(String model) throws IOException {
        Map<String, long[]> official = shapes(model);
        Map<String, long[]> ours = RandomSam.shapes(RandomSam.Shape.of(model));
        assertEquals(List.copyOf(official.keySet()), List.copyOf(ours.keySet()), "keys, in state-dict order");
        for (String k : official.keySet()) {
            assertArrayEquals(official.get(k), ours.get(k), k);
        }
    }

    @Test
    @EnabledIfSystemProperty(named = "osprey.sam.vitb", matches = "true")
    void vitBRunsOnA1024Input(@TempDir Path tmp) throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (var random = RandomSam.checkpoint(RandomSam.Shape.vitB(), DType.F16, 5)) {
            random.tensors().forEach(t -> weights.put(t.name(), random.tensor(t.name())));
            Path file = tmp.resolve("sam_vit_b.safetensors");
            SafetensorsWriter.write(file, weights);
            weights.clear();
            runVitB(file);
        }
    }

    private static void runVitB(Path file) {
        SplittableRandom rng = new SplittableRandom(5);
        Sam sam = Sam.load(file);
        byte[] rgb = new byte[300 * 200 * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) rng.nextInt(256);
        }
        RgbImage image = new RgbImage(300, 200, rgb);
        long t0 = System.nanoTime();
        Sam.Embedding emb = sam.encode(image);
        long t1 = System.nanoTime();
        Sam.Prediction p = sam.predict(emb, SamPrompt.click(150, 100, 1), true);
        long t2 = System.nanoTime();
        System.out.printf("SAM ViT-B (random F16 weights): encode %.1f s (incl. JIT), one click %.0f ms%n", (t1 - t0) / 1e9,
                (t2 - t1) / 1e6);
        assertArrayEquals(new long[] {256, 64, 64}, emb.channelsFirst().shape());
        assertEquals(1024, emb.inputWidth());
        assertEquals(683, emb.inputHeight());
        assertArrayEquals(new long[] {3, 256, 256}, p.lowResLogits().shape());
        assertArrayEquals(new long[] {3, 200, 300}, p.logits().shape());
        assertEquals(3, p.iou().length);
        for (float v : emb.embedding().toFloatArray()) {
            assertTrue(Float.isFinite(v));
        }
        for (float v : p.logits().toFloatArray()) {
            assertTrue(Float.isFinite(v));
        }
        sam.close();
    }
}
