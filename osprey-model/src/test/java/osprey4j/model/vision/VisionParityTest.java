package osprey4j.model.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static osprey4j.model.vision.ParityFixtures.assertClose;
import static osprey4j.model.vision.ParityFixtures.every4th;
import static osprey4j.model.vision.ParityFixtures.maxAbsDiff;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.mask.Mask;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.Osprey;
import osprey4j.model.vision.ConvNextTower.Features;
import osprey4j.model.vision.MaskExtractor.RegionTokens;

/**
 * The tower, projector and mask extractor against the official PyTorch code's float32 run on the parity fixture
 * (parity/README.md). Tolerance: the README measures the reference's own float32 rounding at about 1e-6 relative
 * to each tensor's largest value (|values| up to 6.3, so a few 1e-6 absolute) and calls 1e-4 absolute a safe
 * margin for a float32 port that sums in another order; a wrong weight, a wrong layout or a missed quirk moves
 * these tensors by 1e-2 or more (the gamma test below shows one).
 */
class VisionParityTest {
    private static final double FEATURE_TOLERANCE = 1e-4;
    /** Same arithmetic as the reference up to the bilinear kernel's 2 ulp (README: pixel_values match to 1e-6). */
    private static final double PIXEL_TOLERANCE = 1e-5;

    private static Checkpoint osprey;
    private static Checkpoint clip;
    private static ConvNextTower tower;
    private static Projector projector;
    private static MaskExtractor extractor;

    @BeforeAll
    static void load() {
        osprey = ParityFixtures.ospreyWeights();
        clip = ParityFixtures.clipWeights();
        tower = ConvNextTower.load(osprey, clip);
        projector = Projector.load(osprey, "model.mm_projector", "mlp2x_gelu");
        extractor = MaskExtractor.load(osprey, "mask_extractor");
    }

    @AfterAll
    static void close() {
        osprey.close();
        clip.close();
    }

    @Test
    void architectureIsReadFromTheWeights() {
        assertArrayEquals(new int[] {8, 8, 16, 32, 64}, tower.channels());
        assertArrayEquals(new int[] {2, 2, 3, 2}, tower.depths());
        assertEquals(32, projector.inputSize());
        assertEquals(64, projector.outputSize());
        assertEquals(64, extractor.outputSize());
        assertEquals(112, extractor.maskGrid());
    }

    @Test
    void prefixesAreFound() {
        assertEquals("model.vision_tower.vision_tower.visual.trunk.", ConvNextTower.findPrefix(osprey));
        assertEquals("visual.trunk.", ConvNextTower.findPrefix(clip));
    }

    /** Case A stores every tensor whole: features, image tokens and both region tokens from the dump's inputs. */
    @Test
    void caseAMatchesTheReferenceWhole() {
        try (Checkpoint dump = ParityFixtures.dump("A")) {
            Features f = tower.forward(dump.tensor("pixel_values"));
            assertClose(dump.tensor("stem"), f.stem(), FEATURE_TOLERANCE, "A stem");
            assertClose(dump.tensor("res2"), f.res2(), FEATURE_TOLERANCE, "A res2");
            assertClose(dump.tensor("res3"), f.res3(), FEATURE_TOLERANCE, "A res3");
            assertClose(dump.tensor("res4"), f.res4(), FEATURE_TOLERANCE, "A res4");
            assertClose(dump.tensor("res5"), f.res5(), FEATURE_TOLERANCE, "A res5");

            Tensor tokens = projector.forward(Projector.flattenToTokens(dump.tensor("res4")));
            assertClose(dump.tensor("image_tokens"), tokens, FEATURE_TOLERANCE, "A image_tokens");

            // the reference's own features in, so the extractor is checked on its own
            Features ref = new Features(dump.tensor("stem"), dump.tensor("res2"), dump.tensor("res3"),
                    dump.tensor("res4"), dump.tensor("res5"));
            List<Mask> masks = ParityFixtures.masks("A"); // the ellipse and the ring with a hole
            int[] size = ParityFixtures.imageSize("scene_rgb.jpg");
            Osprey.checkMasks(masks, size[0], size[1]);
            RegionTokens rt = extractor.forward(ref, masks);
            assertClose(dump.tensor("mask_tokens"), rt.maskTokens(), FEATURE_TOLERANCE, "A mask_tokens");
            assertClose(dump.tensor("pos_tokens"), rt.posTokens(), FEATURE_TOLERANCE, "A pos_tokens");
        }
    }

