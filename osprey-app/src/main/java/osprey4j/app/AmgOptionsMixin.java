package osprey4j.app;

import osprey4j.model.sam.AutomaticMaskGenerator;
import picocli.CommandLine.Option;

/** The automatic mask generator's options, named as the official {@code scripts/amg.py} flags; defaults are its. */
final class AmgOptionsMixin {
    private static final AutomaticMaskGenerator.Options D = AutomaticMaskGenerator.Options.defaults();

    @Option(names = "--points-per-side", paramLabel = "N", description = "Grid of N x N clicks (default: 32).")
    int pointsPerSide = D.pointsPerSide();

    @Option(names = "--points-per-batch", paramLabel = "N", description = "Clicks per batch (default: 64).")
    int pointsPerBatch = D.pointsPerBatch();

    @Option(names = "--pred-iou-thresh", paramLabel = "T", description = "Keep masks whose predicted IoU is above T"
            + " (default: 0.88; 0 keeps all).")
    double predIouThresh = D.predIouThresh();

    @Option(names = "--stability-score-thresh", paramLabel = "T", description = "Keep masks whose stability score is"
            + " at least T (default: 0.95; 0 keeps all).")
    double stabilityScoreThresh = D.stabilityScoreThresh();

    @Option(names = "--stability-score-offset", paramLabel = "O", description = "Logit offset of the stability score"
            + " (default: 1.0).")
    double stabilityScoreOffset = D.stabilityScoreOffset();

    @Option(names = "--box-nms-thresh", paramLabel = "T", description = "Box IoU above which duplicates are dropped"
            + " (default: 0.7).")
    double boxNmsThresh = D.boxNmsThresh();

    @Option(names = "--crop-n-layers", paramLabel = "N", description = "Crop layers: layer i runs on"
            + " 2^i x 2^i overlapping crops (default: 0).")
    int cropNLayers = D.cropNLayers();

    @Option(names = "--crop-nms-thresh", paramLabel = "T", description = "Box IoU above which duplicates across crops"
            + " are dropped (default: 0.7).")
    double cropNmsThresh = D.cropNmsThresh();

    @Option(names = "--crop-overlap-ratio", paramLabel = "R", description = "Crop overlap as a fraction of the short"
            + " side (default: 512/1500).")
    double cropOverlapRatio = D.cropOverlapRatio();

    @Option(names = "--crop-n-points-downscale-factor", paramLabel = "F", description = "Layer i uses"
            + " points-per-side / F^i (default: 1).")
    int cropNPointsDownscaleFactor = D.cropNPointsDownscaleFactor();

    @Option(names = "--min-mask-region-area", paramLabel = "A", description = "Fill holes and remove islands smaller"
            + " than A pixels (default: 0, off).")
    int minMaskRegionArea = D.minMaskRegionArea();

    AutomaticMaskGenerator.Options options() {
        try {
            return new AutomaticMaskGenerator.Options(pointsPerSide, pointsPerBatch, predIouThresh,
                    stabilityScoreThresh, stabilityScoreOffset, boxNmsThresh, cropNLayers, cropNmsThresh,
                    cropOverlapRatio, cropNPointsDownscaleFactor, minMaskRegionArea);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
