package osprey4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Every backward on the trainable path against central finite differences of the scalar float64 forward
 * ({@link ReferenceForward}): hidden 20, 5 query heads sharing 1 key/value head (head size 4), 2 layers,
 * vocab 23, a 2-layer mlp2x_gelu projector over 6-channel res4 tokens, a mask extractor with levels 3/5/6/9,
 * width 11 and a 6x6 pos grid, and two samples of different lengths (one with two regions).
 *
 * <p>Tolerance: the analytic gradient is computed in F32 (relative rounding about 1e-6 per operation over a
 * few hundred operations) and the float64 central difference with step 1e-4 has truncation error about
 * 1e-8 * |f'''|; we require |analytic - fd| <= 1e-3 * (largest |fd| of that tensor) + 1e-6. A wrong term in any
 * backward (a missed transpose, a lost residual, an off-by-one shift) is off by tens of percent.
 */
class OspreyLossGradientTest {
    static double worst;

    @ParameterizedTest(name = "tied={0}")
    @ValueSource(booleans = {false, true})
    void everyGradientMatchesFiniteDifferences(boolean tied) {
        TrainableOsprey model = TrainableOsprey.random(TinyBatches.dims(tied), 11);
        model.freezeFor(Stage.FULL);
        List<TrainSample> batch = TinyBatches.batch(3);
        OspreyLoss loss = new OspreyLoss(model, TinyBatches.MASK);
        OspreyLoss.Result r = loss.forwardBackward(batch, 1.0);
        ReferenceForward ref = new ReferenceForward(model, TinyBatches.MASK);
        assertEquals(ref.loss(batch), r.loss(), 1e-5 * Math.abs(r.loss()));
        assertEquals(9, r.tokens()); // labelled positions: 4 in sample A (4 11 12 2), 5 in B (6 13 22 0 2)
        SplittableRandom rnd = new SplittableRandom(7);
        double worstHere = 0;
        for (Param p : model.params()) {
            double[] w = ref.weight(p.name());
            int[] picks = picks(p, rnd);
            double[] fd = new double[picks.length];
            double scale = 0;
            for (int i = 0; i < picks.length; i++) {
                int k = picks[i];
                double saved = w[k];
                double h = 1e-4;
                w[k] = saved + h;
                double up = ref.loss(batch);
                w[k] = saved - h;
                double down = ref.loss(batch);
                w[k] = saved;
                fd[i] = (up - down) / (2 * h);
                scale = Math.max(scale, Math.abs(fd[i]));
            }
            for (int i = 0; i < picks.length; i++) {
                double g = p.grad()[picks[i]];
                double err = Math.abs(g - fd[i]);
                worstHere = Math.max(worstHere, err / (scale + 1e-12));
                assertTrue(err <= 1e-3 * scale + 1e-6, p.name() + "[" + picks[i] + "]: analytic " + g + " vs finite difference " + fd[i]);
            }
        }
        worst = Math.max(worst, worstHere);
        System.out.printf("finite differences (tied=%s): worst |analytic - fd| / max|fd| per tensor = %.2e%n", tied, worstHere);
    }

    /** Some random entries plus the largest-gradient entry (and, for the embedding, every used row's first entry). */
    private static int[] picks(Param p, SplittableRandom rnd) {
        int n = p.size();
        int count = Math.min(n, 6);
        int[] out = new int[count + 1];
        for (int i = 0; i < count; i++) {
            out[i] = rnd.nextInt(n);
        }
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (Math.abs(p.grad()[i]) > Math.abs(p.grad()[best])) {
                best = i;
            }
        }
        out[count] = best;
        return out;
    }

    @Test
    void embeddingRowsOfUnusedIdsGetNoGradientAndLossSkipsIgnoredLabels() {
        TrainableOsprey model = TrainableOsprey.random(TinyBatches.dims(false), 12);
        model.freezeFor(Stage.FULL);
        OspreyLoss loss = new OspreyLoss(model, TinyBatches.MASK);
        loss.forwardBackward(TinyBatches.batch(4), 1.0);
        float[] g = model.param("model.embed_tokens.weight").grad();
        int h = model.dims().hidden();
        // ids used as inputs: 1 5 7 9 3 4 11 12 2 8 6 13 22 0; never: 10 14..21
        for (int id : new int[] {10, 14, 15, 16, 17, 18, 19, 20, 21}) {
            for (int c = 0; c < h; c++) {
                assertEquals(0f, g[id * h + c], "row " + id);
            }
        }
        double rowNorm = 0;
        for (int c = 0; c < h; c++) {
            rowNorm += Math.abs(g[5 * h + c]);
        }
        assertTrue(rowNorm > 0, "a used row gets a gradient");
    }

    @Test
    void aSampleWithoutRegionsTrainsNoExtractorAndMatchesTheReference() {
        TrainableOsprey model = TrainableOsprey.random(TinyBatches.dims(false), 14);
        model.freezeFor(Stage.FULL);
        int img = osprey4j.model.OspreyTokens.IMAGE_TOKEN_ID;
        List<TrainSample> batch = List.of(new TrainSample(new int[] {1, img, 8, 6, 13, 2}, new int[] {-100, -100, -100, 6, 13, 2},
                TinyBatches.levels(new SplittableRandom(1)), List.of()));
        OspreyLoss.Result r = new OspreyLoss(model, TinyBatches.MASK).forwardBackward(batch, 1.0);
        assertEquals(new ReferenceForward(model, TinyBatches.MASK).loss(batch), r.loss(), 1e-5 * r.loss());
        for (Param p : model.params()) {
            if (p.name().startsWith("mask_extractor")) {
                for (float g : p.grad()) {
                    assertEquals(0f, g, p.name());
                }
            }
        }
        assertTrue(Math.abs(model.param("model.mm_projector.0.weight").grad()[0]) > 0);
    }

    @Test
    void badSamplesAreRefusedWithOneLine() {
        TrainableOsprey model = TrainableOsprey.random(TinyBatches.dims(false), 15);
        OspreyLoss loss = new OspreyLoss(model, TinyBatches.MASK);
        List<osprey4j.core.tensor.Tensor> levels = TinyBatches.levels(new SplittableRandom(2));
        int img = osprey4j.model.OspreyTokens.IMAGE_TOKEN_ID;
        var noImage = new TrainSample(new int[] {1, 2, 3}, new int[] {1, 2, 3}, levels, List.of());
        assertEquals("a training sample has no <image>",
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> loss.forwardBackward(List.of(noImage), 1)).getMessage());
        var missingMask = new TrainSample(new int[] {1, img, TinyBatches.MASK, TinyBatches.POS, 3}, new int[] {-100, -100, -100, -100, 3}, levels, List.of());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> loss.forwardBackward(List.of(missingMask), 1));
        var badLabel = new TrainSample(new int[] {1, img, 3, 4}, new int[] {-100, -100, 3, 99}, levels, List.of());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> loss.forwardBackward(List.of(badLabel), 1));
    }

    @Test
    void stagesTrainOnlyTheirPartsWithTheSameGradients() {
        List<TrainSample> batch = TinyBatches.batch(5);
        TrainableOsprey full = TrainableOsprey.random(TinyBatches.dims(false), 13);
        full.freezeFor(Stage.FULL);
        new OspreyLoss(full, TinyBatches.MASK).forwardBackward(batch, 0.5);
        for (Stage stage : new Stage[] {Stage.PROJECTOR, Stage.MASK_EXTRACTOR}) {
            TrainableOsprey part = TrainableOsprey.random(TinyBatches.dims(false), 13);
            part.freezeFor(stage);
            new OspreyLoss(part, TinyBatches.MASK).forwardBackward(batch, 0.5);
            for (Param p : part.params()) {
                if (stage.trains(p.name())) {
                    assertArrayEquals(full.param(p.name()).grad(), p.grad(), 1e-6f, p.name());
                } else {
                    assertNull(p.grad(), p.name() + " is frozen in " + stage);
                }
            }
        }
    }
}
