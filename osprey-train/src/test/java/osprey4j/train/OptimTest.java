package osprey4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import osprey4j.train.optim.AdamW;
import osprey4j.train.optim.GradClip;
import osprey4j.train.optim.LrSchedule;

/** The optimiser pieces on hand-computed cases (the parity test covers them against torch as a whole). */
class OptimTest {
    @Test
    void schedulesFollowTransformers() {
        // transformers 4.31: warmup = ceil(total * ratio); cosine 0.5 * (1 + cos(pi * progress))
        assertEquals(3, LrSchedule.warmupSteps(100, 0, 0.03));
        assertEquals(1, LrSchedule.warmupSteps(10, 0, 0.03));
        assertEquals(5, LrSchedule.warmupSteps(100, 5, 0.03));
        LrSchedule cos = new LrSchedule("cosine", 3, 100);
        assertEquals(0.0, cos.multiplier(0));
        assertEquals(2.0 / 3, cos.multiplier(2), 1e-15);
        assertEquals(1.0, cos.multiplier(3), 1e-15);
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 47.0 / 97)), cos.multiplier(50), 1e-15);
        assertEquals(0.0, cos.multiplier(100), 1e-15);
        LrSchedule lin = new LrSchedule("linear", 2, 10);
        assertEquals(0.5, lin.multiplier(1), 1e-15);
        assertEquals(6.0 / 8, lin.multiplier(4), 1e-15);
        assertEquals(1.0, new LrSchedule("constant", 0, 10).multiplier(7));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule("polynomial", 0, 10));
    }

    @Test
    void adamWFirstStepsByHand() {
        Param w = new Param("a.weight", new float[] {1f, -2f}, 2);
        Param b = new Param("a.bias", new float[] {0.5f}, 1);
        w.setTrainable(true);
        b.setTrainable(true);
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0.1);
        w.grad()[0] = 0.3f;
        w.grad()[1] = -0.2f;
        b.grad()[0] = 1f;
        adam.step(List.of(w, b), 0.01);
        // step 1: m_hat = g, v_hat = g^2, update = lr * g / (|g| + eps) ~ lr * sign(g); decay only on the weight
        assertEquals(1f * (1 - 0.001f) - 0.01f, w.value()[0], 1e-6);
        assertEquals(-2f * (1 - 0.001f) + 0.01f, w.value()[1], 1e-6);
        assertEquals(0.5f - 0.01f, b.value()[0], 1e-6);
        assertEquals(1, adam.steps(w));
    }

    @Test
    void clippingScalesToTheMaxNorm() {
        Param p = new Param("x", new float[] {0, 0}, 2);
        p.setTrainable(true);
        p.grad()[0] = 3f;
        p.grad()[1] = 4f;
        assertEquals(5.0, GradClip.clip(List.of(p), 1.0), 1e-12);
        assertEquals(0.6f, p.grad()[0], 1e-6);
        assertEquals(0.8f, p.grad()[1], 1e-6);
        float before = p.grad()[0];
        assertEquals(1.0, GradClip.clip(List.of(p), 2.0), 1e-6);
        assertEquals(before, p.grad()[0]); // below the max: unchanged
    }

    @Test
    void stepsPerRunAsHfTrainerCountsThem() {
        TrainConfig c = TrainConfig.forStage(Stage.MASK_EXTRACTOR).withBatching(4, 2, 3);
        assertEquals(2e-5, c.learningRate());
        // 37 samples: 10 batches (last partial), 5 steps per epoch, 3 epochs
        assertEquals(15, c.totalSteps(37));
        assertThrows(IllegalArgumentException.class, () -> Stage.of(4));
    }
}
