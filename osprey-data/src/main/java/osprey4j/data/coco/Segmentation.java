package osprey4j.data.coco;

import java.util.List;

/**
 * A COCO {@code segmentation} value as it appears in annotation files, before rasterisation.
 * Dataset readers produce these; {@code osprey4j.data.coco} turns them into masks exactly as pycocotools does.
 */
public sealed interface Segmentation extends java.io.Serializable {
    /** One or more polygons, each x0,y0,x1,y1,... in pixel coordinates (iscrowd=0 objects). */
    record Polygons(List<double[]> polygons) implements Segmentation {
        public Polygons {
            polygons = List.copyOf(polygons);
        }
    }

    /** Uncompressed RLE: {"size":[h,w],"counts":[...]} (column-major runs, starting with zeros). */
    record UncompressedRle(int height, int width, long[] counts) implements Segmentation {
    }

    /** Compressed RLE: {"size":[h,w],"counts":"..."} with pycocotools' LEB128-like string encoding. */
    record CompressedRle(int height, int width, String counts) implements Segmentation {
    }
}
