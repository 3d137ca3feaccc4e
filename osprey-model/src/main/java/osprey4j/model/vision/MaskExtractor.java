package osprey4j.model.vision;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.kernels.Activations;
import osprey4j.core.kernels.BilinearResize;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.MaskPooling;
import osprey4j.core.kernels.Residual;
import osprey4j.core.mask.Mask;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Osprey's mask-aware extractor ({@code osprey/model/layer.py}): turns each region mask into two LLM
 * embeddings, the mask token and the position token.
 *
 * <pre>
 * for each level L in res2..res5 (feature map [C_L, h, w]):
 *     m_L     = bilinear(mask, (h, w)), align_corners=False, no antialias   (skipped when already h x w)
 *     m_L     = (m_L > 0) / (count(m_L > 0) + 1e-8)                           binarise, normalise
 *     pooled  = sum over pixels of feature * m_L                              [C_L]
 *     level_L = resL(pooled)                                                  Linear C_L -> 1024
 * mask token = feat_linear(level_res2 + level_res3 + level_res4 + level_res5)   Linear 1024 -> D
 * pos token  = MLP(bilinear(mask, 112 x 112) flattened row-major)               12544 -> 1024 -> 1024 -> D, ReLU between
 * </pre>
 * The pos token uses the resized mask as it is (not binarised). Everything is computed in F32, as the
 * reference does whatever the model's dtype (its masks are cast with {@code .float()} and the layers with
 * them; only the per-level Linear outputs are cast back to the feature dtype, which in the fp16 deployment
 * rounds them to fp16 before the sum; here they stay F32). The 1024 width and the 112 grid are read from the
 * weights' shapes.
 *
 * <p>Small masks can vanish when bilinear shrinking samples none of their pixels; such a level pools to zero
 * (the reference divides 0 by 1e-8) and contributes just its bias. A mask that vanishes at every level, or an
 * empty mask, gets {@code feat_linear(sum of the four level biases)}, exactly as in the reference, and a
 * warning is logged.
 */
public final class MaskExtractor {
    private static final System.Logger LOG = System.getLogger(MaskExtractor.class.getName());
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final String[] LEVELS = {"res2", "res3", "res4", "res5"};

    /** One row per mask, in the order the masks were given. */
    public record RegionTokens(Tensor maskTokens, Tensor posTokens) {
        public RegionTokens {
            Objects.requireNonNull(maskTokens, "maskTokens");
            Objects.requireNonNull(posTokens, "posTokens");
        }

        public int count() {
            return maskTokens.size(0);
        }
    }

    private final Tensor[] levelWeights = new Tensor[LEVELS.length];
    private final Tensor[] levelBiases = new Tensor[LEVELS.length];
    private final Tensor featLinearWeight;
    private final Tensor featLinearBias;
    private final List<Tensor> maskLinearWeights;
    private final List<Tensor> maskLinearBiases;
    private final int maskShape;

    private MaskExtractor(Tensor[] levelWeights, Tensor[] levelBiases, Tensor featLinearWeight, Tensor featLinearBias,
                          List<Tensor> maskLinearWeights, List<Tensor> maskLinearBiases, int maskShape) {
        System.arraycopy(levelWeights, 0, this.levelWeights, 0, LEVELS.length);
        System.arraycopy(levelBiases, 0, this.levelBiases, 0, LEVELS.length);
        this.featLinearWeight = featLinearWeight;
        this.featLinearBias = featLinearBias;
        this.maskLinearWeights = maskLinearWeights;
        this.maskLinearBiases = maskLinearBiases;
        this.maskShape = maskShape;
    }

    /**
     * @param prefix the key prefix, {@code "mask_extractor"} in Osprey checkpoints (with or without the final dot)
     */
    public static MaskExtractor load(Checkpoint checkpoint, String prefix) {
        Objects.requireNonNull(checkpoint, "checkpoint");
        String p = Weights.withDot(Objects.requireNonNull(prefix, "prefix"));
        Tensor[] ws = new Tensor[LEVELS.length];
        Tensor[] bs = new Tensor[LEVELS.length];
        long embed = Weights.shapeOf(checkpoint, p + "feat_linear.weight", 2)[1];
        long out = Weights.shapeOf(checkpoint, p + "feat_linear.weight", 2)[0];
        Tensor featW = Weights.require(checkpoint, p + "feat_linear.weight", out, embed);
        Tensor featB = Weights.require(checkpoint, p + "feat_linear.bias", out);
        for (int i = 0; i < LEVELS.length; i++) {
            String key = p + LEVELS[i] + ".weight";
            long channels = Weights.shapeOf(checkpoint, key, 2)[1];
            ws[i] = Weights.require(checkpoint, key, embed, channels);
            bs[i] = Weights.require(checkpoint, p + LEVELS[i] + ".bias", embed);
        }
        List<Tensor> mw = new ArrayList<>();
        List<Tensor> mb = new ArrayList<>();
        for (int i = 0; checkpoint.contains(p + "mask_linear.layers." + i + ".weight"); i++) {
            String key = p + "mask_linear.layers." + i + ".weight";
            long[] shape = Weights.shapeOf(checkpoint, key, 2);
            if (i > 0 && shape[1] != mw.getLast().dim(0)) {
                throw new CheckpointException("weight '" + key + "' has the wrong shape: expected [N, "
                        + mw.getLast().dim(0) + "], found [" + shape[0] + ", " + shape[1] + "]" + Weights.where(checkpoint));
            }
            mw.add(Weights.require(checkpoint, key, shape));
            mb.add(Weights.require(checkpoint, p + "mask_linear.layers." + i + ".bias", shape[0]));
        }
        if (mw.isEmpty()) {
            throw new CheckpointException("missing weight '" + p + "mask_linear.layers.0.weight'" + Weights.where(checkpoint));
        }
        long gridCells = mw.getFirst().dim(1);
        int grid = (int) Math.round(Math.sqrt(gridCells));
        if ((long) grid * grid != gridCells) {
            throw new CheckpointException("weight '" + p + "mask_linear.layers.0.weight' has " + gridCells
                    + " inputs, not a square mask grid (Osprey: 112 x 112 = 12544)" + Weights.where(checkpoint));
        }
        if (mw.getLast().dim(0) != out) {
            throw new CheckpointException("weight '" + p + "mask_linear.layers." + (mw.size() - 1)
                    + ".weight' has the wrong shape: expected [" + out + ", " + mw.getLast().dim(1) + "], found "
                    + java.util.Arrays.toString(mw.getLast().shape()) + " (feat_linear gives " + out + ")");
        }
        return new MaskExtractor(ws, bs, featW, featB, List.copyOf(mw), List.copyOf(mb), grid);
    }

