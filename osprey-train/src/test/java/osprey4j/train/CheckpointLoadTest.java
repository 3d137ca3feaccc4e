package osprey4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.OspreyTokens;

/**
 * Loading the trainable copy from an official-layout Osprey directory (the inference parity fixture: a
 * torch.save checkpoint holding the vision tower too), and gradient accumulation as HF Trainer scales it.
 */
class CheckpointLoadTest {
    private static final Path MODEL = Path.of("../osprey-model/src/test/resources/parity/model");

    @Test
    void loadsTheOfficialLayoutAndTrainsAStep() {
        TrainableOsprey model = TrainableOsprey.load(MODEL);
        OspreyDims d = model.dims();
        assertEquals(64, d.hidden());
        assertEquals(2, d.layers());
        assertEquals(32, d.projectorIn());
        assertArrayEquals(new int[] {8, 16, 32, 64}, d.levelChannels());
        assertEquals(1024, d.maskEmbed());
        assertEquals(112, d.maskGrid());
        assertArrayEquals(new int[] {16, 16}, d.posHidden());
        try (Checkpoint c = Checkpoints.open(MODEL)) {
            for (Param p : model.params()) {
                Tensor t = c.tensor(p.name());
                assertArrayEquals((t.dtype() == DType.F32 ? t : t.to(DType.F32)).toFloatArray(), p.value(), p.name());
            }
        }
        int mask = d.vocab(); // <mask> is the first added token
        SplittableRandom rnd = new SplittableRandom(3);
        List<Tensor> levels = List.of(rand(rnd, 8, 16, 16), rand(rnd, 16, 8, 8), rand(rnd, 32, 4, 4), rand(rnd, 64, 2, 2));
        float[] m = new float[40 * 40];
        for (int i = 0; i < 600; i++) {
            m[i + 300] = 1f;
        }
        TrainSample s = new TrainSample(new int[] {1, 5, OspreyTokens.IMAGE_TOKEN_ID, 9, mask, mask + 1, 17, 40, 2},
                new int[] {-100, -100, -100, -100, -100, -100, 17, 40, 2}, levels, List.of(Tensor.wrap(m, 40, 40)));
        Trainer trainer = new Trainer(model, mask, TrainConfig.forStage(Stage.FULL).withLearningRate(1e-3), 10);
        float before = model.param("mask_extractor.mask_linear.layers.0.weight").value()[0];
        // Two micro-batches of the same sample: the gradient is their mean, so the step equals a one-batch step.
        Trainer.StepResult r = trainer.step(List.of(List.of(s), List.of(s)));
        assertEquals(3, r.tokens() / 2);
        assertTrue(Double.isFinite(r.loss()) && r.loss() > 0);
        TrainableOsprey again = TrainableOsprey.load(MODEL);
        again.freezeFor(Stage.FULL);
        new OspreyLoss(again, mask).forwardBackward(List.of(s), 1.0);
        float[] g = again.param("model.layers.1.mlp.down_proj.weight").grad();
        float[] g2 = model.param("model.layers.1.mlp.down_proj.weight").grad();
        for (int i = 0; i < g.length; i++) {
            // the trainer's gradient was clipped (norm > 1) after accumulation: same direction, scaled
            assertEquals(g[i] * (float) Math.min(1, 1.0 / (r.gradNorm() + 1e-6)), g2[i], 1e-6 * Math.abs(g[i]) + 1e-9);
        }
        assertEquals(0.0, r.lr()); // warmup: the first step runs at lr 0
        assertEquals(before, model.param("mask_extractor.mask_linear.layers.0.weight").value()[0]);
    }

    private static Tensor rand(SplittableRandom rnd, int c, int h, int w) {
        float[] v = new float[c * h * w];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextDouble(-1, 1);
        }
        return Tensor.wrap(v, c, h, w);
    }
}
