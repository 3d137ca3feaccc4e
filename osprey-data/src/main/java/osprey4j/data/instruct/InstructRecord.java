package osprey4j.data.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.data.datasets.Turn;

import java.util.List;

/**
 * One entry of an Osprey-724K file, in the official layout: {@code id}, {@code file_name}, {@code height},
 * {@code width}, {@code annotation} (one {@code {bbox, segmentation}} per region, in the order the text numbers them)
 * and either {@code description} ({@code "<regionN>: text"} per region) or {@code conversations}
 * ({@code {from: human|gpt, value}}).
 */
public record InstructRecord(long id, String fileName, int height, int width, List<SceneRegion> regions,
                             List<String> description, List<Turn> conversations) {
    /** A region as the file stores it: the mask, with its box {@code [x, y, w, h]}. */
    public record SceneRegion(double[] bbox, osprey4j.data.coco.Segmentation segmentation) {
        static SceneRegion of(SceneObject o) {
            return new SceneRegion(o.bbox(), o.segmentation());
        }

        static SceneRegion of(Part p) {
            return new SceneRegion(p.bbox(), p.segmentation());
        }
    }

    public InstructRecord {
        regions = List.copyOf(regions);
        description = description == null ? null : List.copyOf(description);
        conversations = conversations == null ? null : List.copyOf(conversations);
    }

    static InstructRecord described(Scene s, List<SceneRegion> regions, List<String> description) {
        return new InstructRecord(s.image().id(), s.image().fileName(), s.height(), s.width(), regions, description,
                null);
    }

    static InstructRecord conversation(Scene s, List<SceneRegion> regions, List<Turn> turns) {
        return new InstructRecord(s.image().id(), s.image().fileName(), s.height(), s.width(), regions, null, turns);
    }

    public ObjectNode toJson() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode();
        o.put("id", id);
        o.put("file_name", fileName);
        o.put("height", height);
        o.put("width", width);
        ArrayNode anns = o.putArray("annotation");
        for (SceneRegion r : regions) {
            ObjectNode a = anns.addObject();
            ArrayNode box = a.putArray("bbox");
            for (double v : r.bbox()) {
                box.add(v);
            }
            a.set("segmentation", SegmentationJson.write(r.segmentation()));
        }
        if (description != null) {
            ArrayNode d = o.putArray("description");
            description.forEach(d::add);
        }
        if (conversations != null) {
            ArrayNode c = o.putArray("conversations");
            for (Turn t : conversations) {
                c.addObject().put("from", t.from()).put("value", t.value());
            }
        }
        return o;
    }

    public static InstructRecord fromJson(JsonNode o) {
        List<SceneRegion> regions = new java.util.ArrayList<>();
        for (JsonNode a : o.path("annotation")) {
            double[] box = new double[4];
            for (int i = 0; i < 4; i++) {
                box[i] = a.path("bbox").path(i).asDouble();
            }
            regions.add(new SceneRegion(box, SegmentationJson.read(a.get("segmentation"))));
        }
        List<String> description = null;
        if (o.has("description")) {
            description = new java.util.ArrayList<>();
            for (JsonNode d : o.get("description")) {
                description.add(d.asText());
            }
        }
        List<Turn> turns = null;
        if (o.has("conversations")) {
            turns = new java.util.ArrayList<>();
            for (JsonNode t : o.get("conversations")) {
                turns.add(new Turn(t.path("from").asText(), t.path("value").asText()));
            }
        }
        return new InstructRecord(o.path("id").asLong(), o.path("file_name").asText(), o.path("height").asInt(),
                o.path("width").asInt(), regions, description, turns);
    }
}
