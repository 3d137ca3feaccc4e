package osprey4j.data.world;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

class SceneSamplerTest {
    @Test
    void categoriesAreBalancedAndIndoorScenesHoldOnlyIndoorThings() {
        SceneSampler sampler = new SceneSampler(256, 256);
        SplittableRandom rng = new SplittableRandom(42);
        int[] counts = new int[Catalog.CATEGORIES.size()];
        int total = 0;
        boolean[] kinds = new boolean[Background.Kind.values().length];
        for (int i = 0; i < 2000; i++) {
            Scene s = sampler.sample(rng, 2, 10);
            kinds[s.background().kind().ordinal()] = true;
            assertTrue(s.objects().size() >= 2 && s.objects().size() <= 10);
            double lastBase = Double.NEGATIVE_INFINITY;
            for (WorldObject o : s.objects()) {
                counts[o.category().id() - 1]++;
                total++;
                assertTrue(s.background().kind() != Background.Kind.INDOOR || o.category().indoor(),
                        o.category().name() + " indoors");
                assertTrue(o.baseY() >= lastBase, "objects are ordered far to near");
                lastBase = o.baseY();
            }
        }
        double expected = (double) total / counts.length;
        for (int i = 0; i < counts.length; i++) {
            // ~460 draws per category: a 25% deviation is more than 5 standard deviations.
            assertTrue(Math.abs(counts[i] - expected) < 0.25 * expected,
                    Catalog.CATEGORIES.get(i).name() + ": " + counts[i] + " vs " + expected);
        }
        for (boolean k : kinds) {
            assertTrue(k, "every background kind occurs");
        }
    }
}
