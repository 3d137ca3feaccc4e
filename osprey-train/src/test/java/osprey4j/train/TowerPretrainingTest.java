package osprey4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
 * Tower pretraining on a tiny synthetic world: its gradient is the derivative of its loss, it learns, and a run
 * resumed from its saved state ends exactly where the uninterrupted run ends.
 */
class TowerPretrainingTest {
    private static final int SIZE = 48;
    private static final OspreyShape SHAPE = DemoModel.shape(40, 16, 24, 1, 2, new int[] {1, 1, 1, 1},
            new int[] {5, 7, 6, 10}, 9, 8);

    @TempDir
    static Path tmp;
    static Path world;

    @BeforeAll
    static void makeWorld() throws Exception {
        world = tmp.resolve("world");
        SyntheticWorld.generate(new SyntheticWorld.Options(5, 3, SIZE, SIZE, 1), world, (d, t) -> { });
    }

    private static TowerPretraining fresh() {
        Map<String, Tensor> w = RandomWeights.of(SHAPE, 3);
        return new TowerPretraining(w, SHAPE, SIZE);
    }

    /**
     * The accumulated gradient against a central difference of the loss along it: the directional derivative along
     * g/|g| is |g|. F32 loss through a dozen normalisations, step 1e-2 on unit-scale weights: 2% agreement, far
     * tighter than a lost term (a missing head, level or tower gradient changes |g| by much more).
     */
    @Test
    void theGradientIsTheLossDerivative() throws Exception {
        TowerPretraining pre = fresh();
        List<RegionWorld.Source> ex = pre.read(world);
        pre.makeHeads(1);
        TowerPretraining.Example one = pre.example(ex.get(1));
        pre.params().forEach(Param::zeroGrad);
        pre.lossAndGrad(one, 1.0, true);
        double[] check = DirectionalDerivative.along(pre.params(), () -> pre.lossAndGrad(one, 1.0, false), 1e-2);
        assertTrue(check[0] > 0, "a gradient");
        assertEquals(check[0], check[1], 0.02 * check[0]);
    }

    @Test
    void itLearnsAndAResumedRunEndsWhereTheUninterruptedOneEnds() throws Exception {
        TowerPretraining.Options o = new TowerPretraining.Options(12, 2, 3e-3, 0.1, 1.0, 5, 6);
        Path stateA = tmp.resolve("a").resolve("state.safetensors");
        StringWriter log = new StringWriter();
        TowerPretraining a = fresh();
        a.train(world, null, o, stateA, new PrintWriter(log));
        assertTrue(log.toString().contains("step 12/12"), log.toString());
        Map<String, Tensor> endA = a.pretrainedWeights();

        // the state saved at step 6 of run A stands for a run killed after step 6: resuming from it ends identically
        TowerPretraining b = fresh();
        StringWriter logB = new StringWriter();
        b.train(world, null, o, stateA, new PrintWriter(logB));
        assertTrue(!logB.toString().contains("step 6/12"), "the resumed run starts after step 6: " + logB);
        Map<String, Tensor> endB = b.pretrainedWeights();
        assertEquals(endA.keySet(), endB.keySet());
        for (String k : endA.keySet()) {
            assertArrayEquals(endA.get(k).toFloatArray(), endB.get(k).toFloatArray(), k);
        }
        // training moved the tower away from its start, and the loss fell on the training images
        TowerPretraining start = fresh();
        List<RegionWorld.Source> ex = start.read(world);
        start.makeHeads(5);
        double before = 0, after = 0;
        for (RegionWorld.Source e : ex) {
            before += start.lossAndGrad(start.example(e), 1, false);
        }
        TowerPretraining longer = fresh();
        longer.train(world, null, new TowerPretraining.Options(100, 2, 5e-3, 0.1, 1.0, 5, 1000), null,
                new PrintWriter(new StringWriter()));
        for (RegionWorld.Source e : longer.read(world)) {
            after += longer.lossAndGrad(longer.example(e), 1, false);
        }
        assertTrue(after < 0.75 * before, "loss " + before + " -> " + after);
    }

    @Test
    void aWorldWithoutPartsJsonIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fresh().read(tmp.resolve("nothing")));
        assertTrue(e.getMessage().contains("parts.json"), e.getMessage());
    }
}
