/**
 * Binary masks, the one region type of the project: the model takes them, the data module reads and writes
 * them, and SAM will produce them. {@link osprey4j.core.mask.Mask} (immutable, bit-packed, row-major, binary by
 * construction), {@link osprey4j.core.mask.Rle} (COCO's run-length encoding and compressed counts string, as
 * pycocotools computes them, with merge, area, box and IoU) and {@link osprey4j.core.mask.MaskPng} (PNG reading
 * and writing, including instance label maps). COCO's annotation formats (segmentation JSON, polygons) are in
 * {@code osprey4j.data.coco}.
 */
package osprey4j.core.mask;