    /**
     * Cases B-D store pixel_values, stem, res2 and res3 at every 4th row and column only. The pixels are made here
     * from the PNG (checked against pixel_values_s4), run through the tower (stem/res2/res3 compared on the
     * subsampled grid, res4/res5 whole), then the projector and the mask extractor on our own features. This
     * covers B_tiny (survives only at res2 and res3), C_tiny (vanishes everywhere), the large mask with two holes
     * and the full-image mask.
     */
    @ParameterizedTest
    @ValueSource(strings = {"B", "C", "D"})
    void subsampledCasesMatchTheReference(String caseName) {
        String image = ParityFixtures.cases().get(caseName).get("image").asText();
        try (Checkpoint dump = ParityFixtures.dump(caseName)) {
            Tensor pixels = ParityFixtures.pixelValues(image);
            assertClose(dump.tensor("pixel_values_s4"), every4th(pixels), PIXEL_TOLERANCE, caseName + " pixel_values");
            Features f = tower.forward(pixels);
            assertClose(dump.tensor("stem_s4"), every4th(f.stem()), FEATURE_TOLERANCE, caseName + " stem");
            assertClose(dump.tensor("res2_s4"), every4th(f.res2()), FEATURE_TOLERANCE, caseName + " res2");
            assertClose(dump.tensor("res3_s4"), every4th(f.res3()), FEATURE_TOLERANCE, caseName + " res3");
            assertClose(dump.tensor("res4"), f.res4(), FEATURE_TOLERANCE, caseName + " res4");
            assertClose(dump.tensor("res5"), f.res5(), FEATURE_TOLERANCE, caseName + " res5");

            Tensor tokens = projector.forward(Projector.flattenToTokens(f.res4()));
            assertClose(dump.tensor("image_tokens"), tokens, FEATURE_TOLERANCE, caseName + " image_tokens");

            int[] size = ParityFixtures.imageSize(image);
            List<Mask> masks = ParityFixtures.masks(caseName);
            Osprey.checkMasks(masks, size[0], size[1]);
            RegionTokens rt = extractor.forward(f, masks);
            assertClose(dump.tensor("mask_tokens"), rt.maskTokens(), FEATURE_TOLERANCE, caseName + " mask_tokens");
            assertClose(dump.tensor("pos_tokens"), rt.posTokens(), FEATURE_TOLERANCE, caseName + " pos_tokens");
        }
    }

    /**
     * C_tiny (2 pixels) vanishes at every level: the reference's mask token is then feat_linear(sum of the four
     * level biases), whatever the image. Checked against that closed form, independently of the features.
     */
    /** F16 weights and their exact F32 copies are the same network: only the GEMMs' weight path differs. */
    @Test
    void f32CopiesOfHalfWeightsGiveTheSameFeatures() {
        MemoryCheckpoint half = new MemoryCheckpoint();
        for (var info : clip.tensors()) {
            Tensor t = clip.tensor(info.name());
            half.put(info.name(), t.dtype() == DType.F32 ? t.to(DType.F16) : t);
        }
        ConvNextTower tower16 = ConvNextTower.load(half, half);
        try (Checkpoint dump = ParityFixtures.dump("A")) {
            Features a = tower16.forward(dump.tensor("pixel_values"));
            Features b = tower16.withF32Weights().forward(dump.tensor("pixel_values"));
            assertClose(a.stem(), b.stem(), 1e-5, "F32 copies: stem");
            assertClose(a.res3(), b.res3(), 1e-5, "F32 copies: res3");
            assertClose(a.res5(), b.res5(), 1e-5, "F32 copies: res5");
        }
    }

    /** Weights whose pages were given back (mapped from the fixture's files) give the same features, bit for bit. */
    @Test
    void releasedWeightsComeBackFromTheFile() {
        assertTrue(osprey.tensor(osprey.tensors().get(0).name()).segment().isMapped(), "the fixture is mapped");
        try (Checkpoint dump = ParityFixtures.dump("A")) {
            Features before = tower.forward(dump.tensor("pixel_values"));
            tower.releaseMappedWeights();
            Features after = tower.forward(dump.tensor("pixel_values"));
            assertArrayEquals(before.res2().toFloatArray(), after.res2().toFloatArray());
            assertArrayEquals(before.res5().toFloatArray(), after.res5().toFloatArray());
        }
    }

    @Test
    void vanishingMaskGivesTheBiasOnlyToken() {
        List<String> names = ParityFixtures.maskNames("C");
        int tiny = names.indexOf("C_tiny.png");
        try (Checkpoint dump = ParityFixtures.dump("C")) {
            Features zeros = new Features(Tensor.zeros(osprey4j.core.tensor.DType.F32, 8, 128, 128),
                    Tensor.zeros(osprey4j.core.tensor.DType.F32, 8, 128, 128),
                    Tensor.zeros(osprey4j.core.tensor.DType.F32, 16, 64, 64),
                    Tensor.zeros(osprey4j.core.tensor.DType.F32, 32, 32, 32),
                    Tensor.zeros(osprey4j.core.tensor.DType.F32, 64, 16, 16));
            RegionTokens rt = extractor.forward(zeros, List.of(ParityFixtures.readMask("C_tiny.png")));
            assertClose(dump.tensor("mask_tokens").row(tiny).reshape(1, 64), rt.maskTokens(), FEATURE_TOLERANCE,
                    "C_tiny mask token");
            assertClose(dump.tensor("pos_tokens").row(tiny).reshape(1, 64), rt.posTokens(), FEATURE_TOLERANCE,
                    "C_tiny pos token");
        }
    }

    /**
     * The loading quirk matters: with the gammas taken from the Osprey weights (what happens here without a CLIP
     * file) the features move far from the reference, which took them from the CLIP file.
     */
    @Test
    void gammasFromTheOspreyWeightsGiveOtherFeatures() {
        ConvNextTower withoutClip = ConvNextTower.load(osprey, null);
        try (Checkpoint dump = ParityFixtures.dump("A")) {
            Features f = withoutClip.forward(dump.tensor("pixel_values"));
            // the stem has no gamma: identical; every stage output has
            assertClose(dump.tensor("stem"), f.stem(), FEATURE_TOLERANCE, "stem without CLIP file");
            double d = maxAbsDiff(dump.tensor("res5"), f.res5());
            assertTrue(d > 1e-2, "res5 should differ when the Osprey gammas are used, max diff " + d);
        }
    }
}
