package osprey4j.data.datasets;

/**
 * One entry of a COCO-style {@code images} array.
 *
 * @param fileName  {@code file_name}; LVIS v1 has none, so the last path segment of {@code coco_url} is used
 * @param caption   the referring expression that RefCOCO-style files ({@code finetune_*_with_mask.json}) attach to
 *                  each image entry; {@code null} elsewhere
 * @param negativeCategoryIds       LVIS/PACO {@code neg_category_ids} (categories verified absent), empty elsewhere
 * @param notExhaustiveCategoryIds  LVIS/PACO {@code not_exhaustive_category_ids}, empty elsewhere
 * @param line      1-based line where the entry starts, for messages
 */
public record CocoImage(long id, String fileName, int width, int height, String caption,
                        long[] negativeCategoryIds, long[] notExhaustiveCategoryIds, long line)
        implements java.io.Serializable {
}
