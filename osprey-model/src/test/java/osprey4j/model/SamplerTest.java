package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class SamplerTest {
    /**
     * The kept tokens and probabilities match transformers 4.31's warpers (temperature, top-k, top-p in
     * generate's order) on the fixture's logit vectors, ties at the top-k and top-p boundaries included.
     * Fixture: tools/fixtures/sampling/make_sampling_fixtures.py.
     */
    @Test
    void matchesTransformersWarpers() throws IOException {
        JsonNode cases = new ObjectMapper().readTree(Path.of("src/test/resources/sampling/warpers.json").toFile())
                .get("cases");
        assertTrue(cases.size() >= 30);
        for (JsonNode c : cases) {
            float[] logits = floats(c.get("logits"));
            GenerationOptions config = GenerationOptions.sampling((float) c.get("temperature").asDouble(),
                    (float) c.get("top_p").asDouble(), c.get("top_k").asInt(), 1);
            Sampler sampler = new Sampler(config);
            float[] probs = sampler.probabilities(logits);
            float[] scores = sampler.warp(logits);
            float[] expected = floats(c.get("probs"));
            List<Integer> kept = new ArrayList<>();
            for (int i = 0; i < scores.length; i++) {
                if (scores[i] != Float.NEGATIVE_INFINITY) {
                    kept.add(i);
                }
            }
            List<Integer> expectedKept = new ArrayList<>();
            c.get("kept").forEach(n -> expectedKept.add(n.asInt()));
            String what = "T=" + config.temperature() + " top-p=" + config.topP() + " top-k=" + config.topK();
            assertEquals(expectedKept, kept, what + ": kept tokens");
            for (int i = 0; i < probs.length; i++) {
                // float32 softmax with a different summation order: a few ulp
                assertEquals(expected[i], probs[i], 1e-6 + 1e-5 * expected[i], what + ": p[" + i + "]");
            }
        }
    }

    @Test
    void greedyTakesTheLowestIndexAmongTies() {
        Sampler greedy = new Sampler(GenerationOptions.greedy(1));
        assertEquals(1, greedy.next(new float[] {1f, 5f, 5f, -2f}));
        assertEquals(0, greedy.next(new float[] {7f, 7f}));
        assertEquals(2, greedy.next(new float[] {Float.NEGATIVE_INFINITY, -1e30f, -3f}));
    }

    @Test
    void topKOneAndTinyTopPAreGreedy() {
        Random r = new Random(5);
        Sampler topK1 = new Sampler(new GenerationOptions(false, 1.5f, 1f, 1, 42, 1));
        Sampler tinyP = new Sampler(new GenerationOptions(false, 0.8f, 1e-6f, 0, 43, 1));
        for (int t = 0; t < 200; t++) {
            float[] logits = new float[50];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) r.nextGaussian() * 2;
            }
            int best = Sampler.argmax(logits);
            assertEquals(best, topK1.next(logits));
            assertEquals(best, tinyP.next(logits));
        }
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        float[] logits = {0.1f, 0.5f, 0.2f, 0.9f, 0.0f, 0.4f, 0.3f, 0.7f};
        int[] a = draw(new Sampler(GenerationOptions.sampling(1f, 1f, 0, 123)), logits, 100);
        int[] b = draw(new Sampler(GenerationOptions.sampling(1f, 1f, 0, 123)), logits, 100);
        int[] c = draw(new Sampler(GenerationOptions.sampling(1f, 1f, 0, 124)), logits, 100);
        assertArrayEquals(a, b);
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c));
    }

    /**
     * Draw frequencies follow softmax(logits / T): a chi-square statistic over 3 outcomes (2 degrees of freedom)
     * below 20 (p < 5e-5 if the sampler were right), and the lower temperature concentrates on the top token.
     */
    @Test
    void temperatureShapesTheDistribution() {
        float[] logits = {0f, 1f, 2f};
        double[] top = new double[3];
        float[] temperatures = {0.5f, 1f, 2f};
        for (int t = 0; t < temperatures.length; t++) {
            float temperature = temperatures[t];
            double[] expected = new double[3];
            double z = 0;
            for (int i = 0; i < 3; i++) {
                expected[i] = Math.exp(logits[i] / temperature);
                z += expected[i];
            }
            int n = 20000;
            int[] counts = new int[3];
            for (int tok : draw(new Sampler(GenerationOptions.sampling(temperature, 1f, 0, 7 + t)), logits, n)) {
                counts[tok]++;
            }
            double chi2 = 0;
            for (int i = 0; i < 3; i++) {
                double e = n * expected[i] / z;
                chi2 += (counts[i] - e) * (counts[i] - e) / e;
            }
            assertTrue(chi2 < 20, "T=" + temperature + ": chi-square " + chi2 + " for counts " + java.util.Arrays.toString(counts));
            top[t] = counts[2] / (double) n;
        }
        assertTrue(top[0] > top[1] && top[1] > top[2], "P(top) falls with temperature: " + java.util.Arrays.toString(top));
    }

    @Test
    void removedTokensAreNeverDrawn() {
        // probabilities 0.5, 0.3, 0.15, 0.05; top-p 0.75 keeps the tokens with p 0.5 and 0.3
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        TreeSet<Integer> seen = new TreeSet<>();
        for (int tok : draw(new Sampler(GenerationOptions.sampling(1f, 0.75f, 0, 3)), logits, 2000)) {
            seen.add(tok);
        }
        assertEquals(List.of(0, 1), List.copyOf(seen));
        // top-k 2 over ties at the boundary keeps all tied tokens
        seen.clear();
        for (int tok : draw(new Sampler(new GenerationOptions(false, 1f, 1f, 2, 3, 1)), new float[] {3f, 2f, 2f, 1f}, 2000)) {
            seen.add(tok);
        }
        assertEquals(List.of(0, 1, 2), List.copyOf(seen));
    }

    @Test
    void ospreyDefaultsAreTheReferenceScripts() {
        GenerationOptions c = GenerationOptions.reference().withSeed(9);
        assertEquals(0.2f, c.temperature());
        assertEquals(50, c.topK());
        assertEquals(1f, c.topP());
    }

    @Test
    void invalidConfigsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GenerationOptions(false, 0f, 1f, 0, 1, 1));
        assertTrue(e.getMessage().contains("temperature"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(false, -1f, 1f, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(false, Float.NaN, 1f, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(false, Float.POSITIVE_INFINITY, 1f, 0, 1, 1));
        e = assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(false, 1f, 0f, 0, 1, 1));
        assertTrue(e.getMessage().contains("top-p"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(false, 1f, 1.01f, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(true, 1f, Float.NaN, 0, 1, 1));
        e = assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(false, 1f, 1f, -1, 1, 1));
        assertTrue(e.getMessage().contains("top-k"), e.getMessage());
        // greedy does not use the temperature
        assertEquals(1, new Sampler(new GenerationOptions(true, 0f, 1f, 0, 1, 1)).next(new float[] {0f, 1f}));
        Sampler s = new Sampler(GenerationOptions.greedy(1));
        assertThrows(IllegalArgumentException.class, () -> s.next(new float[0]));
        assertThrows(IllegalArgumentException.class, () -> s.next(new float[] {1f, Float.NaN}));
    }

    private static int[] draw(Sampler sampler, float[] logits, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = sampler.next(logits);
        }
        return out;
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }
}
