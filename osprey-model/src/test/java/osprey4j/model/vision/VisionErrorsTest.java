package osprey4j.model.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static osprey4j.model.vision.ParityFixtures.assertClose;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.mask.Mask;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.vision.ConvNextTower.Features;
import osprey4j.model.vision.MaskExtractor.RegionTokens;

/** Wrong weights and bad masks fail with a message that names the problem; an empty mask warns. */
class VisionErrorsTest {
    private static final String TOWER = "model.vision_tower.vision_tower.visual.trunk.";
    private static Checkpoint osprey;
    private static Checkpoint clip;

    @BeforeAll
    static void open() {
        osprey = ParityFixtures.ospreyWeights();
        clip = ParityFixtures.clipWeights();
    }

    @AfterAll
    static void close() {
        osprey.close();
        clip.close();
    }

    @Test
    void wrongWeightShapeNamesKeyAndShapes() {
        String key = TOWER + "stages.2.blocks.1.mlp.fc2.weight";
        MemoryCheckpoint bad = MemoryCheckpoint.copyOf(osprey).put(key, Tensor.zeros(DType.F32, 32, 64));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ConvNextTower.load(bad, clip));
        assertTrue(e.getMessage().contains(key), e.getMessage());
        assertTrue(e.getMessage().contains("expected [32, 128]") && e.getMessage().contains("found [32, 64]"),
                e.getMessage());
    }

    @Test
    void wrongGammaShapeInTheClipFileIsReported() {
        String key = "visual.trunk.stages.0.blocks.0.gamma";
        MemoryCheckpoint bad = MemoryCheckpoint.copyOf(clip).put(key, Tensor.zeros(DType.F32, 192));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ConvNextTower.load(osprey, bad));
        assertTrue(e.getMessage().contains(key) && e.getMessage().contains("expected [8]")
                && e.getMessage().contains("found [192]"), e.getMessage());
    }

    @Test
    void missingWeightIsNamed() {
        String key = TOWER + "stages.1.downsample.0.bias";
        MemoryCheckpoint noOspreyCopy = MemoryCheckpoint.copyOf(osprey).remove(key);
        // present in the CLIP file: the reference keeps the CLIP value, and so do we
        ConvNextTower.load(noOspreyCopy, clip);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ConvNextTower.load(noOspreyCopy, MemoryCheckpoint.copyOf(clip).remove("visual.trunk.stages.1.downsample.0.bias")));
        assertTrue(e.getMessage().contains(key) && e.getMessage().contains("visual.trunk.stages.1.downsample.0.bias")
                && e.getMessage().contains("[8]"), e.getMessage());
    }

    @Test
    void noTowerAnywhereIsAClearError() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ConvNextTower.load(new MemoryCheckpoint().put("x", Tensor.zeros(DType.F32, 1)), null));
        assertTrue(e.getMessage().contains("no ConvNeXt vision tower"), e.getMessage());
    }

    @Test
    void projectorAndExtractorCheckTheirWeights() {
        MemoryCheckpoint bad = MemoryCheckpoint.copyOf(osprey).put("model.mm_projector.2.weight", Tensor.zeros(DType.F32, 64, 32));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Projector.load(bad, "model.mm_projector", "mlp2x_gelu"));
        assertTrue(e.getMessage().contains("model.mm_projector.2.weight") && e.getMessage().contains("[64, 32]"), e.getMessage());
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class,
                () -> Projector.load(osprey, "model.mm_projector", "qformer"));
        assertTrue(u.getMessage().contains("qformer"), u.getMessage());

        MemoryCheckpoint noBias = MemoryCheckpoint.copyOf(osprey).remove("mask_extractor.res4.bias");
        e = assertThrows(CheckpointException.class, () -> MaskExtractor.load(noBias, "mask_extractor"));
        assertTrue(e.getMessage().contains("mask_extractor.res4.bias") && e.getMessage().contains("[1024]"), e.getMessage());
    }

    /**
     * Features of the wrong shape are refused. (Masks need no check here: a {@link Mask} is binary by construction,
     * and its size against the image is checked once, by {@code Osprey.checkMasks}; see OspreyFacadeTest.)
     */
    @Test
    void featuresOfTheWrongShapeAreRejected() {
        MaskExtractor extractor = MaskExtractor.load(osprey, "mask_extractor");
        Features f = zeroFeatures();
        Mask mask = Mask.full(360, 240);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> extractor.forward(new Features(f.stem(), f.res2(), f.res3(), f.res5(), f.res5()), List.of(mask)));
        assertTrue(e.getMessage().contains("res4"), e.getMessage());
    }

    /**
     * An all-zero mask is handled as the reference handles it: every level pools to zero, so the mask token is
     * feat_linear(sum of the level biases), and the pos token is the MLP of an all-zero grid. C_tiny vanishes at
     * every level and on the 112 grid, so the reference's tokens for it are exactly these. A warning is logged.
     */
    @Test
    void emptyMaskWarnsAndFollowsTheReference() {
        MaskExtractor extractor = MaskExtractor.load(osprey, "mask_extractor");
        List<String> messages = new ArrayList<>();
        Logger jul = Logger.getLogger(MaskExtractor.class.getName());
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    messages.add(r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(h);
        try (Checkpoint dump = ParityFixtures.dump("C")) {
            RegionTokens rt = extractor.forward(zeroFeatures(), List.of(Mask.empty(640, 256)));
            int tiny = ParityFixtures.maskNames("C").indexOf("C_tiny.png");
            assertClose(dump.tensor("mask_tokens").row(tiny).reshape(1, 64), rt.maskTokens(), 1e-4, "empty mask token");
            assertClose(dump.tensor("pos_tokens").row(tiny).reshape(1, 64), rt.posTokens(), 1e-4, "empty pos token");
        } finally {
            jul.removeHandler(h);
        }
        assertEquals(1, messages.size(), messages.toString());
        assertTrue(messages.getFirst().contains("region 1 is empty"), messages.getFirst());
    }

    private static Features zeroFeatures() {
        return new Features(Tensor.zeros(DType.F32, 8, 128, 128), Tensor.zeros(DType.F32, 8, 128, 128),
                Tensor.zeros(DType.F32, 16, 64, 64), Tensor.zeros(DType.F32, 32, 32, 32),
                Tensor.zeros(DType.F32, 64, 16, 16));
    }
}
