package osprey4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.Tensor;

/**
 * The trainable ConvNeXt tower against timm 0.6.13's ConvNeXt (the class open_clip runs for Osprey's tower) in
 * float64, on the fixture of {@code tools/fixtures/train/make_tower_fixture.py}: widths 5/7/6/9, two blocks in the
 * first stage, a 38x45 image (the stride-2 convs drop a row or column), L = sum_s sum(R_s * res_s).
 *
 * <p>Tolerance: we compute in F32 against a float64 reference; each output passes through about a dozen
 * normalisations and products of at most a few hundred terms, so relative rounding stays near 1e-6. We require
 * |ours - reference| <= 2e-5 * max|reference| per tensor (forward and every gradient); a wrong term in a backward
 * (a missed transpose, a lost residual, the wrong padding side) is off by far more.
 */
class TrainableTowerTest {
    private static final Path FIXTURE = Path.of("src/test/resources/tower/tower.safetensors");

    @Test
    void forwardAndEveryGradientMatchTimm() {
        try (Checkpoint ckpt = Checkpoints.open(FIXTURE)) {
            TrainableTower tower = TrainableTower.load(ckpt, Optional.empty());
            tower.params().forEach(p -> p.setTrainable(true));
            Tensor pixels = ckpt.tensor("pixels");
            TrainableTower.Pass pass = tower.forward(pixels.toFloatArray(), pixels.size(1), pixels.size(2));
            float[][] dLevels = new float[4][];
            for (int s = 0; s < 4; s++) {
                Tensor expected = ckpt.tensor("res" + (s + 2));
                int c = expected.size(0), h = expected.size(1), w = expected.size(2);
                assertEquals(h, pass.height(s), "res" + (s + 2) + " height");
                assertEquals(w, pass.width(s), "res" + (s + 2) + " width");
                assertClose(toChannelsLast(expected.toFloatArray(), c, h, w), pass.level(s), "res" + (s + 2));
                dLevels[s] = toChannelsLast(ckpt.tensor("R" + s).toFloatArray(), c, h, w);
            }
            tower.backward(pass, dLevels);
            int checked = 0;
            for (Param p : tower.params()) {
                String name = p.name().substring(p.name().indexOf("visual.trunk.") + "visual.trunk.".length());
                assertClose(ckpt.tensor("grad." + name).toFloatArray(), p.grad(), "d " + name);
                checked++;
            }
            assertEquals(4 + 5 * 9 + 3 * 4, checked, "every tower tensor is checked");
        }
    }

    @Test
    void aPartlyFrozenTowerTrainsOnlyItsTrainableStage() {
        try (Checkpoint ckpt = Checkpoints.open(FIXTURE)) {
            TrainableTower tower = TrainableTower.load(ckpt, Optional.empty());
            for (Param p : tower.params()) {
                p.setTrainable(p.name().contains("stages.3."));
            }
            Tensor pixels = ckpt.tensor("pixels");
            TrainableTower.Pass pass = tower.forward(pixels.toFloatArray(), pixels.size(1), pixels.size(2));
            Tensor r3 = ckpt.tensor("R3");
            float[][] d = new float[4][];
            d[3] = toChannelsLast(r3.toFloatArray(), r3.size(0), r3.size(1), r3.size(2));
            tower.backward(pass, d);
            int trained = 0;
            for (Param p : tower.params()) {
                if (p.trainable()) {
                    // the last stage's weights reach only res5, so R3 alone gives the fixture's full gradient
                    String name = p.name().substring(p.name().indexOf("visual.trunk.") + "visual.trunk.".length());
                    assertClose(ckpt.tensor("grad." + name).toFloatArray(), p.grad(), "d " + name);
                    trained++;
                } else {
                    assertEquals(null, p.grad(), p.name() + " is frozen");
                }
            }
            assertEquals(4 + 9, trained);
        }
    }

