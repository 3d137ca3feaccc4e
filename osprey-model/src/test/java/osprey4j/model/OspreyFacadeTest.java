package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.mask.Mask;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.image.RgbImage;

/** The facade beyond parity: sampling, bad masks, bad questions and bad model directories, on the parity fixture. */
class OspreyFacadeTest {
    static Osprey osprey;
    static ImageSession sessionD;
    static final List<String> warnings = new ArrayList<>();

    @BeforeAll
    static void load() throws IOException {
        osprey = Osprey.load(FacadeFixtures.modelDir(), warnings::add);
        sessionD = osprey.encode(RgbImage.read(FacadeFixtures.input("palette_small.png")));
    }

    @AfterAll
    static void close() {
        osprey.close();
    }

    /** The reference demo's sampling (temperature 0.2, top-k 50): repeatable with a seed, streamed whole. */
    @Test
    void sampledAnswersRepeatWithTheirSeed() {
        List<Mask> masks = List.of(OspreyParityTest.readMask("D_full.png"));
        GenerationOptions options = GenerationOptions.reference().withMaxNewTokens(12).withSeed(42);
        StringBuilder streamed = new StringBuilder();
        Answer a = osprey.ask(sessionD, masks, "What is <region1>?", options, (id, t) -> streamed.append(t));
        Answer b = osprey.ask(sessionD, masks, "What is <region1>?", options);
        assertEquals(12, a.tokens().length);
        org.junit.jupiter.api.Assertions.assertArrayEquals(a.tokens(), b.tokens());
        assertEquals(a.text(), streamed.toString());
        assertEquals(osprey.tokenizer().decode(a.tokens()).strip(), a.text());
    }

    /**
     * A session reuses the LLM's cache of the prompt's start (system sentence and image) for its next question,
     * and the answers are those of a fresh session: the reused keys and values are those the prompt would
     * compute. Greedy, with two masks in turn and a question asked twice.
     */
    @Test
    void laterQuestionsReuseTheImagePrefixAndAnswerAsAFreshSessionWould() throws IOException {
        RgbImage image = RgbImage.read(FacadeFixtures.input("rgba_wide.png"));
        List<Mask> blob = List.of(OspreyParityTest.readMask("C_blob.png"));
        List<Mask> holes = List.of(OspreyParityTest.readMask("C_large_holes.png"));
        GenerationOptions greedy = GenerationOptions.greedy(8);
        ImageSession shared = osprey.encode(image);
        Answer first = osprey.ask(shared, blob, "What is <region1>?", greedy);
        Answer second = osprey.ask(shared, holes, "Describe <region1> briefly.", greedy);
        Answer third = osprey.ask(shared, blob, "What is <region1>?", greedy);
        assertEquals(0, first.timings().reusedPromptTokens(), "nothing to reuse on the first question");
        int[] ids = osprey.prepare(shared, holes, "Describe <region1> briefly.").inputIds();
        int imageAt = java.util.stream.IntStream.range(0, ids.length)
                .filter(i -> ids[i] == OspreyTokens.IMAGE_TOKEN_ID).findFirst().orElseThrow();
        int imageEnd = imageAt + shared.imageTokens().size(0);
        assertEquals(imageEnd, second.timings().reusedPromptTokens(), "the system sentence, USER: and the image");
        assertEquals(imageEnd, third.timings().reusedPromptTokens());
        Answer freshSecond = osprey.ask(osprey.encode(image), holes, "Describe <region1> briefly.", greedy);
        org.junit.jupiter.api.Assertions.assertArrayEquals(freshSecond.tokens(), second.tokens());
        org.junit.jupiter.api.Assertions.assertArrayEquals(first.tokens(), third.tokens());
    }

