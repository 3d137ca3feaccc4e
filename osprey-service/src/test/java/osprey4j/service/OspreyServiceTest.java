package osprey4j.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.mask.Mask;
import osprey4j.model.GenerationOptions;

/** The use cases on the parity fixture, against the reference's answers. */
class OspreyServiceTest {
    static OspreyService service;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        service = OspreyService.load(ServiceFixtures.MODEL, null);
    }

    @AfterAll
    static void close() {
        if (service != null) {
            service.close();
        }
    }

    /** describe asks the demo's short question, which is case B's message: B's mask gets B's answer. */
    @Test
    void describeAsksTheDemoQuestionOfEveryRegion() {
        JsonNode b = ServiceFixtures.testCase("B");
        Mask tiny = ServiceFixtures.masks(b).getFirst();
        Mask whole = Mask.full(tiny.width(), tiny.height());
        DescribeRequest request = new DescribeRequest(ServiceFixtures.input("gray_portrait.png"),
                List.of(new DescribeRequest.Region(41, tiny), new DescribeRequest.Region(42, whole)),
                DescribeRequest.Detail.SHORT, GenerationOptions.greedy(20));
        List<String> progress = new ArrayList<>();
        DescribeResult result = service.describe(request, new DescribeProgress() {
            @Override
            public void encoded(int width, int height, double encodeMs, int regions) {
                progress.add("encoded " + width + "x" + height + " " + regions);
            }

            @Override
            public void described(int done, int total, RegionDescription d, double millis) {
                progress.add(done + "/" + total + " " + d.id());
            }
        }, null);
        assertEquals(List.of("encoded 180x300 2", "1/2 41", "2/2 42"), progress);
        RegionDescription first = result.regions().getFirst();
        assertEquals(b.path("message").asText(), first.question());
        assertArrayEquals(ServiceFixtures.ints(b.path("generated_ids")), first.tokens());
        assertEquals(b.path("generated_text").asText().strip(), first.answer());
        assertEquals(tiny.area(), first.area());
        assertEquals(180 * 300, result.regions().get(1).area());
        assertArrayEquals(new double[] {0, 0, 180, 300}, result.regions().get(1).bbox());
    }

    /** questions: one encode, then independent questions; each gets the reference's answer, however many came first. */
    @Test
    void questionsOnOneEncodeGetTheReferenceAnswers() {
        JsonNode b = ServiceFixtures.testCase("B");
        ImageQuestions q = service.questions(OspreyService.readImage(ServiceFixtures.input("gray_portrait.png")), null);
        assertEquals(180, q.width());
        Mask tiny = ServiceFixtures.masks(b).getFirst();
        for (int round = 0; round < 2; round++) {
            AskResult a = q.ask(List.of(tiny), b.path("message").asText(), GenerationOptions.greedy(20));
            assertArrayEquals(ServiceFixtures.ints(b.path("generated_ids")), a.tokens(), "question " + (round + 1));
            q.ask(List.of(Mask.full(180, 300)), b.path("message").asText(), GenerationOptions.greedy(3));
        }
        assertThrows(InvalidRequestException.class, () -> q.ask(List.of(Mask.full(10, 10)),
                b.path("message").asText(), GenerationOptions.greedy(3)));
    }

    @Test
    void inspectWritesTheReferenceTensors() {
        JsonNode d = ServiceFixtures.testCase("D");
        String file = dir.resolve("d.safetensors").toString();
        InspectResult result = service.inspect(new InspectRequest(ServiceFixtures.input("palette_small.png"),
                ServiceFixtures.masks(d), List.of("D_full.png"), ServiceFixtures.question(d), file), null);
        assertEquals(d.path("prompt").asText(), result.prompt());
        assertEquals(List.of("pixel_values", "stem", "res2", "res3", "res4", "res5", "image_tokens", "mask_tokens",
                "pos_tokens", "input_ids", "inputs_embeds", "logits"), List.copyOf(result.tensors().keySet()));
        try (Checkpoint ours = Checkpoints.open(Path.of(file));
             Checkpoint ref = Checkpoints.open(ServiceFixtures.PARITY.resolve("dumps").resolve("case_D.safetensors"))) {
            float[] e = ref.tensor("logits").toFloatArray(), a = ours.tensor("logits").toFloatArray();
            for (int i = 0; i < e.length; i++) {
                assertEquals(e[i], a[i], 1e-4f, "logit " + i); // tolerance of OspreyParityTest
            }
            assertEquals("D_full.png", ours.metadata().get("masks"));
            assertEquals(ServiceFixtures.MODEL.toString(), ours.metadata().get("model"));
        }
    }

    @Test
    void requestErrorsAreTheRequests() {
        JsonNode d = ServiceFixtures.testCase("D");
        List<Mask> masks = ServiceFixtures.masks(d);
        var e = assertThrows(IllegalArgumentException.class, () -> new AskRequest(
                ServiceFixtures.input("palette_small.png"), masks, "Compare <region1> and <region2>.", null));
        assertTrue(e.getMessage().contains("<region2>"), e.getMessage());
        // a mask of another size than the image: the model's refusal, reported as the request's fault
        List<Mask> wrongSize = List.of(Mask.empty(10, 10));
        var bad = assertThrows(InvalidRequestException.class, () -> service.ask(new AskRequest(
                ServiceFixtures.input("palette_small.png"), wrongSize, "What is <region1>?",
                GenerationOptions.greedy(2)), null, null));
        assertTrue(bad.getMessage().contains("is 10x10 but the image is 96x80"), bad.getMessage());
        var missing = assertThrows(InvalidRequestException.class, () -> service.ask(new AskRequest(
                dir.resolve("none.png").toString(), List.of(), "What is this?", null), null, null));
        assertTrue(missing.getMessage().startsWith("image file not found"), missing.getMessage());
    }

    /** An empty region's warning reaches the call's own sink, one line. */
    @Test
    void warningsGoToTheCallsSink() {
        List<String> warnings = new ArrayList<>();
        AskResult r = service.ask(new AskRequest(ServiceFixtures.input("palette_small.png"),
                List.of(Mask.empty(96, 80)), "What is <region1>?", GenerationOptions.greedy(3)), null, warnings::add);
        assertEquals(3, r.tokens().length);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().startsWith("region 1 is empty"), warnings.toString());
    }
}