    @Test
    void maskPoolingBackwardIsTheTransposeOfItsForward() {
        SplittableRandom rnd = new SplittableRandom(5);
        int c = 7, pixels = 23;
        int[][] inside = {{0, 3, 4, 9, 22}, {5}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}};
        float[] x = new float[pixels * c];
        float[] dp = new float[inside.length * c];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < dp.length; i++) {
            dp[i] = (float) rnd.nextGaussian();
        }
        float[] pooled = OspreyLoss.poolChannelsLast(x, c, inside);
        float[] dx = new float[x.length];
        OspreyLoss.unpoolChannelsLast(dp, c, inside, dx);
        double lhs = 0, rhs = 0;
        for (int i = 0; i < dp.length; i++) {
            lhs += (double) dp[i] * pooled[i];
        }
        for (int i = 0; i < x.length; i++) {
            rhs += (double) dx[i] * x[i];
        }
        assertEquals(lhs, rhs, 1e-5 * Math.abs(lhs));
        // region 1 is a single pixel: its pooled value is that pixel's
        assertEquals(x[5 * c + 2], pooled[c + 2], 1e-6f);
    }

    /**
     * The whole Osprey loss with a trainable tower: the pixel path gives the same loss and the same gradients for
     * every non-tower parameter as the frozen-feature path fed with the tower's own output, and the tower's gradient
     * agrees with a central difference of the loss along that gradient's direction (the directional derivative is
     * |g|; F32 loss, step 1e-3: we require 1% agreement, far below what a lost term would give).
     */
    @Test
    void theLossWithATrainableTowerMatchesTheFrozenPathAndItsDirectionalDerivative() {
        try (Checkpoint ckpt = Checkpoints.open(FIXTURE)) {
            TrainableTower tower = TrainableTower.load(ckpt, Optional.empty());
            OspreyDims dims = new OspreyDims(20, 13, 2, 5, 1, TinyBatches.VOCAB, 1e-5f, 500.0, false, 6, 2,
                    new int[] {5, 7, 6, 9}, 11, new int[] {7, 9}, 6);
            TrainableOsprey withTower = TrainableOsprey.random(dims, 21, tower);
            withTower.freezeFor(Stage.FULL);
            Tensor pixels = ckpt.tensor("pixels");
            SplittableRandom rnd = new SplittableRandom(4);
            java.util.List<Tensor> masks = TinyBatches.masksOfSize(rnd, 2, pixels.size(1), pixels.size(2));
            int img = osprey4j.model.OspreyTokens.IMAGE_TOKEN_ID;
            int m = TinyBatches.MASK, p = TinyBatches.POS;
            int[] ids = {1, 5, img, 7, m, p, 9, 3, m, p, 4, 11, 12, 2};
            int[] labels = {-100, -100, -100, -100, -100, -100, -100, -100, -100, -100, 4, 11, 12, 2};
            java.util.List<TrainSample> pixelBatch = java.util.List.of(TrainSample.withPixels(ids, labels, pixels, masks));
            OspreyLoss loss = new OspreyLoss(withTower, m);
            double l0 = loss.forwardBackward(pixelBatch, 1.0).loss();

            // the same model without the tower, fed the tower's output as frozen features
            TrainableTower.Pass pass = tower.forward(pixels.toFloatArray(), pixels.size(1), pixels.size(2));
            java.util.List<Tensor> levels = new java.util.ArrayList<>();
            int[] ch = {5, 7, 6, 9};
            for (int s = 0; s < 4; s++) {
                levels.add(Tensor.wrap(toChannelsFirst(pass.level(s), ch[s], pass.height(s), pass.width(s)), ch[s],
                        pass.height(s), pass.width(s)));
            }
            TrainableOsprey frozen = TrainableOsprey.random(dims, 21);
            frozen.freezeFor(Stage.FULL);
            double l1 = new OspreyLoss(frozen, m).forwardBackward(java.util.List.of(new TrainSample(ids, labels, levels,
                    masks)), 1.0).loss();
            assertEquals(l1, l0, 1e-6 * Math.abs(l1));
            for (Param q : frozen.params()) {
                assertClose(q.grad(), withTower.param(q.name()).grad(), "d " + q.name());
            }

            // directional derivative of the loss along the tower's gradient
            double norm2 = 0;
            for (Param q : tower.params()) {
                for (float g : q.grad()) {
                    norm2 += (double) g * g;
                }
            }
            double norm = Math.sqrt(norm2);
            assertTrue(norm > 0, "the tower gets a gradient");
            double h = 1e-3;
            double up = lossAlong(tower, withTower, pixelBatch, h / norm);
            double down = lossAlong(tower, withTower, pixelBatch, -h / norm);
            lossAlong(tower, withTower, pixelBatch, 0);
            double fd = (up - down) / (2 * h);
            assertEquals(norm, fd, 0.01 * norm, "directional derivative along the tower's gradient");
        }
    }

    /** Moves every tower weight by step * its gradient (restoring from the saved copy first) and returns the loss. */
    private static final java.util.Map<Param, float[][]> SAVED = new java.util.IdentityHashMap<>();

    private static double lossAlong(TrainableTower tower, TrainableOsprey model, java.util.List<TrainSample> batch,
                                    double step) {
        for (Param q : tower.params()) {
            float[][] saved = SAVED.computeIfAbsent(q, k -> new float[][] {k.value().clone(), k.grad().clone()});
            for (int i = 0; i < q.size(); i++) {
                q.value()[i] = (float) (saved[0][i] + step * saved[1][i]);
            }
        }
        model.zeroGrad();
        double l = new OspreyLoss(model, TinyBatches.MASK).forwardBackward(batch, 1.0).loss();
        for (Param q : tower.params()) {
            System.arraycopy(SAVED.get(q)[1], 0, q.grad(), 0, q.size());
        }
        return l;
    }

    static float[] toChannelsFirst(float[] hwc, int c, int h, int w) {
        float[] out = new float[hwc.length];
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < h * w; p++) {
                out[ch * h * w + p] = hwc[p * c + ch];
            }
        }
        return out;
    }

    static float[] toChannelsLast(float[] chw, int c, int h, int w) {
        float[] out = new float[chw.length];
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < h * w; p++) {
                out[p * c + ch] = chw[ch * h * w + p];
            }
        }
        return out;
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " size");
        double scale = 0, worst = 0;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(scale > 0, what + " is all zero in the fixture");
        assertTrue(worst <= 2e-5 * scale, what + ": worst |diff| " + worst + " vs max|ref| " + scale);
    }
}