    @Test
    void maskOfAnotherSizeIsRefused() {
        Mask wrong = OspreyParityTest.readMask("A_ellipse.png");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> osprey.prepare(sessionD, List.of(wrong), "What is <region1>?"));
        assertTrue(e.getMessage().contains("mask 1 is 360x240 but the image is 96x80"), e.getMessage());
        Mask full = OspreyParityTest.readMask("D_full.png");
        e = assertThrows(IllegalArgumentException.class,
                () -> osprey.prepare(sessionD, List.of(full, Mask.full(80, 96)), "Compare <region1> and <region2>."));
        assertTrue(e.getMessage().contains("mask 2 is 80x96 but the image is 96x80 (width x height)"), e.getMessage());
        // the same check, callable before a model is loaded
        e = assertThrows(IllegalArgumentException.class, () -> Osprey.checkMasks(List.of(full, wrong), 96, 80));
        assertTrue(e.getMessage().contains("mask 2 is 360x240 but the image is 96x80"), e.getMessage());
        Osprey.checkMasks(List.of(full, full), 96, 80);
    }

    @Test
    void regionCountMismatchIsRefused() {
        Mask full = OspreyParityTest.readMask("D_full.png");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> osprey.prepare(sessionD, List.of(full, full), "What is <region1>?"));
        assertTrue(e.getMessage().contains("mask 2 is not referred to"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> osprey.prepare(sessionD, List.of(full), "Compare <mask><pos> and <mask><pos>."));
        assertTrue(e.getMessage().contains("2 '<mask><pos>' but 1 mask"), e.getMessage());
    }

    /** Collects what a component logs through System.Logger (java.util.logging underneath). */
    static final class LogCapture extends java.util.logging.Handler implements AutoCloseable {
        final List<String> messages = new ArrayList<>();
        private final java.util.logging.Logger logger;

        LogCapture(Class<?> source) {
            logger = java.util.logging.Logger.getLogger(source.getName());
            logger.addHandler(this);
        }

        @Override
        public void publish(java.util.logging.LogRecord r) {
            messages.add(r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    /**
     * An empty mask is what the reference gets for a region that vanishes at every feature level, as C_tiny does
     * in case C: its mask token is feat_linear of the summed biases and its pos token the MLP of an all-zero grid,
     * whatever the image. So an empty mask on image D must give case C's tokens for C_tiny, plus a warning.
     */
    @Test
    void emptyMaskWarnsAndBehavesAsTheReference() {
        Mask empty = Mask.empty(96, 80);
        Osprey.PreparedPrompt p;
        try (LogCapture log = new LogCapture(osprey4j.model.vision.MaskExtractor.class)) {
            p = osprey.prepare(sessionD, List.of(empty), "What is <region1>?");
            assertEquals(1, log.messages.size(), log.messages.toString());
            assertTrue(log.messages.get(0).contains("region 1 is empty"), log.messages.get(0));
        }
        try (Checkpoint dumpC = FacadeFixtures.dump("C")) {
            float dm = FacadeFixtures.maxAbsDiff(dumpC.tensor("mask_tokens").slice(1, 2), p.maskTokens());
            float dp = FacadeFixtures.maxAbsDiff(dumpC.tensor("pos_tokens").slice(1, 2), p.posTokens());
            assertTrue(dm <= OspreyParityTest.TOLERANCE, "mask token differs by " + dm);
            assertTrue(dp <= OspreyParityTest.TOLERANCE, "pos token differs by " + dp);
        }
        assertTrue(warnings.isEmpty(), warnings.toString());
    }

    private static Path copyModel(Path to, String... skip) throws IOException {
        try (var files = Files.list(FacadeFixtures.modelDir())) {
            for (Path f : files.toList()) {
                if (!List.of(skip).contains(f.getFileName().toString())) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
        return to;
    }

    /**
     * Without the CLIP file the gammas come from the Osprey weights, which differ in the fixture (as the README
     * says), so the features differ from the reference's; the load says so.
     */
    @Test
    void missingClipFileFallsBackWithAWarning(@TempDir Path tmp) throws IOException {
        Path dir = copyModel(tmp, "clip_vision_tower.bin");
        List<String> seen = new ArrayList<>();
        try (Osprey o = Osprey.load(dir, seen::add); Checkpoint dump = FacadeFixtures.dump("D")) {
            assertEquals(1, seen.size(), seen.toString());
            assertTrue(seen.get(0).contains("clip_vision_tower.bin") && seen.get(0).contains("not found"), seen.get(0));
            ImageSession s = o.encode(RgbImage.read(FacadeFixtures.input("palette_small.png")));
            assertTrue(FacadeFixtures.maxAbsDiff(dump.tensor("res4"), s.features().res4()) > 1e-2,
                    "the Osprey file's gammas differ from the CLIP file's");
        }
    }

    /** The weights as one safetensors file with {@code edit} applied: the sharded/.safetensors path, too. */
    private static Path rewriteWeights(Path tmp, java.util.function.Consumer<Map<String, Tensor>> edit)
            throws IOException {
        Path dir = copyModel(tmp, "pytorch_model.bin");
        try (Checkpoint bin = Checkpoints.open(FacadeFixtures.modelDir().resolve("pytorch_model.bin"))) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            bin.tensors().forEach(t -> all.put(t.name(), bin.tensor(t.name())));
            edit.accept(all);
            SafetensorsWriter.write(dir.resolve("model.safetensors"), all);
        }
        return dir;
    }

    @Test
    void safetensorsWeightsLoadAndGiveTheSameLogits(@TempDir Path tmp) throws IOException {
        Path dir = rewriteWeights(tmp, all -> { });
        try (Osprey o = Osprey.load(dir, w -> { })) {
            ImageSession s = o.encode(RgbImage.read(FacadeFixtures.input("palette_small.png")));
            Osprey.PreparedPrompt p = o.prepare(s, List.of(OspreyParityTest.readMask("D_full.png")),
                    FacadeFixtures.testCase("D").path("question").asText());
            float[] logits = o.firstLogits(p);
            try (Checkpoint dump = FacadeFixtures.dump("D")) {
                assertTrue(FacadeFixtures.maxAbsDiff(dump.tensor("logits"), Tensor.wrap(logits, logits.length))
                        <= OspreyParityTest.TOLERANCE);
            }
        }
    }

    @Test
    void missingWeightIsNamed(@TempDir Path tmp) throws IOException {
        Path dir = rewriteWeights(tmp, all -> all.remove("model.layers.1.mlp.down_proj.weight"));
        RuntimeException e = assertThrows(RuntimeException.class, () -> Osprey.load(dir, w -> { }).close());
        assertTrue(e.getMessage().contains("model.layers.1.mlp.down_proj.weight"), e.getMessage());
    }

    @Test
    void mismatchedWeightNamesKeyAndShapes(@TempDir Path tmp) throws IOException {
        Path dir = rewriteWeights(tmp, all -> all.put("model.mm_projector.2.weight", Tensor.zeros(DType.F32, 48, 64)));
        RuntimeException e = assertThrows(RuntimeException.class, () -> Osprey.load(dir, w -> { }).close());
        assertTrue(e.getMessage().contains("model.mm_projector.2.weight") && e.getMessage().contains("48"),
                e.getMessage());
    }

    @Test
    void notAModelDirectory(@TempDir Path tmp) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Osprey.load(tmp.resolve("nope"), w -> { }));
        assertTrue(e.getMessage().contains("model directory not found"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Osprey.load(tmp, w -> { }));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
