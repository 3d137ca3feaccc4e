package osprey4j.model.sam;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Rle;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.image.RgbImage;

/**
 * "Segment everything": the official {@code SamAutomaticMaskGenerator}. A grid of single foreground clicks is run
 * over the image and over crops of it (crop layers: 2x2 overlapping crops, then 4x4...), each click gives three
 * candidate masks, and the candidates are filtered and de-duplicated:
 *
 * <pre>
 * for each crop (the whole image first): encode the crop; for each grid point (scaled to the crop):
 *     3 masks (multimask) with logits at the crop's size
 *     keep predicted IoU &gt; pred_iou_thresh (when &gt; 0)
 *     stability = #(logit &gt; +offset) / #(logit &gt; -offset);  keep &gt;= stability_score_thresh (when &gt; 0)
 *     mask = logit &gt; 0; box = its extent; drop boxes within 20 px of a crop edge that is not an image edge
 *     pad the mask back to the image's size; run-length encode it
 *   box NMS within the crop (score = predicted IoU, box_nms_thresh)
 * box NMS across crops when there are several (score = 1 / crop area: smaller crops win, crop_nms_thresh)
 * min_mask_region_area &gt; 0: fill small holes, remove small islands, then NMS preferring unchanged masks
 * </pre>
 * Records come out in the reference's order with its fields ({@link MaskRecord}). The boxes are the reference's:
 * [x, y, w, h] with w = last column - first column (one less than the pixel extent), as {@code box_xyxy_to_xywh}
 * of {@code batched_mask_to_box} gives them. Points are decoded {@code points_per_batch} at a time, side by side
 * on the compute pool's threads, each with the arithmetic of a single click (so the batch size does not change any
 * record); only masks that pass the IoU filter are upsampled to the crop's size.
 */
public final class AutomaticMaskGenerator {
    /** The reference's distance (pixels) under which a box counts as touching a crop edge. */
    private static final float EDGE_TOLERANCE = 20f;

    private final Sam sam;
    private final Options options;
    private final List<double[][]> pointGrids;

    /**
     * The generator's options, named as the official constructor's arguments. {@link #defaults()} are its
     * defaults.
     */
    public record Options(int pointsPerSide, int pointsPerBatch, double predIouThresh, double stabilityScoreThresh,
                          double stabilityScoreOffset, double boxNmsThresh, int cropNLayers, double cropNmsThresh,
                          double cropOverlapRatio, int cropNPointsDownscaleFactor, int minMaskRegionArea) {
        public Options {
            if (pointsPerSide < 1) {
                throw new IllegalArgumentException("points_per_side must be at least 1, got " + pointsPerSide);
            }
            if (pointsPerBatch < 1) {
                throw new IllegalArgumentException("points_per_batch must be at least 1, got " + pointsPerBatch);
            }
            if (cropNLayers < 0 || cropNLayers > 8) {
                throw new IllegalArgumentException("crop_n_layers must be 0..8, got " + cropNLayers);
            }
            if (cropNPointsDownscaleFactor < 1) {
                throw new IllegalArgumentException("crop_n_points_downscale_factor must be at least 1, got "
                        + cropNPointsDownscaleFactor);
            }
            if (minMaskRegionArea < 0) {
                throw new IllegalArgumentException("min_mask_region_area must not be negative, got " + minMaskRegionArea);
            }
            for (double t : new double[] {predIouThresh, stabilityScoreThresh, stabilityScoreOffset, boxNmsThresh,
                    cropNmsThresh, cropOverlapRatio}) {
                if (!Double.isFinite(t)) {
                    throw new IllegalArgumentException("thresholds and ratios must be finite numbers");
                }
            }
        }

        /** The official defaults: 32 points per side, batches of 64, IoU 0.88, stability 0.95 (offset 1), NMS 0.7,
         *  no crop layers (crop NMS 0.7, overlap 512/1500, downscale 1), no small-region removal. */
        public static Options defaults() {
            return new Options(32, 64, 0.88, 0.95, 1.0, 0.7, 0, 0.7, 512 / 1500.0, 1, 0);
        }
    }

