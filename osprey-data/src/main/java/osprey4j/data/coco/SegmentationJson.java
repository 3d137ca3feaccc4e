package osprey4j.data.coco;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.mask.Rle;

/**
 * COCO {@code segmentation} values in JSON, read into {@link Segmentation}s and written back:
 * <ul>
 *   <li>{@code [[x0,y0,x1,y1,...], ...]}: polygons (a flat list of numbers is read as one polygon);
 *   <li>{@code {"size":[h,w],"counts":[r0,r1,...]}}: uncompressed RLE;
 *   <li>{@code {"size":[h,w],"counts":"..."}}: compressed RLE.
 * </ul>
 * Anything else is an {@link InvalidSegmentationException} naming what is wrong.
 */
public final class SegmentationJson {
    private SegmentationJson() {
    }

    public static Segmentation read(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            throw new InvalidSegmentationException("segmentation is missing");
        }
        if (node.isArray()) {
            return readPolygons((ArrayNode) node);
        }
        if (node.isObject()) {
            return readRle(node);
        }
        throw new InvalidSegmentationException("segmentation must be a list of polygons or an RLE object, got "
                + node.getNodeType().toString().toLowerCase());
    }

    private static Segmentation readPolygons(ArrayNode node) {
        if (!node.isEmpty() && node.get(0).isNumber()) { // a single polygon written flat
            return new Segmentation.Polygons(List.of(numbers(node, "polygon")));
        }
        List<double[]> polygons = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode p = node.get(i);
            if (!p.isArray()) {
                throw new InvalidSegmentationException("polygon " + i + " must be a list of numbers");
            }
            polygons.add(numbers(p, "polygon " + i));
        }
        return new Segmentation.Polygons(polygons);
    }

    private static double[] numbers(JsonNode array, String what) {
        double[] out = new double[array.size()];
        for (int j = 0; j < out.length; j++) {
            JsonNode v = array.get(j);
            if (!v.isNumber()) {
                throw new InvalidSegmentationException(what + ": coordinate " + j + " is not a number: " + v);
            }
            out[j] = v.doubleValue();
        }
        if (out.length % 2 != 0) {
            throw new InvalidSegmentationException(what + " has an odd number of coordinates (" + out.length
                    + "); it needs x,y pairs");
        }
        return out;
    }

    private static Segmentation readRle(JsonNode node) {
        JsonNode size = node.get("size");
        if (size == null || !size.isArray() || size.size() != 2 || !size.get(0).canConvertToLong()
                || !size.get(1).canConvertToLong() || !size.get(0).isIntegralNumber()
                || !size.get(1).isIntegralNumber()) {
            throw new InvalidSegmentationException("RLE needs \"size\": [height, width] as two integers, got "
                    + size);
        }
        long h = size.get(0).longValue(), w = size.get(1).longValue();
        InvalidSegmentationException.rethrowing(() -> Rle.checkSize(h, w));
        JsonNode counts = node.get("counts");
        if (counts == null) {
            throw new InvalidSegmentationException("RLE has no \"counts\"");
        }
        if (counts.isTextual()) {
            return new Segmentation.CompressedRle((int) h, (int) w, counts.textValue());
        }
        if (counts.isArray()) {
            long[] runs = new long[counts.size()];
            for (int i = 0; i < runs.length; i++) {
                JsonNode v = counts.get(i);
                if (!v.isIntegralNumber()) {
                    throw new InvalidSegmentationException("RLE run " + i + " is not an integer: " + v);
                }
                if (!v.canConvertToLong()) {
                    throw new InvalidSegmentationException("RLE run " + i + " is " + v + ", outside 0..4294967295");
                }
                runs[i] = v.longValue();
            }
            return new Segmentation.UncompressedRle((int) h, (int) w, runs);
        }
        throw new InvalidSegmentationException("RLE \"counts\" must be a string or a list of integers, got "
                + counts.getNodeType().toString().toLowerCase());
    }

    public static JsonNode write(Segmentation segmentation) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (segmentation) {
            case Segmentation.Polygons p -> {
                ArrayNode list = f.arrayNode();
                for (double[] poly : p.polygons()) {
                    ArrayNode a = list.addArray();
                    for (double v : poly) {
                        a.add(v);
                    }
                }
                yield list;
            }
            case Segmentation.UncompressedRle u -> {
                ObjectNode o = sized(f, u.height(), u.width());
                ArrayNode c = o.putArray("counts");
                for (long v : u.counts()) {
                    c.add(v);
                }
                yield o;
            }
            case Segmentation.CompressedRle c -> sized(f, c.height(), c.width()).put("counts", c.counts());
        };
    }

    private static ObjectNode sized(JsonNodeFactory f, int h, int w) {
        ObjectNode o = f.objectNode();
        o.putArray("size").add(h).add(w);
        return o;
    }
}