    /** Width of the tokens (the LLM hidden size). */
    public int outputSize() {
        return featLinearWeight.size(0);
    }

    /** Side of the square grid the pos token sees the mask on (112 in Osprey). */
    public int maskGrid() {
        return maskShape;
    }

    /**
     * Mask and pos tokens, one row per mask.
     *
     * @param masks the regions at the original image's size (the caller checks the size: {@code Osprey} does,
     *              where the image is known); each is read as the reference's F32 0/1 map
     * @return [n, D] mask tokens and [n, D] pos tokens
     */
    public RegionTokens forward(ConvNextTower.Features features, List<Mask> masks) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(masks, "masks");
        int n = masks.size();
        int d = outputSize();
        if (n == 0) {
            return new RegionTokens(Tensor.zeros(DType.F32, 0, d), Tensor.zeros(DType.F32, 0, d));
        }
        List<Tensor> levels = features.levels();
        for (int l = 0; l < LEVELS.length; l++) {
            Tensor f = levels.get(l);
            if (f.dtype() != DType.F32 || f.rank() != 3 || f.dim(0) != levelWeights[l].dim(1)) {
                throw new IllegalArgumentException(LEVELS[l] + " must be F32 [" + levelWeights[l].dim(1)
                        + ", H, W] for this mask extractor, got " + f);
            }
        }
        List<Tensor> grids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            grids.add(floatGrid(Objects.requireNonNull(masks.get(i), "mask " + (i + 1))));
        }
        int embed = levelWeights[0].size(0);
        Tensor summed = Tensor.zeros(DType.F32, n, embed);
        int[] emptyLevels = new int[n];
        for (int l = 0; l < LEVELS.length; l++) {
            Tensor f = levels.get(l);
            Tensor pooled = Tensor.zeros(DType.F32, n, f.dim(0));
            for (int i = 0; i < n; i++) {
                if (MaskPooling.pool(f, grids.get(i), pooled.row(i)) == 0) {
                    emptyLevels[i]++;
                }
            }
            Tensor level = Gemm.linear(pooled, levelWeights[l], levelBiases[l]);
            Residual.add(level, summed);
        }
        Tensor maskTokens = Gemm.linear(summed, featLinearWeight, featLinearBias);

        Tensor grid = Tensor.zeros(DType.F32, n, (long) maskShape * maskShape);
        for (int i = 0; i < n; i++) {
            Tensor resized = resize(grids.get(i), maskShape, maskShape);
            MemorySegment.copy(resized.segment(), 0, grid.row(i).segment(), 0, resized.byteSize());
        }
        Tensor pos = grid;
        for (int i = 0; i < maskLinearWeights.size(); i++) {
            if (i > 0) {
                Activations.relu(pos);
            }
            pos = Gemm.linear(pos, maskLinearWeights.get(i), maskLinearBiases.get(i));
        }
        for (int i = 0; i < n; i++) {
            if (emptyLevels[i] == LEVELS.length) {
                Mask m = masks.get(i);
                long inside = m.area();
                String what = inside == 0 ? "region " + (i + 1) + " is empty (no pixel set)"
                        : "region " + (i + 1) + " (" + inside + " pixels of " + m.width() + "x" + m.height()
                        + ") covers no pixel of any "
                        + "feature level after the reference's bilinear resize";
                LOG.log(System.Logger.Level.WARNING, what + "; as in the reference, its mask token carries no image "
                        + "information (feat_linear of the sum of the level biases)");
            }
        }
        return new RegionTokens(maskTokens, pos);
    }

    /** The reference's {@code mask.float()}: a [height, width] F32 map, 1 inside the region and 0 outside. */
    private static Tensor floatGrid(Mask mask) {
        return mask.toTensor();
    }

    /** The mask bilinearly resized to h x w (a [h, w] view of a new tensor). */
    private static Tensor resize(Tensor mask, int h, int w) {
        Tensor planar = mask.reshape(1, mask.dim(0), mask.dim(1));
        return BilinearResize.resize(planar, h, w).reshape(h, w);
    }
}