    /**
     * One mask of the generator, with the official record's fields.
     *
     * @param segmentation   the mask's run-length encoding (COCO, column-major)
     * @param area           its pixels
     * @param bbox           [x, y, w, h] as the reference writes it (w, h = last minus first column/row)
     * @param predictedIou   SAM's quality estimate
     * @param pointCoords    the click that made it, [x, y] in image pixels
     * @param stabilityScore the stability score
     * @param cropBox        the crop it came from, [x, y, w, h]
     */
    public record MaskRecord(Rle segmentation, long area, int[] bbox, float predictedIou, double[] pointCoords,
                             float stabilityScore, int[] cropBox) {
        public Mask mask() {
            return segmentation.toMask();
        }
    }

    public AutomaticMaskGenerator(Sam sam, Options options) {
        this.sam = Objects.requireNonNull(sam, "sam");
        this.options = Objects.requireNonNull(options, "options");
        this.pointGrids = new ArrayList<>();
        for (int i = 0; i <= options.cropNLayers(); i++) {
            int n = (int) (options.pointsPerSide() / Math.pow(options.cropNPointsDownscaleFactor(), i));
            if (n < 1) {
                throw new IllegalArgumentException("crop layer " + i + " would have no points ("
                        + options.pointsPerSide() + " points per side downscaled by " + options.cropNPointsDownscaleFactor()
                        + "^" + i + ")");
            }
            pointGrids.add(pointGrid(n));
        }
    }

