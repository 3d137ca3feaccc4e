package osprey4j.train;

import java.util.List;
import java.util.Objects;
import osprey4j.core.kernels.BilinearResize;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.vision.Projector;

/**
 * One training sample as the LLM step needs it: the prompt's ids with the image placeholder
 * ({@link osprey4j.model.OspreyTokens#IMAGE_TOKEN_ID}) and one {@code <mask>} per region (the position after
 * each {@code <mask>} gets the region's pos token), the labels aligned with the ids ({@link #IGNORE_INDEX}
 * where no loss is taken), the frozen vision tower's res2..res5 maps (F32 [C, h, w]) -- or, for a model whose
 * tower trains, the preprocessed image ({@link #withPixels}) -- and the region masks (F32 0/1 [H, W], the image's
 * size), one per {@code <mask>} in order. Padding is not part of a sample: each
 * is computed at its own length, which gives the reference's loss for right-padded batches exactly.
 *
 * <p>The inputs the frozen tower fixes (res4 tokens, each region's pooled features per level, the 112x112
 * resized masks) are derived once and kept, so a sample reused across epochs pays for them once.
 */
public final class TrainSample {
    public static final int IGNORE_INDEX = -100;
    private static final float DENOMINATOR_EPS = 1e-8f;

    private final int[] inputIds;
    private final int[] labels;
    private final List<Tensor> levels;
    private final float[] pixels;
    private final int pixelHeight;
    private final int pixelWidth;
    private final List<Tensor> masks;
    private Derived derived;
    /** Per level (by its map size): each region's inside pixels of the resized, binarised mask. */
    private final java.util.Map<Long, int[][]> inside = new java.util.HashMap<>();

    record Derived(float[] imageTokens, int imageCount, float[][] pooled, float[] grid) {
    }

