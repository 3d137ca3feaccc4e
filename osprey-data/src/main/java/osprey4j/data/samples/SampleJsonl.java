package osprey4j.data.samples;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.datasets.Turn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples as JSON lines, one object a line:
 * {@code {"id","dataset","image","width","height","regions":[segmentation...],"conversations":[{"from","value"}]}},
 * regions written in COCO form (polygon lists, or {@code {"size":[h,w],"counts":...}}), conversations in the
 * reference's {@code from/value} shape, so the file reads like the reference's own data files.
 */
public final class SampleJsonl {
    private static final JsonFactory FACTORY = new JsonFactory();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private SampleJsonl() {
    }

    public static void write(TrainingSample s, Writer out) throws IOException {
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.writeStartObject();
            g.writeStringField("id", s.id());
            g.writeStringField("dataset", s.dataset());
            g.writeStringField("image", s.image());
            g.writeNumberField("width", s.width());
            g.writeNumberField("height", s.height());
            g.writeArrayFieldStart("regions");
            for (Segmentation r : s.regions()) {
                writeSegmentation(g, r);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("conversations");
            for (Turn t : s.turns()) {
                g.writeStartObject();
                g.writeStringField("from", t.from());
                g.writeStringField("value", t.value());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        out.write('\n');
    }

    private static void writeSegmentation(JsonGenerator g, Segmentation seg) throws IOException {
        switch (seg) {
            case Segmentation.Polygons p -> {
                g.writeStartArray();
                for (double[] poly : p.polygons()) {
                    g.writeArray(poly, 0, poly.length);
                }
                g.writeEndArray();
            }
            case Segmentation.UncompressedRle r -> {
                g.writeStartObject();
                g.writeArrayFieldStart("size");
                g.writeNumber(r.height());
                g.writeNumber(r.width());
                g.writeEndArray();
                g.writeFieldName("counts");
                g.writeArray(r.counts(), 0, r.counts().length);
                g.writeEndObject();
            }
            case Segmentation.CompressedRle r -> {
                g.writeStartObject();
                g.writeArrayFieldStart("size");
                g.writeNumber(r.height());
                g.writeNumber(r.width());
                g.writeEndArray();
                g.writeStringField("counts", r.counts());
                g.writeEndObject();
            }
        }
    }

    /** Parses one line written by {@link #write}. */
    public static TrainingSample parse(String line) {
        try {
            JsonNode n = MAPPER.readTree(line);
            List<Segmentation> regions = new ArrayList<>();
            for (JsonNode r : n.get("regions")) {
                regions.add(segmentation(r));
            }
            List<Turn> turns = new ArrayList<>();
            for (JsonNode t : n.get("conversations")) {
                turns.add(new Turn(t.get("from").asText(), t.get("value").asText()));
            }
            return new TrainingSample(n.get("id").asText(), n.get("dataset").asText(), n.get("image").asText(),
                    n.get("width").asInt(), n.get("height").asInt(), regions, turns);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Segmentation segmentation(JsonNode r) {
        if (r.isArray()) {
            List<double[]> polygons = new ArrayList<>();
            for (JsonNode poly : r) {
                double[] xy = new double[poly.size()];
                for (int i = 0; i < xy.length; i++) {
                    xy[i] = poly.get(i).asDouble();
                }
                polygons.add(xy);
            }
            return new Segmentation.Polygons(polygons);
        }
        int h = r.get("size").get(0).asInt();
        int w = r.get("size").get(1).asInt();
        JsonNode counts = r.get("counts");
        if (counts.isTextual()) {
            return new Segmentation.CompressedRle(h, w, counts.asText());
        }
        long[] c = new long[counts.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts.get(i).asLong();
        }
        return new Segmentation.UncompressedRle(h, w, c);
    }
}
