package osprey4j.data.samples;

import osprey4j.core.prompt.RegionPrompt;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.datasets.Turn;

import java.util.List;

/**
 * One training (or evaluation) example as the reference feeds it to the model: an image, its regions and a
 * conversation whose human turns carry {@code <image>} once (at the start of the first turn) and one
 * {@code <mask><pos>} per region, the i-th {@code <mask>} standing for {@code regions.get(i)}. Gpt turns are the
 * targets (or, for evaluation, the reference answers).
 *
 * <p>Regions stay in file form with the image size; rasterising them (pycocotools-exact) is the consumer's step.
 *
 * @param id      stable identifier: {@code dataset:imageId} or {@code dataset:#entryIndex}
 * @param dataset the recipe that made it (see {@link Recipe#id()})
 * @param image   the image file: the image root joined with the name the reference derives from the entry
 * @param turns   alternating human/gpt, starting with human
 */
public record TrainingSample(String id, String dataset, String image, int width, int height,
                             List<Segmentation> regions, List<Turn> turns) {
    public TrainingSample {
        regions = List.copyOf(regions);
        turns = List.copyOf(turns);
    }

    /** The number of {@code <mask>} placeholders in the conversation; always equal to {@code regions.size()}. */
    public int regionReferences() {
        int n = 0;
        for (Turn t : turns) {
            n += RegionPrompt.count(t.value(), RegionPrompt.MASK_TOKEN);
        }
        return n;
    }
}
