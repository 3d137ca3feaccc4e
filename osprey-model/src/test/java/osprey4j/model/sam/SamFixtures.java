package osprey4j.model.sam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.image.RgbImage;

/** The SAM fixtures made by the official segment-anything code (src/test/resources/sam/README.md). */
final class SamFixtures {
    private SamFixtures() {
    }

    static Path dir() {
        try {
            return Path.of(SamFixtures.class.getResource("/sam/README.md").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path checkpoint() {
        return dir().resolve("sam_tiny.pth");
    }

    static Checkpoint dumps() {
        return Checkpoints.open(dir().resolve("dumps.safetensors"));
    }

    static JsonNode cases() {
        try {
            return new ObjectMapper().readTree(dir().resolve("cases.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static RgbImage image(String name) {
        try {
            return RgbImage.read(dir().resolve("images/" + name + ".png"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The prompt of a predictor case; the mask input, when named, is the given tensor. */
    static SamPrompt prompt(JsonNode c, Tensor maskInput) {
        List<SamPrompt.Point> points = new ArrayList<>();
        if (c.has("points")) {
            JsonNode p = c.get("points"), l = c.get("labels");
            for (int i = 0; i < l.size(); i++) {
                points.add(new SamPrompt.Point(p.get(2 * i).asDouble(), p.get(2 * i + 1).asDouble(), l.get(i).asInt()));
            }
        }
        SamPrompt.Box box = null;
        if (c.has("box")) {
            JsonNode b = c.get("box");
            box = new SamPrompt.Box(b.get(0).asDouble(), b.get(1).asDouble(), b.get(2).asDouble(), b.get(3).asDouble());
        }
        return new SamPrompt(points, box, maskInput);
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
