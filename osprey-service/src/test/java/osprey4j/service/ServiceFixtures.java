package osprey4j.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;

/**
 * The parity fixture of osprey-model (a tiny random Osprey checkpoint and the official code's answers for four
 * cases; see its README), read in place.
 */
final class ServiceFixtures {
    static final Path PARITY = Path.of("..", "osprey-model", "src", "test", "resources", "parity");
    static final Path MODEL = PARITY.resolve("model");
    static final List<String> CASES = List.of("A", "B", "C", "D");

    private ServiceFixtures() {
    }

    static JsonNode testCase(String name) {
        try {
            return new ObjectMapper().readTree(PARITY.resolve("cases.json").toFile()).path("cases").path(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String input(String name) {
        return PARITY.resolve("inputs").resolve(name).toString();
    }

    /** The case's masks: any non-zero pixel of its mask PNGs is inside, as the reference's scripts read them. */
    static List<Mask> masks(JsonNode c) {
        List<Mask> out = new ArrayList<>();
        for (JsonNode n : c.path("masks")) {
            try {
                out.add(MaskPng.read(Path.of(input(n.asText()))));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** The question as 'osprey ask' is given it: the dataset questions bare, the others as the whole message. */
    static String question(JsonNode c) {
        return c.path("prompt_path").asText().equals("dataset") ? c.path("question").asText()
                : c.path("message").asText();
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