    /**
     * @param levels res2, res3, res4, res5 as F32 [C, h, w]
     * @param masks  F32 [H, W] 0/1, one per region
     */
    public TrainSample(int[] inputIds, int[] labels, List<Tensor> levels, List<Tensor> masks) {
        Objects.requireNonNull(inputIds, "inputIds");
        Objects.requireNonNull(labels, "labels");
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException("labels (" + labels.length + ") must align with input_ids (" + inputIds.length + ")");
        }
        if (levels.size() != 4) {
            throw new IllegalArgumentException("need the four feature levels res2..res5, got " + levels.size());
        }
        for (Tensor t : levels) {
            if (t.dtype() != DType.F32 || t.rank() != 3) {
                throw new IllegalArgumentException("feature levels must be F32 [C, h, w], got " + t);
            }
        }
        for (Tensor m : masks) {
            if (m.dtype() != DType.F32 || m.rank() != 2 || m.dim(0) != masks.getFirst().dim(0) || m.dim(1) != masks.getFirst().dim(1)) {
                throw new IllegalArgumentException("masks must be F32 [H, W], all of one size, got " + m);
            }
        }
        this.inputIds = inputIds.clone();
        this.labels = labels.clone();
        this.levels = List.copyOf(levels);
        this.pixels = null;
        this.pixelHeight = 0;
        this.pixelWidth = 0;
        this.masks = List.copyOf(masks);
    }

    /**
     * A sample for a model whose tower trains: the preprocessed image (F32 [3, H, W], the tower's input) instead
     * of its features, which change with every step.
     */
    public static TrainSample withPixels(int[] inputIds, int[] labels, Tensor pixels, List<Tensor> masks) {
        return new TrainSample(inputIds, labels, pixels, masks);
    }

    private TrainSample(int[] inputIds, int[] labels, Tensor pixels, List<Tensor> masks) {
        Objects.requireNonNull(inputIds, "inputIds");
        Objects.requireNonNull(labels, "labels");
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException("labels (" + labels.length + ") must align with input_ids (" + inputIds.length + ")");
        }
        if (pixels.dtype() != DType.F32 || pixels.rank() != 3) {
            throw new IllegalArgumentException("pixels must be F32 [3, H, W], got " + pixels);
        }
        for (Tensor m : masks) {
            if (m.dtype() != DType.F32 || m.rank() != 2 || m.dim(0) != masks.getFirst().dim(0) || m.dim(1) != masks.getFirst().dim(1)) {
                throw new IllegalArgumentException("masks must be F32 [H, W], all of one size, got " + m);
            }
        }
        this.inputIds = inputIds.clone();
        this.labels = labels.clone();
        this.levels = null;
        this.pixels = pixels.toFloatArray();
        this.pixelHeight = pixels.size(1);
        this.pixelWidth = pixels.size(2);
        this.masks = List.copyOf(masks);
    }

    /** Whether this sample carries the image (for a trainable tower) rather than frozen features. */
    public boolean hasPixels() {
        return pixels != null;
    }

    float[] pixels() {
        return pixels;
    }

    int pixelHeight() {
        return pixelHeight;
    }

    int pixelWidth() {
        return pixelWidth;
    }

    /**
     * Each region's pixels inside its mask on an {@code fh x fw} feature map (the mask resized bilinearly and
     * binarised, as mask pooling does), cached per map size.
     */
    synchronized int[][] inside(int fh, int fw) {
        return inside.computeIfAbsent(((long) fh << 32) | fw, k -> {
            int[][] out = new int[masks.size()][];
            for (int r = 0; r < masks.size(); r++) {
                float[] m = resize(masks.get(r), fh, fw);
                int count = 0;
                int[] idx = new int[m.length];
                for (int p = 0; p < m.length; p++) {
                    if (m[p] > 0f) {
                        idx[count++] = p;
                    }
                }
                out[r] = java.util.Arrays.copyOf(idx, count);
            }
            return out;
        });
    }

    /** Mask pooling's weight for a region of {@code count} inside pixels: 1 / (count + 1e-8) in float. */
    static double poolWeight(int count) {
        return 1f / ((float) count + DENOMINATOR_EPS);
    }

    /** A sample over the frozen tower's output for its image ({@link osprey4j.model.vision.ConvNextTower#forward}). */
    public static TrainSample of(int[] inputIds, int[] labels, osprey4j.model.vision.ConvNextTower.Features features,
                                 List<Tensor> masks) {
        Objects.requireNonNull(features, "features");
        return new TrainSample(inputIds, labels, features.levels(), masks);
    }

    public int[] inputIds() {
        return inputIds.clone();
    }

    public int[] labels() {
        return labels.clone();
    }

    int[] ids() {
        return inputIds;
    }

    int[] rawLabels() {
        return labels;
    }

    public int regions() {
        return masks.size();
    }

    /** Drops the derived inputs (e.g. to bound memory between epochs). */
    public void forgetDerived() {
        derived = null;
    }

    synchronized Derived derived(int maskGrid) {
        if (derived == null || derived.grid.length != masks.size() * maskGrid * maskGrid) {
            int g2 = maskGrid * maskGrid;
            float[] grid = new float[masks.size() * g2];
            for (int r = 0; r < masks.size(); r++) {
                System.arraycopy(resize(masks.get(r), maskGrid, maskGrid), 0, grid, r * g2, g2);
            }
            if (levels == null) {
                derived = new Derived(null, 0, null, grid);
                return derived;
            }
            Tensor res4 = levels.get(2);
            float[] tokens = Projector.flattenToTokens(res4).toFloatArray();
            int count = res4.size(1) * res4.size(2);
            float[][] pooled = new float[4][];
            for (int l = 0; l < 4; l++) {
                Tensor f = levels.get(l);
                int c = f.size(0), fh = f.size(1), fw = f.size(2);
                float[] values = f.toFloatArray();
                pooled[l] = new float[masks.size() * c];
                for (int r = 0; r < masks.size(); r++) {
                    float[] m = resize(masks.get(r), fh, fw);
                    pool(values, c, fh * fw, m, pooled[l], r * c);
                }
            }
            derived = new Derived(tokens, count, pooled, grid);
        }
        return derived;
    }

    /** The reference's F.interpolate(bilinear, align_corners=False), skipped when the size already fits. */
    static float[] resize(Tensor mask, int h, int w) {
        if (mask.dim(0) == h && mask.dim(1) == w) {
            return mask.toFloatArray();
        }
        return BilinearResize.resize(mask.reshape(1, mask.dim(0), mask.dim(1)), h, w).toFloatArray();
    }

    /**
     * MaskPooling: binarise (> 0), every inside pixel weighs 1 / (count + 1e-8) in float, pooled[c] = weight *
     * sum of feature[c] over inside pixels (sum in double, as the inference extractor does).
     */
    private static void pool(float[] f, int c, int plane, float[] m, float[] out, int off) {
        int count = 0;
        int[] inside = new int[plane];
        for (int p = 0; p < plane; p++) {
            if (m[p] > 0f) {
                inside[count++] = p;
            }
        }
        double weight = poolWeight(count);
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            int base = ch * plane;
            for (int i = 0; i < count; i++) {
                sum += f[base + inside[i]];
            }
            out[off + ch] = (float) (sum * weight);
        }
    }
}
