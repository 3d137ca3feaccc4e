package osprey4j.core.kernels;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.tensor.Tensor;

/** Reads the Python-made reference data under src/test/resources/kernels (see the README there). */
final class Fixtures {
    private static final String DIR = "/kernels/";
    private static final JsonNode MANIFEST = load();

    private Fixtures() {
    }

    /** One case of the manifest. */
    record Case(String name, String op, JsonNode params, JsonNode tensors) {
        int param(String key) {
            return params.get(key).asInt();
        }

        double paramDouble(String key) {
            return params.get(key).asDouble();
        }

        int[] shape(String tensor) {
            JsonNode s = tensors.get(tensor).get("shape");
            int[] shape = new int[s.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = s.get(i).asInt();
            }
            return shape;
        }

        byte[] bytes(String tensor) {
            return read(tensors.get(tensor).get("file").asText());
        }

        float[] floats(String tensor) {
            ByteBuffer bb = ByteBuffer.wrap(bytes(tensor)).order(ByteOrder.LITTLE_ENDIAN);
            float[] f = new float[bb.remaining() / 4];
            bb.asFloatBuffer().get(f);
            return f;
        }

        Tensor tensor(String tensor) {
            int[] s = shape(tensor);
            long[] shape = new long[s.length];
            for (int i = 0; i < s.length; i++) {
                shape[i] = s[i];
            }
            return Tensor.copyOf(floats(tensor), shape);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> cases(String op) {
        List<Case> out = new ArrayList<>();
        for (JsonNode c : MANIFEST.get("cases")) {
            if (c.get("op").asText().equals(op)) {
                out.add(new Case(c.get("name").asText(), op, c.get("params"), c.get("tensors")));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("no fixture cases for " + op);
        }
        return out;
    }

    static Case single(String op) {
        return cases(op).getFirst();
    }

    private static JsonNode load() {
        try {
            return new ObjectMapper().readTree(read("manifest.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] read(String file) {
        try (InputStream in = Fixtures.class.getResourceAsStream(DIR + file)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + DIR + file);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
