package osprey4j.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.mask.Mask;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.core.mask.Mask;
import osprey4j.service.DescribeRequest.Region;

/**
 * The regions of one image from a COCO-style annotation file. Accepted shapes:
 * <ul>
 *   <li>a COCO file ({@code {"images": [...], "annotations": [...]}}): the annotations of the image whose
 *       {@code file_name} ends with the image's file name, or all of them when the file lists one image or none;
 *   <li>a list of annotation objects, each with a {@code segmentation};
 *   <li>one annotation object, or one bare segmentation (polygons, uncompressed or compressed RLE).
 * </ul>
 * Polygons are rasterised at the image's size and RLEs must have it, exactly as pycocotools decodes them.
 */
final class CocoRegions {
    private CocoRegions() {
    }

    /** The regions, each with the annotation's id when it has one, else its position (from 1). */
    static List<Region> read(Path file, Path imageFile, int width, int height) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException("annotation file not found: " + file);
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new UsageException(file + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UsageException("cannot read " + file + ": " + e.getMessage());
        }
        List<JsonNode> annotations = annotations(root, file, imageFile);
        List<Region> regions = new ArrayList<>(annotations.size());
        for (int i = 0; i < annotations.size(); i++) {
            JsonNode a = annotations.get(i);
            JsonNode seg = a.has("segmentation") ? a.get("segmentation") : a;
            long id = a.path("id").canConvertToLong() ? a.path("id").asLong() : i + 1;
            Mask mask;
            try {
                mask = CocoMasks.decode(SegmentationJson.read(seg), height, width);
            } catch (IllegalArgumentException e) {
                throw new UsageException(file + ": annotation " + id + ": " + e.getMessage()
                        + " (the image is " + width + "x" + height + ", width x height)");
            }
            regions.add(new Region(id, mask));
        }
        if (regions.isEmpty()) {
            throw new UsageException(file + " has no annotation for " + imageFile.getFileName());
        }
        return regions;
    }

    private static List<JsonNode> annotations(JsonNode root, Path file, Path imageFile) {
        List<JsonNode> out = new ArrayList<>();
        if (root.isObject() && root.has("annotations")) {
            JsonNode images = root.path("images");
            Long imageId = null;
            if (images.isArray() && images.size() > 1) {
                String name = imageFile.getFileName().toString();
                for (JsonNode img : images) {
                    String fileName = img.path("file_name").asText("");
                    if (fileName.equals(name) || fileName.endsWith("/" + name)) {
                        imageId = img.path("id").asLong();
                        break;
                    }
                }
                if (imageId == null) {
                    throw new UsageException(file + " lists " + images.size() + " images and none has the file name "
                            + name);
                }
            }
            for (JsonNode a : root.get("annotations")) {
                if (imageId == null || a.path("image_id").asLong() == imageId) {
                    out.add(a);
                }
            }
        } else if (root.isArray() && !root.isEmpty() && root.get(0).isObject() && root.get(0).has("segmentation")) {
            root.forEach(out::add);
        } else if (root.isArray() || root.isObject()) {
            out.add(root); // one annotation object or one bare segmentation
        } else {
            throw new UsageException(file + ": expected a COCO annotation file, a list of annotations or a "
                    + "segmentation");
        }
        return out;
    }
}
