package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.mask.Mask;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.image.RgbImage;

/**
 * The whole facade against the official Osprey code on the parity fixture (see
 * src/test/resources/parity/README.md): for each case, the prompt's input ids (equal), the image, mask and
 * position tokens, the assembled input embeddings and the first generated position's logits (within
 * {@link #TOLERANCE}), and the greedy 20-token continuation (identical).
 *
 * <p><b>Tolerance.</b> 1e-4 absolute on features, tokens and logits. The README's float64 rerun shows the
 * reference's own float32 rounding error at about 1e-6 relative to each tensor's largest value (logits: 1.1e-6
 * absolute, largest 3.1), and a port that sums in another order should land within a few 1e-5; 1e-4 leaves that
 * margin and is still 30 times smaller than the smallest top-1/top-2 logit margin of any greedy step (0.003, case
 * B), so an error that could change a generated token fails here first.
 */
class OspreyParityTest {
    static final float TOLERANCE = 1e-4f;
    static Osprey osprey;
    static final List<String> warnings = new ArrayList<>();

    @BeforeAll
    static void load() {
        osprey = Osprey.load(FacadeFixtures.modelDir(), warnings::add);
    }

    @AfterAll
    static void close() {
        osprey.close();
    }

    /** A mask as the reference's eval scripts read it: {@code np.asarray(Image.open(png).convert('L')) > 0}. */
    static Mask readMask(String name) {
        RgbImage img;
        try {
            img = RgbImage.read(FacadeFixtures.input(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] m = new byte[img.width() * img.height()];
        byte[] rgb = img.rgb();
        for (int i = 0; i < m.length; i++) {
            int r = rgb[3 * i] & 0xFF, g = rgb[3 * i + 1] & 0xFF, b = rgb[3 * i + 2] & 0xFF;
            // Pillow's RGB -> L conversion (ITU-R 601-2 luma in 16-bit fixed point).
            int luma = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
            m[i] = (byte) (luma > 0 ? 1 : 0);
        }
        return Mask.fromBytes(img.width(), img.height(), m);
    }

    static List<Mask> masks(JsonNode c) {
        List<Mask> out = new ArrayList<>();
        c.path("masks").forEach(n -> out.add(readMask(n.asText())));
        return out;
    }

    /**
     * The image of a case. Case A is a JPEG, which decoders may round differently; the reference dumped the
     * pixels it decoded, and the facade is fed those so that this test checks the model, not the JPEG decoder
     * (which has its own tests).
     */
    static RgbImage image(JsonNode c, Checkpoint dump) throws IOException {
        if (dump.contains("image_rgb")) {
            Tensor t = dump.tensor("image_rgb");
            byte[] rgb = new byte[Math.toIntExact(t.numel())];
            for (int i = 0; i < rgb.length; i++) {
                rgb[i] = (byte) t.getLong(i);
            }
            return new RgbImage(t.size(1), t.size(0), rgb);
        }
        return RgbImage.read(FacadeFixtures.input(c.path("image").asText()));
    }

    /** The question as 'osprey ask' is given it (see QuestionPromptTest). */
    static String question(JsonNode c) {
        return c.path("prompt_path").asText().equals("dataset") ? c.path("question").asText()
                : c.path("message").asText();
    }

    private static void assertClose(Checkpoint dump, String name, Tensor actual) {
        float d = FacadeFixtures.maxAbsDiff(dump.tensor(name), actual);
        System.out.printf("parity %s: max abs difference %.2e%n", name, d);
        assertTrue(d <= TOLERANCE, name + ": max abs difference " + d + " > " + TOLERANCE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"A", "B", "C", "D"})
    void matchesTheReference(String name) throws IOException {
        JsonNode c = FacadeFixtures.testCase(name);
        System.out.println("parity case " + name);
        try (Checkpoint dump = FacadeFixtures.dump(name)) {
            ImageSession session = osprey.encode(image(c, dump));
            assertClose(dump, "res4", session.features().res4());
            assertClose(dump, "image_tokens", session.imageTokens());

            Osprey.PreparedPrompt prompt = osprey.prepare(session, masks(c), question(c));
            assertEquals(c.path("prompt").asText(), prompt.prompt());
            assertArrayEquals(FacadeFixtures.ints(dump.tensor("input_ids")), prompt.inputIds());
            assertClose(dump, "mask_tokens", prompt.maskTokens());
            assertClose(dump, "pos_tokens", prompt.posTokens());
            if (dump.contains("inputs_embeds")) {
                assertClose(dump, "inputs_embeds", prompt.embeddings());
            }
            float[] logits = osprey.firstLogits(prompt);
            assertClose(dump, "logits", Tensor.wrap(logits, logits.length));

            StringBuilder streamed = new StringBuilder();
            Answer answer = osprey.ask(session, masks(c), question(c), GenerationOptions.greedy(20),
                    (id, text) -> streamed.append(text));
            assertArrayEquals(FacadeFixtures.ints(dump.tensor("generated_ids")), answer.tokens());
            assertEquals(c.path("generated_text").asText().strip(), answer.text());
            assertEquals(answer.text(), streamed.toString());
            assertEquals(prompt.embeddings().size(0), answer.promptTokens());
        }
        assertTrue(warnings.isEmpty(), "no warnings: " + warnings);
    }
}
