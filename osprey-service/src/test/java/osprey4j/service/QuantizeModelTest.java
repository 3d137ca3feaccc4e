package osprey4j.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;
import osprey4j.core.tensor.DType;
import osprey4j.model.GenerationOptions;

/**
 * {@code osprey quantize} on the parity fixture and on the bundled demo model: the directory it writes, that it
 * loads, and how close the quantised model's first-position logits and greedy answers stay to the original's.
 * The figures are printed (they are the quality report, lines starting "quant-quality"); the assertions are
 * loose bounds from the block formats, not the measured values: a Q8_0 weight is off by at most d/2 = amax/254 and
 * a Q4_0 weight by up to amax/8 (a whole step of the nibble grid at the far end), so Q8_0's logit error must be
 * well below Q4_0's and small next to the spread (standard deviation) of the logits, and Q4_0's below that spread.
 * Greedy agreement is printed, not asserted: it hangs on the gap between the two best tokens.
 */
class QuantizeModelTest {
    @TempDir
    Path dir;

    private record Prompt(String image, List<Mask> masks, String question) {
    }

    @Test
    void parityFixtureQuantisedLoadsAndStaysClose() throws Exception {
        List<Prompt> prompts = new ArrayList<>();
        for (String name : ServiceFixtures.CASES) {
            JsonNode c = ServiceFixtures.testCase(name);
            prompts.add(new Prompt(ServiceFixtures.input(c.path("image").asText()), ServiceFixtures.masks(c),
                    ServiceFixtures.question(c)));
        }
        QuantizeModel.Result q8 = QuantizeModel.run(ServiceFixtures.MODEL, DType.Q8_0, false, dir.resolve("q8"));
        // 2 layers x 7 projections, but intermediate 172 is no multiple of 32: down_proj keeps its type
        assertEquals(12, q8.quantized());
        assertEquals(List.of("model.layers.0.mlp.down_proj.weight [64, 172]",
                "model.layers.1.mlp.down_proj.weight [64, 172]"), q8.notBlockAligned());
        assertTrue(q8.copied().containsAll(List.of("config.json", "clip_vision_tower.bin", "tokenizer.model",
                "tokenizer.json")), q8.copied().toString());
        assertTrue(!q8.copied().contains("pytorch_model.bin"));
        try (Checkpoint ck = Checkpoints.open(dir.resolve("q8"))) {
            assertEquals(DType.Q8_0, ck.info("model.layers.1.self_attn.q_proj.weight").dtype());
            assertEquals(ck.info("model.embed_tokens.weight").dtype(), ck.info("lm_head.weight").dtype(),
                    "lm_head stays unless asked");
            assertTrue(ck.info("model.norm.weight").dtype().isWeightType());
        }
        QuantizeModel.Result head = QuantizeModel.run(ServiceFixtures.MODEL, DType.Q8_0, true, dir.resolve("q8h"));
        assertEquals(13, head.quantized(), "with lm_head");
        try (OspreyService s = OspreyService.load(dir.resolve("q8h"), null)) {
            Prompt p = prompts.getFirst();
            assertEquals(3, s.ask(new AskRequest(p.image(), p.masks(), p.question(), GenerationOptions.greedy(3)),
                    null, null).tokens().length, "a quantised lm_head loads and runs");
        }
        QuantizeModel.run(ServiceFixtures.MODEL, DType.Q4_0, false, dir.resolve("q4"));
        compare("parity fixture", ServiceFixtures.MODEL, prompts, 20);
    }

    @Test
    void demoModelQuantisedStaysClose() throws Exception {
        Path demo = Path.of("..", "models", "demo");
        Path example = demo.resolve("example");
        List<Mask> region = List.of(MaskPng.read(example.resolve("region.png")));
        String image = example.resolve("scene.png").toString();
        List<Prompt> prompts = List.of(
                new Prompt(image, region, "Paint a detailed verbal picture of <region1>."),
                new Prompt(image, region, "What is the category of <region1>? Answer the question using a single "
                        + "word or phrase."),
                new Prompt(image, region, "Is <region1> a barn? Answer the question using a single word or phrase."),
                new Prompt(image, region, "What is the colour of <region1>?"));
        QuantizeModel.Result q8 = QuantizeModel.run(demo, DType.Q8_0, false, dir.resolve("q8"));
        assertEquals(21, q8.quantized());
        assertTrue(q8.notBlockAligned().isEmpty());
        QuantizeModel.run(demo, DType.Q4_0, false, dir.resolve("q4"));
        compare("demo model", demo, prompts, 48);
    }

    private void compare(String what, Path original, List<Prompt> prompts, int maxTokens) throws Exception {
        double[] q8 = figures(original, dir.resolve("q8"), prompts, maxTokens, what + " Q8_0");
        double[] q4 = figures(original, dir.resolve("q4"), prompts, maxTokens, what + " Q4_0");
        assertTrue(q8[0] < q4[0], what + ": Q8_0's logit error " + q8[0] + " is below Q4_0's " + q4[0]);
        assertTrue(q8[0] < 0.1 * q8[1], what + ": Q8_0's logit error " + q8[0] + " is small next to the logit spread "
                + q8[1]);
        assertTrue(q4[0] < q4[1], what + ": Q4_0's logit error " + q4[0] + " is below the logit spread " + q4[1]);
    }

