/**
 * Streaming readers for the datasets Osprey trains and evaluates on.
 *
 * <ul>
 *   <li>{@link osprey4j.data.datasets.CocoStyleFile}: COCO instances and captions, LVIS v1, PACO-LVIS, the RefCOCO
 *       family ({@code finetune_*_with_mask.json}), Visual Genome with masks, Pascal-Part, PartImageNet. Two passes,
 *       memory independent of file size; annotations may precede images.</li>
 *   <li>{@link osprey4j.data.datasets.Osprey724k}: the five Osprey-724K files.</li>
 *   <li>{@link osprey4j.data.datasets.CategoryEval}: {@code lvis_val_1k_category.json}, {@code paco_val_1k_category.json}.</li>
 *   <li>{@link osprey4j.data.datasets.Pope}: POPE question files (JSON lines).</li>
 * </ul>
 *
 * <p>Malformed input: damage confined to one entry skips that entry and is counted in the
 * {@link osprey4j.data.datasets.ReadReport} with file, line, column, entry index and field (or throws, with a strict
 * report); a file of the wrong shape at the top level, or invalid JSON in a single-document file, throws
 * {@link osprey4j.data.datasets.DatasetFormatException} naming file, line, column and field. Segmentations are kept
 * in file form ({@link osprey4j.data.coco.Segmentation}); rasterising is the consumer's step.
 */
package osprey4j.data.datasets;
