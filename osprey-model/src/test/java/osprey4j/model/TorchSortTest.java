package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TorchSortTest {
    /** torch 1.13's own output: {@code torch.sort(torch.tensor([1., 0., 1., 0., 1.] * k)).indices}. */
    @Test
    void tieOrderIsTorchs() {
        assertArrayEquals(new int[] {1, 3, 6, 8, 0, 2, 4, 5, 7, 9}, TorchSort.argsortAscending(pattern(2)));
        assertArrayEquals(new int[] {16, 31, 33, 28, 26, 36, 23, 21, 38, 18, 41, 13, 11, 1, 3, 48, 6, 46, 8, 43, 39,
                45, 40, 37, 49, 47, 35, 44, 34, 42, 0, 32, 15, 2, 4, 5, 7, 9, 10, 12, 14, 30, 17, 19, 20, 22, 24, 25,
                27, 29}, TorchSort.argsortAscending(pattern(10)));
    }

    @Test
    void sortsIncludingTheHeapsortFallback() {
        Random r = new Random(3);
        for (int n : new int[] {0, 1, 2, 17, 100, 5000}) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = r.nextInt(7) - 3 + (i % 97 == 0 ? Float.NaN : 0f);
            }
            checkSorted(v, TorchSort.argsortAscending(v));
        }
        // an organ-pipe input drives median-of-three quicksort deep enough to hit the depth limit
        float[] pipe = new float[4096];
        for (int i = 0; i < pipe.length; i++) {
            pipe[i] = i < pipe.length / 2 ? i : pipe.length - i;
        }
        checkSorted(pipe, TorchSort.argsortAscending(pipe));
    }

    private static void checkSorted(float[] v, int[] order) {
        boolean[] seen = new boolean[v.length];
        for (int j = 0; j < order.length; j++) {
            assertTrue(!seen[order[j]]);
            seen[order[j]] = true;
            if (j > 0) {
                float a = v[order[j - 1]], b = v[order[j]];
                assertTrue(Float.isNaN(b) || (!Float.isNaN(a) && a <= b), "order at " + j);
            }
        }
    }

    private static float[] pattern(int k) {
        float[] base = {1f, 0f, 1f, 0f, 1f};
        float[] out = new float[5 * k];
        for (int i = 0; i < out.length; i++) {
            out[i] = base[i % 5];
        }
        return out;
    }
}
