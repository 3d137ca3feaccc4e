package osprey4j.train.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.DType;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.Answer;
import osprey4j.model.GenerationOptions;
import osprey4j.model.ImageSession;
import osprey4j.model.Osprey;
import osprey4j.model.image.RgbImage;
import osprey4j.model.llm.LlamaConfig;

class OfficialModelWriterTest {
    /** The model the fixture README describes; the fixture script reads the directory this writes. */
    static final long SEED = 20261202L;
    static final String QUESTION = "What is the relationship between region1<mask><pos> and region2<mask><pos>?";

    @TempDir
    Path tmp;

    static OspreyShape smallShape() {
        LlamaConfig llm = new LlamaConfig(64, 172, 2, 4, 2, 1e-5f, LlamaConfig.DEFAULT_ROPE_THETA, 2048, 1000,
                false, 1, 2);
        return new OspreyShape(llm, new int[] {2, 1, 2, 1}, new int[] {8, 16, 32, 48}, 16, 1024, 112, 24,
                "mlp2x_gelu");
    }

    static Path resource(String name) {
        try {
            return Path.of(OfficialModelWriterTest.class.getResource("/export/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A mask as the reference's eval scripts read it: {@code np.asarray(Image.open(png).convert('L')) > 0}. */
    static Mask readMask(String name) {
        try {
            return MaskPng.read(resource(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path writeFixtureModel(Path dir, DType dtype) {
        OfficialModelWriter.write(dir, smallShape(), RandomWeights.of(smallShape(), SEED),
                OfficialModelWriter.Options.osprey(resource("tokenizer.model"), dtype));
        return dir;
    }

    static float[] firstLogits(Osprey osprey) throws IOException {
        ImageSession session = osprey.encode(RgbImage.read(resource("scene_rgb.jpg")));
        return osprey.firstLogits(osprey.prepare(session, List.of(readMask("A_ellipse.png"),
                readMask("A_ring.png")), QUESTION));
    }

    @Test
    void writtenModelLoadsWithoutWarningsAndAnswers() throws IOException {
        Path dir = writeFixtureModel(tmp.resolve("model"), DType.F32);
        List<String> warnings = new ArrayList<>();
        try (Osprey osprey = Osprey.load(dir, warnings::add)) {
            assertEquals(List.of(), warnings, "the CLIP file must be found through mm_vision_tower");
            ImageSession session = osprey.encode(RgbImage.read(resource("scene_rgb.jpg")));
            Answer a = osprey.ask(session, List.of(readMask("A_ellipse.png"), readMask("A_ring.png")), QUESTION,
                    GenerationOptions.greedy(8));
            assertTrue(a.tokens().length > 0, "a random model still generates tokens");
        }
        // Nothing else next to the model: the temporary sibling is gone.
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(dir), files.toList());
        }
    }

    @Test
    void weightsAndClipFileHoldTheGivenTensors() throws IOException {
        OspreyShape shape = smallShape();
        Map<String, Tensor> weights = RandomWeights.of(shape, SEED);
        Path dir = writeFixtureModel(tmp.resolve("model"), DType.F32);
        try (Checkpoint osprey = Checkpoints.open(dir.resolve(OfficialModelWriter.WEIGHTS_FILE));
             Checkpoint clip = Checkpoints.open(dir.resolve(OfficialModelWriter.CLIP_FILE))) {
            for (Map.Entry<String, Tensor> e : weights.entrySet()) {
                assertArrayEquals(e.getValue().toFloatArray(), osprey.tensor(e.getKey()).toFloatArray(), e.getKey());
            }
            assertEquals(weights.size() + shape.llm().numHiddenLayers(), osprey.tensors().size(), "plus inv_freq");
            String gamma = "visual.trunk.stages.1.blocks.0.gamma";
            assertArrayEquals(weights.get(OspreyShape.TOWER_PREFIX + gamma).toFloatArray(),
                    clip.tensor(gamma).toFloatArray());
            assertEquals(shape.clipTensors().size(), clip.tensors().size());
            float[] inv = osprey.tensor("model.layers.0.self_attn.rotary_emb.inv_freq").toFloatArray();
            assertEquals(8, inv.length);
            assertEquals(1f, inv[0]);
            assertEquals((float) (1 / Math.pow(10000, 14.0 / 16)), inv[7], 1e-9f);
        }
        JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals(OfficialModelWriter.CLIP_FILE, config.path("mm_vision_tower").asText());
        assertEquals(32, config.path("mm_hidden_size").asInt());
        assertEquals(2, config.path("num_key_value_heads").asInt());
        assertEquals("float32", config.path("torch_dtype").asText());
        String added = Files.readString(dir.resolve("added_tokens.json"));
        assertEquals("{\n  \"<mask>\": 1000,\n  \"<pos>\": 1001\n}", added);
        assertTrue(Files.readString(dir.resolve("tokenizer_config.json")).contains("\"sp_model_kwargs\": {},"));
    }

    @Test
    void bf16ModelStoresBf16AndAnswersAlmostAlike() throws IOException {
        Path f32 = writeFixtureModel(tmp.resolve("f32"), DType.F32);
        Path bf16 = writeFixtureModel(tmp.resolve("bf16"), DType.BF16);
        try (Checkpoint c = Checkpoints.open(bf16)) {
            assertEquals(DType.BF16, c.info("model.layers.0.mlp.up_proj.weight").dtype());
        }
        float[] a;
        float[] b;
        try (Osprey o = Osprey.load(f32)) {
            a = firstLogits(o);
        }
        try (Osprey o = Osprey.load(bf16)) {
            b = firstLogits(o);
        }
        double maxDiff = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        assertTrue(maxDiff < 0.1 * scale, "bf16 rounding only: " + maxDiff + " vs scale " + scale);
    }

    @Test
    void rewritingReplacesTheDirectoryWhole() throws IOException {
        Path dir = writeFixtureModel(tmp.resolve("model"), DType.F32);
        Files.writeString(dir.resolve("stale.txt"), "old");
        writeFixtureModel(dir, DType.BF16);
        assertFalse(Files.exists(dir.resolve("stale.txt")));
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(dir), files.toList());
        }
    }

    @Test
    void refusesIncompleteOrMisshapenWeights() {
        OspreyShape shape = smallShape();
        Path dir = tmp.resolve("model");
        OfficialModelWriter.Options options = OfficialModelWriter.Options.osprey(resource("tokenizer.model"), DType.F32);

        Map<String, Tensor> missing = new LinkedHashMap<>(RandomWeights.of(shape, 1));
        missing.remove("mask_extractor.res3.bias");
        var e1 = assertThrows(IllegalArgumentException.class, () -> OfficialModelWriter.write(dir, shape, missing, options));
        assertEquals("missing tensor 'mask_extractor.res3.bias' (shape [1024])", e1.getMessage());

        Map<String, Tensor> wrong = new LinkedHashMap<>(RandomWeights.of(shape, 1));
        wrong.put("model.norm.weight", Tensor.zeros(DType.F32, 63));
        var e2 = assertThrows(IllegalArgumentException.class, () -> OfficialModelWriter.write(dir, shape, wrong, options));
        assertEquals("tensor 'model.norm.weight' has shape [63], expected [64]", e2.getMessage());

        Map<String, Tensor> extra = new LinkedHashMap<>(RandomWeights.of(shape, 1));
        extra.put("model.extra", Tensor.zeros(DType.F32, 1));
        var e3 = assertThrows(IllegalArgumentException.class, () -> OfficialModelWriter.write(dir, shape, extra, options));
        assertTrue(e3.getMessage().startsWith("unexpected tensor 'model.extra'"));
        assertFalse(Files.exists(dir));
    }

    /**
     * The parity fixture model (official layout, torch files, its Osprey-side tower differing from its CLIP file):
     * read with the reference's loading rule and written back, it computes the same logits.
     */
    @Test
    void parityModelReadAndRewrittenComputesTheSame() throws IOException {
        Path parity = Path.of("..", "osprey-model", "src", "test", "resources", "parity", "model");
        ReferenceWeights.Loaded loaded = ReferenceWeights.read(parity);
        assertEquals(List.of(2, 2, 3, 2), java.util.Arrays.stream(loaded.shape().convDepths()).boxed().toList());
        assertEquals(List.of(8, 16, 32, 64), java.util.Arrays.stream(loaded.shape().convDims()).boxed().toList());
        assertEquals(16, loaded.shape().clipHeadEmbed());
        assertEquals(16, loaded.shape().posHidden());
        assertEquals(112, loaded.shape().maskShape());
        Path dir = tmp.resolve("rewritten");
        OfficialModelWriter.write(dir, loaded.shape(), loaded.weights(),
                OfficialModelWriter.Options.osprey(parity.resolve("tokenizer.model"), DType.F32));
        float[] original;
        float[] rewritten;
        try (Osprey o = Osprey.load(parity)) {
            original = firstLogits(o);
        }
        try (Osprey o = Osprey.load(dir)) {
            rewritten = firstLogits(o);
        }
        // Not bit-equal: two forwards of one loaded model already differ by a few 1e-7 (parallel sums).
        for (int i = 0; i < original.length; i++) {
            assertEquals(original[i], rewritten[i], 1e-5f, "logit " + i);
        }
        // And the round trip of our own directory gives back the same tensors and shape.
        ReferenceWeights.Loaded again = ReferenceWeights.read(dir);
        assertEquals(loaded.shape(), again.shape());
        for (String name : loaded.weights().keySet()) {
            assertArrayEquals(loaded.weights().get(name).toFloatArray(), again.weights().get(name).toFloatArray(), name);
        }
    }

    /**
     * The written directory loaded into the official PyTorch code gives these first-position logits
     * (tools/fixtures/train/check_exported_model.py; see src/test/resources/export/README.md).
     */
    @Test
    void officialCodeGivesTheSameFirstLogits() throws IOException {
        Path dir = writeFixtureModel(tmp.resolve("model"), DType.F32);
        String keep = System.getProperty("osprey.export.keep");
        if (keep != null) {
            writeFixtureModel(Path.of(keep), DType.F32);
        }
        float[] expected = readFloats(resource("expected_first_logits.txt"));
        JsonNode reference = new ObjectMapper().readTree(resource("exported_model_case.json").toFile());
        float[] actual;
        try (Osprey o = Osprey.load(dir)) {
            ImageSession session = o.encode(RgbImage.read(resource("scene_rgb.jpg")));
            Osprey.PreparedPrompt prompt = o.prepare(session, List.of(readMask("A_ellipse.png"),
                    readMask("A_ring.png")), QUESTION);
            int[] ids = new int[reference.path("input_ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = reference.path("input_ids").get(i).asInt();
            }
            assertArrayEquals(ids, prompt.inputIds(), "the fast tokenizer's ids");
            actual = o.firstLogits(prompt);
        }
        assertEquals(expected.length, actual.length);
        float maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
        }
        System.out.println("exported model vs official code: max |logit diff| = " + maxDiff);
        assertTrue(maxDiff < 1e-4f, "max |diff| " + maxDiff);
    }

    static float[] readFloats(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        float[] out = new float[lines.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.parseFloat(lines.get(i).trim());
        }
        return out;
    }
}
