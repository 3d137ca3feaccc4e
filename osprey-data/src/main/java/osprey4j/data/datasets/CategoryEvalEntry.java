package osprey4j.data.datasets;

import osprey4j.data.coco.Segmentation;

import java.util.List;

/**
 * One image of the reference's referring-object-classification files ({@code lvis_val_1k_category.json},
 * {@code paco_val_1k_category.json}): regions and the category name of each, in step.
 *
 * @param categories raw names as written (LVIS {@code baseball_bat}, PACO {@code mug:handle})
 */
public record CategoryEvalEntry(String fileName, int width, int height, List<String> categories,
                                List<Segmentation> regions, long index, long line) {
    public CategoryEvalEntry {
        categories = List.copyOf(categories);
        regions = List.copyOf(regions);
    }
}
