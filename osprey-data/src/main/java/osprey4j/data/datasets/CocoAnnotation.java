package osprey4j.data.datasets;

import osprey4j.data.coco.Segmentation;

/**
 * One entry of a COCO-style {@code annotations} array: an instance (COCO, LVIS, PACO, RefCOCO, Visual Genome) or a
 * caption (COCO captions). Fields a schema does not have are {@code null}, {@code false} or empty.
 *
 * @param categoryId      {@code category_id}; {@code null} in caption and Visual Genome files
 * @param segmentation    the region, still in file form; {@code null} in caption files
 * @param bbox            {@code [x, y, w, h]} or {@code null}
 * @param area            {@code area}, or NaN when absent
 * @param crowd           {@code iscrowd}
 * @param caption         COCO captions and Visual Genome region descriptions
 * @param ignore          Visual Genome's {@code ignore} flag (the reference drops such regions)
 * @param attributeIds    PACO {@code attribute_ids}, empty elsewhere
 * @param objectAnnotationId PACO {@code obj_ann_id}: for a part, the id of the object it belongs to; {@code null}
 * @param index           position in the file's {@code annotations} array
 * @param line            1-based line where the entry starts, for messages
 */
public record CocoAnnotation(long id, long imageId, Long categoryId, Segmentation segmentation, double[] bbox,
                             double area, boolean crowd, String caption, boolean ignore, long[] attributeIds,
                             Long objectAnnotationId, long index, long line)
        implements java.io.Serializable {
}
