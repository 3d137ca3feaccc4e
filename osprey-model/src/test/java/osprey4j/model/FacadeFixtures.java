package osprey4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.Tensor;

/**
 * The parity fixtures made by the official Osprey code (src/test/resources/parity, see its README): the small
 * random checkpoint, the inputs, cases.json and the reference's dumps.
 */
final class FacadeFixtures {
    static final String[] CASES = {"A", "B", "C", "D"};

    private FacadeFixtures() {
    }

    static Path parityDir() {
        try {
            return Path.of(FacadeFixtures.class.getResource("/parity/cases.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path modelDir() {
        return parityDir().resolve("model");
    }

    static Path input(String name) {
        return parityDir().resolve("inputs").resolve(name);
    }

    /** cases.json's entry for one case. */
    static JsonNode testCase(String name) {
        try {
            return new ObjectMapper().readTree(parityDir().resolve("cases.json").toFile()).path("cases").path(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The reference's tensors for one case (close it after use). */
    static Checkpoint dump(String name) {
        return Checkpoints.open(parityDir().resolve("dumps").resolve("case_" + name + ".safetensors"));
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static int[] ints(Tensor t) {
        int[] out = new int[Math.toIntExact(t.numel())];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.toIntExact(t.getLong(i));
        }
        return out;
    }

    /** Largest absolute difference, after checking the shapes agree. */
    static float maxAbsDiff(Tensor expected, Tensor actual) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.shape(), actual.shape(), "shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        float max = 0;
        for (int i = 0; i < e.length; i++) {
            float d = Math.abs(e[i] - a[i]);
            if (!(d <= max)) {
                max = Float.isNaN(d) ? Float.POSITIVE_INFINITY : d;
            }
        }
        return max;
    }
}
