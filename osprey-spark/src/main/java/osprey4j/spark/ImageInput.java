package osprey4j.spark;

import java.io.Serializable;
import java.util.List;

/**
 * One image's work as it travels to an executor: the image file (a path every executor can read) and its regions in
 * file order, each as the annotation's id and its segmentation in COCO JSON (polygons or RLE, decoded at the image's
 * size on the executor, as {@code osprey describe --masks} decodes them).
 *
 * @param imageId  the image's id in the annotation file
 * @param fileName the image's {@code file_name}
 * @param path     where the image is read from
 * @param regions  the regions to describe
 */
public record ImageInput(long imageId, String fileName, String path, List<Region> regions) implements Serializable {
    public ImageInput {
        regions = List.copyOf(regions);
    }

    /** A region: the annotation's id and its segmentation as COCO JSON text. */
    public record Region(long id, String segmentation) implements Serializable {
    }
}
