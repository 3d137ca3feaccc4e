package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorMath#sumLanes}: the lanes summed in lane order, the same before and after the JIT compiles the
 * caller. ({@code reduceLanes(ADD)} gave 8.0 cold and 0.0 warm on the first vector below: its order is open.)
 */
class SumLanesTest {
    @Test
    void sumsInLaneOrderColdAndWarm() {
        int n = FloatVector.SPECIES_PREFERRED.length();
        float[] a = new float[n];
        float[] pattern = {1e8f, 1f, -1e8f, 1f, 3.3f, 1e-3f, 7e7f, -7e7f};
        for (int i = 0; i < n; i++) {
            a[i] = pattern[i % pattern.length];
        }
        SplittableRandom rnd = new SplittableRandom(1);
        float[][] cases = new float[50][];
        cases[0] = a;
        for (int c = 1; c < cases.length; c++) {
            cases[c] = new float[n];
            for (int i = 0; i < n; i++) {
                cases[c][i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-6, 7)));
            }
        }
        for (int round = 0; round < 20_000; round++) {   // enough calls for C2 to compile sumLanes
            for (float[] v : cases) {
                float want = v[0];
                for (int i = 1; i < n; i++) {
                    want += v[i];
                }
                float got = VectorMath.sumLanes(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, v, 0));
                if (round % 5_000 == 0 || got != want) {
                    assertEquals(want, got, "round " + round);
                }
            }
        }
    }
}
