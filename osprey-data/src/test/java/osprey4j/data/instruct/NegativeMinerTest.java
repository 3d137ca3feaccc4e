package osprey4j.data.instruct;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NegativeMinerTest {
    static final List<String> CATEGORIES = List.of("mug", "cup", "plate", "dog", "car", "banana", "tree", "bicycle",
            "bottle", "bowl", "wine glass", "teapot", "elephant", "umbrella", "truck", "cat", "giraffe", "skateboard");

    @TempDir
    Path tmp;

    @Test
    void nearestCategoriesAreSemanticNeighbours() throws Exception {
        NegativeMiner m = NegativeMiner.build(CATEGORIES, MiniLmEmbedder.get(), null);
        List<String> nearMug = m.nearest("mug", NegativeMiner.TOP_K);
        assertEquals(8, nearMug.size());
        assertTrue(nearMug.contains("cup"), nearMug.toString());
        assertTrue(nearMug.indexOf("cup") < 3, "cup should be among the very nearest to mug: " + nearMug);
        assertTrue(!nearMug.contains("mug"));
        // vehicles sit together, far from tableware
        List<String> nearCar = m.nearest("car", 3);
        assertTrue(nearCar.contains("truck"), nearCar.toString());
        assertTrue(!m.nearest("car", NegativeMiner.TOP_K).contains("mug"));
    }

    @Test
    void negativesAreSeededAndDrawnFromTheTopEight() throws Exception {
        NegativeMiner m = NegativeMiner.build(CATEGORIES, MiniLmEmbedder.get(), null);
        List<String> top = m.nearest("mug", NegativeMiner.TOP_K);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int seed = 0; seed < 200; seed++) {
            String a = m.negativeFor("mug", new SplittableRandom(seed));
            assertEquals(a, m.negativeFor("mug", new SplittableRandom(seed)));
            assertTrue(top.contains(a), a);
            seen.add(a);
        }
        assertEquals(8, seen.size(), "every one of the top 8 is drawn sometimes: " + seen);
    }

    @Test
    void vectorsAreCachedPerModel() throws Exception {
        Path cache = tmp.resolve(NegativeMiner.CACHE_FILE);
        NegativeMiner first = NegativeMiner.build(CATEGORIES, MiniLmEmbedder.get(), cache);
        assertTrue(Files.size(cache) > 0);
        // Same model id, but an embedder that must not be called: everything comes from the cache.
        TextEmbedder refusing = new TextEmbedder() {
            public String modelId() {
                return MiniLmEmbedder.MODEL_ID;
            }

            public float[][] embed(List<String> texts) {
                throw new AssertionError("asked to embed " + texts);
            }
        };
        NegativeMiner second = NegativeMiner.build(CATEGORIES, refusing, cache);
        assertEquals(first.nearest("mug", 8), second.nearest("mug", 8));
        // Another model id ignores the cache and embeds everything again.
        int[] calls = {0};
        TextEmbedder other = new TextEmbedder() {
            public String modelId() {
                return "other-model";
            }

            public float[][] embed(List<String> texts) {
                calls[0] += texts.size();
                float[][] v = new float[texts.size()][];
                for (int i = 0; i < v.length; i++) {
                    v[i] = new float[]{i + 1, 1};
                }
                return v;
            }
        };
        NegativeMiner third = NegativeMiner.build(CATEGORIES, other, cache);
        assertEquals(CATEGORIES.size(), calls[0]);
        assertNotEquals(first.nearest("mug", 8), third.nearest("mug", 8));
    }
}
