package osprey4j.service;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.InvalidSegmentationException;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.core.mask.Mask;

/**
 * The JSON form of the service's requests and results. Every request and result is a record that any Jackson
 * {@link ObjectMapper} reads and writes; a region mask is written as a COCO compressed RLE
 * ({@code {"size": [h, w], "counts": "..."}}, pycocotools' format) and read from a compressed or uncompressed RLE
 * (polygons need an image size the mask alone does not carry, so they are refused).
 */
public final class ServiceJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ServiceJson() {
    }

    /** A mapper for the service's types (nothing special is registered: the records carry their own annotations). */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** A mask as COCO compressed RLE. */
    public static final class MaskSerializer extends StdSerializer<Mask> {
        private static final long serialVersionUID = 1L;

        public MaskSerializer() {
            super(Mask.class);
        }

        @Override
        public void serialize(Mask mask, JsonGenerator gen, SerializerProvider provider) throws IOException {
            gen.writeTree(SegmentationJson.write(CocoMasks.encode(mask)));
        }
    }

    /** A mask from a COCO RLE, compressed or not. */
    public static final class MaskDeserializer extends StdDeserializer<Mask> {
        private static final long serialVersionUID = 1L;

        public MaskDeserializer() {
            super(Mask.class);
        }

        @Override
        public Mask deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
            JsonNode node = p.readValueAsTree();
            try {
                Segmentation s = SegmentationJson.read(node);
                if (s instanceof Segmentation.Polygons) {
                    throw JsonMappingException.from(p, "a region must be a COCO RLE ({\"size\": [h, w], \"counts\":"
                            + " ...}), not polygons (they need the image's size)");
                }
                return CocoMasks.decode(s);
            } catch (InvalidSegmentationException e) {
                throw JsonMappingException.from(p, "region: " + e.getMessage(), e);
            }
        }
    }
}
