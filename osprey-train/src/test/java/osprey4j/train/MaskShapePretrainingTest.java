package osprey4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.tensor.Tensor;
import osprey4j.data.world.SyntheticWorld;
import osprey4j.train.export.OspreyShape;
import osprey4j.train.export.RandomWeights;

/**
 * Mask-shape pretraining on a tiny synthetic world: its gradient is the derivative of its loss, it learns, a resumed
 * run ends where the uninterrupted one ends, and it hands back every position-MLP layer but the last.
 */
class MaskShapePretrainingTest {
    private static final int SIZE = 40;
    /** A 112x112 grid as the reference's: mask_linear 12544 -> 8 -> 8 -> 16. */
    private static final OspreyShape SHAPE = DemoModel.shape(40, 16, 24, 1, 2, new int[] {1, 1, 1, 1},
            new int[] {5, 7, 6, 10}, 9, 8);

    @TempDir
    static Path tmp;
    static Path world;

    @BeforeAll
    static void makeWorld() throws Exception {
        world = tmp.resolve("world");
        SyntheticWorld.generate(new SyntheticWorld.Options(6, 3, SIZE, SIZE, 1), world, (d, t) -> { });
    }

    private static MaskShapePretraining fresh() {
        Map<String, Tensor> w = RandomWeights.of(SHAPE, 3);
        return new MaskShapePretraining(w, SHAPE);
    }

    /**
     * The accumulated gradient against a central difference of the loss along it (the directional derivative along
     * g/|g| is |g|). F32 through two layers on 12544 inputs, step 1e-3: 1% agreement; a missing head or layer
     * changes |g| by far more.
     */
    @Test
    void theGradientIsTheLossDerivative() throws Exception {
        MaskShapePretraining pre = fresh();
        List<RegionWorld.Source> sources = pre.read(world);
        pre.makeHeads(1);
        MaskShapePretraining.Batch batch = pre.batch(sources.subList(0, 2));
        pre.params().forEach(Param::zeroGrad);
        pre.lossAndGrad(batch, true);
        double[] check = DirectionalDerivative.along(pre.params(), () -> pre.lossAndGrad(batch, false), 1e-3);
        assertTrue(check[0] > 0, "a gradient");
        assertEquals(check[0], check[1], 0.01 * check[0]);
    }

    @Test
    void itLearnsResumesExactlyAndLeavesTheLastLayer() throws Exception {
        TowerPretraining.Options o = new TowerPretraining.Options(12, 2, 3e-3, 0.1, 1.0, 5, 6);
        Path state = tmp.resolve("a").resolve("state.safetensors");
        MaskShapePretraining a = fresh();
        StringWriter log = new StringWriter();
        MaskShapePretraining.Accuracy acc = a.train(world, world, o, state, new PrintWriter(log));
        assertTrue(log.toString().contains("step 12/12"), log.toString());
        assertTrue(acc.objects() > 0 && acc.parts() > 0, acc.toString());
        Map<String, Tensor> endA = a.pretrainedWeights();
        assertEquals(java.util.Set.of("mask_extractor.mask_linear.layers.0.weight",
                "mask_extractor.mask_linear.layers.0.bias", "mask_extractor.mask_linear.layers.1.weight",
                "mask_extractor.mask_linear.layers.1.bias"), endA.keySet());

        // the state saved at step 6 stands for a run killed after step 6: resuming from it ends identically
        MaskShapePretraining b = fresh();
        StringWriter logB = new StringWriter();
        b.train(world, null, o, state, new PrintWriter(logB));
        assertTrue(!logB.toString().contains("step 6/12"), "the resumed run starts after step 6: " + logB);
        for (String k : endA.keySet()) {
            assertArrayEquals(endA.get(k).toFloatArray(), b.pretrainedWeights().get(k).toFloatArray(), k);
        }

        MaskShapePretraining start = fresh();
        List<RegionWorld.Source> all = start.read(world);
        start.makeHeads(5);
        double before = start.lossAndGrad(start.batch(all), false);
        MaskShapePretraining longer = fresh();
        longer.train(world, null, new TowerPretraining.Options(60, 3, 3e-3, 0.1, 1.0, 5, 1000), null,
                new PrintWriter(new StringWriter()));
        double after = longer.lossAndGrad(longer.batch(longer.read(world)), false);
        assertTrue(after < 0.75 * before, "loss " + before + " -> " + after);
    }

    @Test
    void aBoxIsTheMasksExtentAsFractions() {
        float[] mask = new float[5 * 10];
        mask[1 * 10 + 2] = 1;
        mask[3 * 10 + 6] = 1;
        float[] box = new float[4];
        MaskShapePretraining.boxOf(mask, 5, 10, box, 0);
        assertArrayEquals(new float[] {0.2f, 0.2f, 0.7f, 0.8f}, box);
        MaskShapePretraining.boxOf(new float[50], 5, 10, box, 0);
        assertTrue(Float.isNaN(box[0]));
    }
}
