/**
 * COCO annotation formats. {@link osprey4j.data.coco.Segmentation} is a {@code segmentation} value as
 * read from a file; {@link osprey4j.data.coco.CocoMasks} turns it into a {@link osprey4j.core.mask.Mask}
 * and back, with the area, box and IoU rules of pycocotools, through {@link osprey4j.core.mask.Rle} (the RLE
 * codec, in osprey-core with the mask type) and {@link osprey4j.data.coco.PolygonRaster} (polygons and boxes, a
 * port of pycocotools' {@code rleFrPoly}). {@link osprey4j.data.coco.SegmentationJson} reads and writes the JSON
 * forms.
 */
package osprey4j.data.coco;