    /** {@code build_point_grid}: n x n points in [0, 1]^2, x fastest, as numpy's linspace places them. */
    static double[][] pointGrid(int n) {
        double offset = 1.0 / (2 * n);
        double[] side = new double[n];
        double step = n > 1 ? ((1 - offset) - offset) / (n - 1) : 0;
        for (int i = 0; i < n; i++) {
            side[i] = i * step + offset;
        }
        if (n > 1) {
            side[n - 1] = 1 - offset;
        }
        double[][] points = new double[n * n][];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < n; c++) {
                points[r * n + c] = new double[] {side[c], side[r]};
            }
        }
        return points;
    }

    /** A crop [x0, y0, x1, y1] and its layer. */
    record Crop(int[] box, int layer) {
    }

    /** {@code generate_crop_boxes}: the whole image, then for each layer 2^(i+1) x 2^(i+1) overlapping crops. */
    static List<Crop> cropBoxes(int height, int width, int layers, double overlapRatio) {
        List<Crop> out = new ArrayList<>();
        out.add(new Crop(new int[] {0, 0, width, height}, 0));
        int shortSide = Math.min(height, width);
        for (int layer = 0; layer < layers; layer++) {
            int n = 1 << (layer + 1);
            int overlap = (int) (overlapRatio * shortSide * (2.0 / n));
            int cropW = (int) Math.ceil((overlap * (n - 1) + width) / (double) n);
            int cropH = (int) Math.ceil((overlap * (n - 1) + height) / (double) n);
            for (int i = 0; i < n; i++) {
                int x0 = (cropW - overlap) * i;
                for (int j = 0; j < n; j++) {
                    int y0 = (cropH - overlap) * j;
                    out.add(new Crop(new int[] {x0, y0, Math.min(x0 + cropW, width), Math.min(y0 + cropH, height)},
                            layer + 1));
                }
            }
        }
        return out;
    }

    /** A kept candidate: its RLE (image frame), box xyxy inclusive (image frame), scores, point and crop. */
    private record Candidate(Rle rle, int[] box, float iou, float stability, double[] point, int[] crop) {
    }

    /** Runs the generator on an image (the official {@code generate}). */
    public List<MaskRecord> generate(RgbImage image) {
        Objects.requireNonNull(image, "image");
        List<Crop> crops = cropBoxes(image.height(), image.width(), options.cropNLayers(), options.cropOverlapRatio());
        List<Candidate> all = new ArrayList<>();
        for (Crop crop : crops) {
            all.addAll(processCrop(image, crop));
        }
        if (crops.size() > 1) {
            float[] scores = new float[all.size()];
            List<int[]> boxes = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                int[] c = all.get(i).crop();
                scores[i] = 1f / ((long) (c[2] - c[0]) * (c[3] - c[1]));
                boxes.add(all.get(i).box());
            }
            all = select(all, nms(boxes, scores, options.cropNmsThresh()));
        }
        if (options.minMaskRegionArea() > 0) {
            all = removeSmallRegions(all, image.width(), image.height(), options.minMaskRegionArea(),
                    Math.max(options.boxNmsThresh(), options.cropNmsThresh()));
        }
        List<MaskRecord> out = new ArrayList<>();
        for (Candidate c : all) {
            int[] b = c.box();
            int[] cb = c.crop();
            out.add(new MaskRecord(c.rle(), c.rle().area(), new int[] {b[0], b[1], b[2] - b[0], b[3] - b[1]}, c.iou(),
                    c.point(), c.stability(), new int[] {cb[0], cb[1], cb[2] - cb[0], cb[3] - cb[1]}));
        }
        return out;
    }

    private List<Candidate> processCrop(RgbImage image, Crop crop) {
        int[] cb = crop.box();
        int cw = cb[2] - cb[0], ch = cb[3] - cb[1];
        RgbImage cropped = cropImage(image, cb);
        Sam.Embedding emb = sam.encode(cropped);
        double sx = (double) emb.inputWidth() / cw, sy = (double) emb.inputHeight() / ch;
        List<Candidate> kept = new ArrayList<>();
        float offset = (float) options.stabilityScoreOffset();
        float iouThresh = (float) options.predIouThresh();
        float stabilityThresh = (float) options.stabilityScoreThresh();
        double[][] grid = pointGrids.get(crop.layer());
        int batch = options.pointsPerBatch();
        for (int b0 = 0; b0 < grid.length; b0 += batch) {
            int first = b0, b1 = Math.min(grid.length, b0 + batch);
            List<SamPromptEncoder.Point> clicks = new ArrayList<>(b1 - b0);
            for (int i = b0; i < b1; i++) {
                clicks.add(new SamPromptEncoder.Point(grid[i][0] * cw * sx, grid[i][1] * ch * sy, 1));
            }
            List<Sam.Prediction> predictions = sam.decodeClicks(emb, clicks);
            int masks = predictions.getFirst().count();
            // Each candidate (point, mask) is filtered on its own; they run side by side and are kept in order.
            Candidate[] found = new Candidate[(b1 - b0) * masks];
            AtomicInteger next = new AtomicInteger();
            ComputePool.parallelFor(ComputePool.threads(), 1, (from, to) -> {
                for (int c = next.getAndIncrement(); c < found.length; c = next.getAndIncrement()) {
                    double[] g = grid[first + c / masks];
                    found[c] = candidate(predictions.get(c / masks), c % masks, new double[] {g[0] * cw, g[1] * ch},
                            emb, cb, image.width(), image.height(), iouThresh, offset, stabilityThresh);
                }
            });
            for (Candidate c : found) {
                if (c != null) {
                    kept.add(c);
                }
            }
        }
        float[] scores = new float[kept.size()];
        List<int[]> boxes = new ArrayList<>();
        for (int i = 0; i < kept.size(); i++) {
            scores[i] = kept.get(i).iou();
            boxes.add(kept.get(i).box());
        }
        List<Candidate> out = new ArrayList<>();
        for (int i : nms(boxes, scores, options.boxNmsThresh())) {
            Candidate c = kept.get(i);
            int[] b = c.box();
            out.add(new Candidate(c.rle(), new int[] {b[0] + cb[0], b[1] + cb[1], b[2] + cb[0], b[3] + cb[1]}, c.iou(),
                    c.stability(), new double[] {c.point()[0] + cb[0], c.point()[1] + cb[1]}, cb));
        }
        return out;
    }

    /**
     * {@code _process_batch} for one mask of one point: the IoU filter, the stability score on the logits at the
     * crop's size (upsampled only for masks that pass the IoU filter), the stability filter, the mask and its box, the
     * crop-edge filter, and the RLE in the image frame; null when a filter drops it.
     */
    private Candidate candidate(Sam.Prediction p, int m, double[] point, Sam.Embedding emb, int[] cb, int width,
                                int height, float iouThresh, float offset, float stabilityThresh) {
        float iou = p.iou()[m];
        if (options.predIouThresh() > 0 && !(iou > iouThresh)) {
            return null;
        }
        float stability;
        Mask mask;
        // The crop-size logits live only here: in an arena of this candidate's, freed at once (see
        // Tensor.allocatingIn), not left for the collector while the next candidates touch fresh pages.
        try (Arena scratch = Arena.ofConfined()) {
            Tensor logits = Tensor.allocatingIn(scratch, () -> sam.postprocess(p.lowResLogits().slice(m, m + 1), emb));
            stability = stability(logits, 0, Sam.MASK_THRESHOLD + offset, Sam.MASK_THRESHOLD - offset);
            if (options.stabilityScoreThresh() > 0 && !(stability >= stabilityThresh)) {
                return null;
            }
            mask = Sam.threshold(logits.segment(), 0, logits.size(2), logits.size(1));
        }
        int[] box = box(mask);
        int[] uncropped = {box[0] + cb[0], box[1] + cb[1], box[2] + cb[0], box[3] + cb[1]};
        if (nearCropEdge(uncropped, cb, width, height)) {
            return null;
        }
        Mask full = uncrop(mask, cb, width, height);
        return new Candidate(Rle.encode(full), box, iou, stability, point, cb);
    }

    private static RgbImage cropImage(RgbImage image, int[] cb) {
        if (cb[0] == 0 && cb[1] == 0 && cb[2] == image.width() && cb[3] == image.height()) {
            return image;
        }
        int w = cb[2] - cb[0], h = cb[3] - cb[1];
        byte[] src = image.rgb();
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            System.arraycopy(src, ((cb[1] + y) * image.width() + cb[0]) * 3, out, y * w * 3, w * 3);
        }
        return new RgbImage(w, h, out);
    }

    /** {@code calculate_stability_score}: #(logit &gt; high) / #(logit &gt; low), as float32. */
    static float stability(Tensor logits, int m, float high, float low) {
        int h = logits.size(1), w = logits.size(2);
        MemorySegment seg = logits.segment();
        long base = (long) m * h * w;
        int inter = 0, union = 0;
        float[] row = new float[w];
        for (int y = 0; y < h; y++) {
            MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT_UNALIGNED, (base + (long) y * w) * Float.BYTES, row, 0, w);
            for (float v : row) {
                if (v > high) {
                    inter++;
                }
                if (v > low) {
                    union++;
                }
            }
        }
        return (float) inter / (float) union;
    }

    /** {@code batched_mask_to_box}: [x0, y0, x1, y1] of the first/last set column and row; [0, 0, 0, 0] if empty. */
    static int[] box(Mask mask) {
        if (mask.isEmpty()) {
            return new int[4];
        }
        Mask.Box b = mask.bbox();
        return new int[] {b.x(), b.y(), b.x() + b.width() - 1, b.y() + b.height() - 1};
    }

    /** {@code is_box_near_crop_edge}: within 20 px of a crop edge that is not also the image's edge. */
    static boolean nearCropEdge(int[] box, int[] crop, int width, int height) {
        int[] image = {0, 0, width, height};
        for (int i = 0; i < 4; i++) {
            boolean nearCrop = Math.abs((float) box[i] - crop[i]) <= EDGE_TOLERANCE;
            boolean nearImage = Math.abs((float) box[i] - image[i]) <= EDGE_TOLERANCE;
            if (nearCrop && !nearImage) {
                return true;
            }
        }
        return false;
    }

    private static Mask uncrop(Mask mask, int[] cb, int width, int height) {
        if (cb[0] == 0 && cb[1] == 0 && cb[2] == width && cb[3] == height) {
            return mask;
        }
        return Mask.fromPredicate(width, height, (x, y) -> x >= cb[0] && x < cb[2] && y >= cb[1] && y < cb[3]
                && mask.get(x - cb[0], y - cb[1]));
    }

    /**
     * torchvision's {@code nms} on boxes [x0, y0, x1, y1] (as floats): candidates in descending score (a stable
     * sort, as torchvision's CPU kernel), each kept unless its float32 IoU with a kept one is above the double
     * {@code threshold}. The kept indices, in that order. ({@code batched_nms} with one category runs exactly this
     * up to 1000 boxes; above that torchvision re-sorts the kept boxes with an unstable sort, which can order tied
     * scores differently.)
     */
    static List<Integer> nms(List<int[]> boxes, float[] scores, double threshold) {
        Integer[] order = new Integer[boxes.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparing((Integer i) -> scores[i]).reversed());
        boolean[] suppressed = new boolean[order.length];
        List<Integer> keep = new ArrayList<>();
        for (int a = 0; a < order.length; a++) {
            if (suppressed[a]) {
                continue;
            }
            int i = order[a];
            keep.add(i);
            int[] bi = boxes.get(i);
            float areaI = ((float) bi[2] - bi[0]) * ((float) bi[3] - bi[1]);
            for (int b = a + 1; b < order.length; b++) {
                if (suppressed[b]) {
                    continue;
                }
                int[] bj = boxes.get(order[b]);
                float areaJ = ((float) bj[2] - bj[0]) * ((float) bj[3] - bj[1]);
                float w = Math.max(0f, (float) Math.min(bi[2], bj[2]) - Math.max(bi[0], bj[0]));
                float h = Math.max(0f, (float) Math.min(bi[3], bj[3]) - Math.max(bi[1], bj[1]));
                float inter = w * h;
                float iou = inter / (areaI + areaJ - inter);
                if ((double) iou > threshold) {
                    suppressed[b] = true;
                }
            }
        }
        return keep;
    }

    private static List<Candidate> select(List<Candidate> all, List<Integer> keep) {
        List<Candidate> out = new ArrayList<>();
        for (int i : keep) {
            out.add(all.get(i));
        }
        return out;
    }

    /**
     * {@code postprocess_small_regions}: in each mask, fill background regions (8-connected) smaller than
     * {@code minArea} and remove foreground ones smaller than it (keeping the largest if all are); then box NMS
     * with score 1 for unchanged masks and 0 for changed ones; kept changed masks take their new RLE and box.
     */
    private static List<Candidate> removeSmallRegions(List<Candidate> all, int width, int height, int minArea,
                                                      double threshold) {
        if (all.isEmpty()) {
            return all;
        }
        List<Mask> masks = new ArrayList<>();
        float[] scores = new float[all.size()];
        List<int[]> boxes = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            Mask m = all.get(i).rle().toMask();
            SmallRegions.Result holes = SmallRegions.remove(m, minArea, true);
            SmallRegions.Result islands = SmallRegions.remove(holes.mask(), minArea, false);
            masks.add(islands.mask());
            scores[i] = holes.changed() || islands.changed() ? 0f : 1f;
            boxes.add(box(islands.mask()));
        }
        List<Candidate> out = new ArrayList<>();
        for (int i : nms(boxes, scores, threshold)) {
            Candidate c = all.get(i);
            if (scores[i] == 0f) {
                c = new Candidate(Rle.encode(masks.get(i)), boxes.get(i), c.iou(), c.stability(), c.point(), c.crop());
            }
            out.add(c);
        }
        return out;
    }
}