    /** {max |logit difference|, logit standard deviation}, printing a line per prompt and a summary. */
    private double[] figures(Path original, Path quantised, List<Prompt> prompts, int maxTokens, String what)
            throws Exception {
        double worst = 0;
        double spread = Double.MAX_VALUE;
        int sameAnswers = 0;
        int sameFirst = 0;
        long tokens = 0;
        long agreeing = 0;
        try (OspreyService a = OspreyService.load(original, null); OspreyService b = OspreyService.load(quantised, null)) {
            for (int i = 0; i < prompts.size(); i++) {
                Prompt p = prompts.get(i);
                float[] la = logits(a, p, "a" + i);
                float[] lb = logits(b, p, "b" + i);
                double diff = 0;
                double mean = 0;
                for (int j = 0; j < la.length; j++) {
                    diff = Math.max(diff, Math.abs(la[j] - lb[j]));
                    mean += la[j];
                }
                mean /= la.length;
                double var = 0;
                for (float v : la) {
                    var += (v - mean) * (v - mean);
                }
                double std = Math.sqrt(var / la.length);
                worst = Math.max(worst, diff);
                spread = Math.min(spread, std);
                if (argmax(la) == argmax(lb)) {
                    sameFirst++;
                }
                int[] ta = a.ask(new AskRequest(p.image(), p.masks(), p.question(), GenerationOptions.greedy(maxTokens)),
                        null, null).tokens();
                int[] tb = b.ask(new AskRequest(p.image(), p.masks(), p.question(), GenerationOptions.greedy(maxTokens)),
                        null, null).tokens();
                int prefix = 0;
                while (prefix < Math.min(ta.length, tb.length) && ta[prefix] == tb[prefix]) {
                    prefix++;
                }
                if (java.util.Arrays.equals(ta, tb)) {
                    sameAnswers++;
                }
                tokens += ta.length;
                agreeing += prefix;
                System.out.printf(Locale.ROOT, "quant-quality | %s | prompt %d | max |dlogit| %.5f | logit std %.4f | "
                        + "greedy tokens agree %d/%d%n", what, i, diff, std, prefix, ta.length);
            }
        }
        System.out.printf(Locale.ROOT, "quant-quality | %s | max |dlogit| %.5f | first-token argmax %d/%d | identical "
                + "greedy answers %d/%d | common-prefix tokens %d/%d%n", what, worst, sameFirst, prompts.size(),
                sameAnswers, prompts.size(), agreeing, tokens);
        return new double[] {worst, spread};
    }

    private float[] logits(OspreyService s, Prompt p, String name) throws Exception {
        Path dump = dir.resolve(name + ".safetensors");
        s.inspect(new InspectRequest(p.image(), p.masks(), List.of(), p.question(), dump.toString()), null);
        try (Checkpoint ck = Checkpoints.open(dump)) {
            float[] l = ck.tensor("logits").toFloatArray();
            Files.delete(dump);
            return l;
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void refusesBadRequestsAndLeavesNothingBehind() throws Exception {
        Path out = dir.resolve("x");
        assertThrows(InvalidRequestException.class, () -> QuantizeModel.run(ServiceFixtures.MODEL, DType.BF16, false, out));
        assertThrows(InvalidRequestException.class, () -> QuantizeModel.run(dir.resolve("none"), DType.Q8_0, false, out));
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "x");
        var e = assertThrows(InvalidRequestException.class,
                () -> QuantizeModel.run(ServiceFixtures.MODEL, DType.Q8_0, false, out));
        assertTrue(e.getMessage().contains("not an empty directory"), e.getMessage());
        // re-quantising a quantised model is refused, and no temporary directory is left
        QuantizeModel.run(ServiceFixtures.MODEL, DType.Q4_0, false, dir.resolve("q4"));
        var again = assertThrows(InvalidRequestException.class,
                () -> QuantizeModel.run(dir.resolve("q4"), DType.Q8_0, false, dir.resolve("q8")));
        assertTrue(again.getMessage().contains("is already Q4_0"), again.getMessage());
        // a weight that cannot be quantised (NaN) fails the whole directory, named, with nothing left behind
        Path nanModel = dir.resolve("nan");
        Files.createDirectories(nanModel);
        float[] w = new float[4 * 32];
        w[77] = Float.NaN;
        osprey4j.core.io.SafetensorsWriter.write(nanModel.resolve("model.safetensors"), java.util.Map.of(
                "model.layers.0.mlp.up_proj.weight", osprey4j.core.tensor.Tensor.copyOf(w, 4, 32)));
        var nan = assertThrows(InvalidRequestException.class,
                () -> QuantizeModel.run(nanModel, DType.Q8_0, false, dir.resolve("nanq")));
        assertTrue(nan.getMessage().contains("'model.layers.0.mlp.up_proj.weight'") && nan.getMessage().contains("NaN"),
                nan.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(List.of("nan", "q4", "x"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
