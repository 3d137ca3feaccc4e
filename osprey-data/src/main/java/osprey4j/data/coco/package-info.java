/**
 * COCO annotation formats. {@link osprey4j.data.coco.Segmentation} is a {@code segmentation} value as
 * read from a file; {@link osprey4j.data.coco.CocoMasks} turns it into a {@link osprey4j.core.mask.Mask}
 * and back, with the area, box and IoU rules of pycocotools, through {@link osprey4j.data.coco.Rle}, a
 * faithful port of pycocotools' {@code maskApi.c} (column-major runs). {@link
 * osprey4j.data.coco.SegmentationJson} reads and writes the JSON forms.
 */
package osprey4j.data.coco;
