package osprey4j.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import osprey4j.core.tensor.Tensor;

/** The fixtures made by tools/fixtures/make_checkpoint_fixtures.py and the manifest torch wrote for them. */
final class Fixtures {
    private Fixtures() {
    }

    static Path dir() {
        try {
            return Path.of(Fixtures.class.getResource("/checkpoints/manifest.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path path(String name) {
        return dir().resolve(name);
    }

    static JsonNode manifest(String name) {
        try {
            JsonNode entry = new ObjectMapper().readTree(path("manifest.json").toFile()).get(name);
            if (entry == null) {
                throw new IllegalArgumentException("no manifest entry " + name);
            }
            return entry;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(Tensor t) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(t.segment().toArray(ValueLayout.JAVA_BYTE));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static double sum(Tensor t) {
        double s = 0;
        for (long i = 0; i < t.numel(); i++) {
            s += t.dtype().isFloatingPoint() ? t.getFloat(i) : (double) t.getLong(i);
        }
        return s;
    }

    /** Every tensor of the checkpoint matches torch's description: same names, dtypes, shapes and bytes. */
    static void assertMatchesManifest(Checkpoint ckpt, String manifestName) {
        JsonNode expected = manifest(manifestName).get("tensors");
        Set<String> expectedNames = new LinkedHashSet<>();
        expected.fieldNames().forEachRemaining(expectedNames::add);
        Set<String> actualNames = new LinkedHashSet<>();
        ckpt.tensors().forEach(t -> actualNames.add(t.name()));
        assertEquals(expectedNames, actualNames, "tensor names of " + manifestName);
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode want = e.getValue();
            TensorInfo info = ckpt.info(name);
            assertEquals(want.get("dtype").asText(), info.dtype().safetensorsName(), name + " dtype");
            long[] shape = new long[want.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = want.get("shape").get(i).asLong();
            }
            assertArrayEquals(shape, info.shape(), name + " shape");
            if (want.has("file")) {
                assertEquals(want.get("file").asText(), info.file().getFileName().toString(), name + " file");
            }
            Tensor t = ckpt.tensor(name);
            assertEquals(info.dtype(), t.dtype());
            assertArrayEquals(shape, t.shape());
            assertEquals(want.get("sha256").asText(), sha256(t), name + " bytes");
            double s = want.get("sum").asDouble();
            assertEquals(s, sum(t), 1e-6 * Math.max(1, Math.abs(s)), name + " sum");
        }
    }
}
