package osprey4j.model.sam;

import java.lang.foreign.MemorySegment;
import java.util.List;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.kernels.Activations;
import osprey4j.core.kernels.Conv2d;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.Norms;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * SAM's prompt encoder ({@code PromptEncoder}): points and box corners become sparse tokens (a random-Fourier
 * positional encoding of the point plus a learnt embedding for its kind), a low-resolution mask becomes a dense
 * embedding (two 2x2/2 convolutions with LayerNorm2d and GELU, then a 1x1 convolution), and no mask becomes
 * {@code no_mask_embed} everywhere.
 *
 * <pre>
 * pe(x, y)    = [sin(2 pi G^T (2 c - 1)), cos(2 pi G^T (2 c - 1))],  c = (x / S, y / S),  G = [2, D/2] Gaussian
 * point       = pe(point + 0.5) + point_embeddings[label]      label 1 foreground, 0 background
 * padding     = not_a_point_embed                               (label -1, added when there is no box)
 * box corners = pe(corner + 0.5) + point_embeddings[2 | 3]
 * dense       = mask_downscaling(mask) or no_mask_embed          [g*g, D] channels-last
 * </pre>
 * Coordinates are in the encoder's input frame (after {@code ResizeLongestSide}). Arithmetic is float32 in the
 * reference's order.
 */
public final class SamPromptEncoder {
    private static final String P = "prompt_encoder.";
    /** Label of a foreground click. */
    public static final int FOREGROUND = 1;
    /** Label of a background click. */
    public static final int BACKGROUND = 0;
    /** Label of the padding point (no point). */
    public static final int NOT_A_POINT = -1;

    private final float[] gaussian;
    private final int features;
    private final float[][] pointEmbeddings;
    private final float[] notAPointEmbed;
    private final Tensor noMaskEmbed;
    private final Tensor maskDownscaling0Weight;
    private final Tensor maskDownscaling0Bias;
    private final Tensor maskDownscaling1Weight;
    private final Tensor maskDownscaling1Bias;
    private final Tensor maskDownscaling3Rows;
    private final Tensor maskDownscaling3Bias;
    private final Tensor maskDownscaling4Weight;
    private final Tensor maskDownscaling4Bias;
    private final Tensor maskDownscaling6Rows;
    private final Tensor maskDownscaling6Bias;
    private final int embedDim;
    private final int grid;
    private final int inputSize;

    private SamPromptEncoder(Checkpoint ckpt, int grid, int inputSize) {
        long[] g = SamWeights.shape(ckpt, P + "pe_layer.positional_encoding_gaussian_matrix", 2);
        if (g[0] != 2) {
            throw new CheckpointException("'" + P + "pe_layer.positional_encoding_gaussian_matrix' is not [2, D/2]");
        }
        this.features = Math.toIntExact(g[1]);
        this.embedDim = 2 * features;
        this.gaussian = ckpt.tensor(P + "pe_layer.positional_encoding_gaussian_matrix").toFloatArray();
        int points = SamWeights.count(ckpt, P + "point_embeddings.", ".weight");
        if (points != 4) {
            throw new CheckpointException("the prompt encoder has " + points + " point embeddings; SAM has 4");
        }
        this.pointEmbeddings = new float[4][];
        for (int i = 0; i < 4; i++) {
            pointEmbeddings[i] = ckpt.weight(P + "point_embeddings." + i + ".weight", 1, embedDim).toFloatArray();
        }
        this.notAPointEmbed = ckpt.weight(P + "not_a_point_embed.weight", 1, embedDim).toFloatArray();
        this.noMaskEmbed = ckpt.weight(P + "no_mask_embed.weight", 1, embedDim).to(DType.F32);
        long c = SamWeights.shape(ckpt, P + "mask_downscaling.3.weight", 4)[0];
        long c4 = c / 4;
        this.maskDownscaling0Weight = ckpt.weight(P + "mask_downscaling.0.weight", c4, 1, 2, 2);
        this.maskDownscaling0Bias = ckpt.weight(P + "mask_downscaling.0.bias", c4);
        this.maskDownscaling1Weight = ckpt.weight(P + "mask_downscaling.1.weight", c4);
        this.maskDownscaling1Bias = ckpt.weight(P + "mask_downscaling.1.bias", c4);
        this.maskDownscaling3Rows = Conv2d.filtersTapMajor(ckpt.weight(P + "mask_downscaling.3.weight", c, c4, 2, 2));
        this.maskDownscaling3Bias = ckpt.weight(P + "mask_downscaling.3.bias", c);
        this.maskDownscaling4Weight = ckpt.weight(P + "mask_downscaling.4.weight", c);
        this.maskDownscaling4Bias = ckpt.weight(P + "mask_downscaling.4.bias", c);
        this.maskDownscaling6Rows = ckpt.weight(P + "mask_downscaling.6.weight", embedDim, c, 1, 1).reshape(embedDim, c);
        this.maskDownscaling6Bias = ckpt.weight(P + "mask_downscaling.6.bias", embedDim);
        this.grid = grid;
        this.inputSize = inputSize;
    }

    static SamPromptEncoder load(Checkpoint ckpt, int grid, int inputSize) {
        return new SamPromptEncoder(ckpt, grid, inputSize);
    }

    /** The prompt width D (256). */
    public int embedDim() {
        return embedDim;
    }

    /** Side of the mask input, 4 x the embedding grid (256). */
    public int maskInputSize() {
        return 4 * grid;
    }

    /** The encoding of one point given in [0, 1]^2 (x, y), written to {@code out[off .. off + D)}. */
    private void encode(float x, float y, float[] out, int off) {
        float cx = 2 * x - 1, cy = 2 * y - 1;
        float twoPi = (float) (2 * Math.PI);
        for (int j = 0; j < features; j++) {
            float v = twoPi * (cx * gaussian[j] + cy * gaussian[features + j]);
            out[off + j] = (float) Math.sin(v);
            out[off + features + j] = (float) Math.cos(v);
        }
    }

    /** {@code get_dense_pe}: the encoding of every embedding cell's centre, channels-last [g*g, D]. */
    public Tensor densePositionalEncoding() {
        float[] out = new float[grid * grid * embedDim];
        for (int y = 0; y < grid; y++) {
            for (int x = 0; x < grid; x++) {
                encode((x + 1 - 0.5f) / grid, (y + 1 - 0.5f) / grid, out, (y * grid + x) * embedDim);
            }
        }
        return Tensor.wrap(out, (long) grid * grid, embedDim);
    }

    /** A point in the input frame and its label (1, 0, or -1 for padding). */
    public record Point(double x, double y, int label) {
    }

    /**
     * The arithmetic of the points' shift and normalisation: the predictor hands the reference float32 coordinates
     * ({@code (x + 0.5) / S} in float32), the automatic mask generator float64 ones (the same in float64, rounded
     * to float32 only for the encoding).
     */
    public enum Coordinates {
        FLOAT32, FLOAT64
    }

    /**
     * The sparse tokens: the points (followed by a padding point when there is no box), then the box's two
     * corners. F32 [N, D].
     *
     * @param points the points in the input frame (may be empty)
     * @param box    x1, y1, x2, y2 in the input frame, or null
     */
    public Tensor sparse(List<Point> points, float[] box) {
        return sparse(points, box, Coordinates.FLOAT32);
    }

    /** {@link #sparse(List, float[])} with the points' coordinates in the given precision. */
    public Tensor sparse(List<Point> points, float[] box, Coordinates precision) {
        boolean pad = box == null && !points.isEmpty();
        int n = points.size() + (pad ? 1 : 0) + (box == null ? 0 : 2);
        float[] out = new float[n * embedDim];
        int row = 0;
        for (Point p : points) {
            float x, y;
            if (precision == Coordinates.FLOAT64) {
                x = (float) ((p.x() + 0.5) / inputSize);
                y = (float) ((p.y() + 0.5) / inputSize);
            } else {
                x = ((float) p.x() + 0.5f) / inputSize;
                y = ((float) p.y() + 0.5f) / inputSize;
            }
            embedPoint(x, y, p.label(), out, row++ * embedDim);
        }
        if (pad) {
            embedPoint(0f, 0f, NOT_A_POINT, out, row++ * embedDim);
        }
        if (box != null) {
            for (int corner = 0; corner < 2; corner++) {
                int off = row++ * embedDim;
                encode((box[2 * corner] + 0.5f) / inputSize, (box[2 * corner + 1] + 0.5f) / inputSize, out, off);
                add(out, off, pointEmbeddings[2 + corner]);
            }
        }
        return Tensor.wrap(out, n, embedDim);
    }

    /** A point given normalised to [0, 1]. */
    private void embedPoint(float x, float y, int label, float[] out, int off) {
        if (label == NOT_A_POINT) {
            System.arraycopy(notAPointEmbed, 0, out, off, embedDim);
            return;
        }
        encode(x, y, out, off);
        if (label == BACKGROUND || label == FOREGROUND) {
            add(out, off, pointEmbeddings[label]);
        }
    }

    private void add(float[] out, int off, float[] e) {
        for (int i = 0; i < embedDim; i++) {
            out[off + i] += e[i];
        }
    }

    /**
     * The dense embedding, channels-last [g*g, D]: the mask input through {@code mask_downscaling}, or
     * {@code no_mask_embed} in every cell.
     *
     * @param maskInput F32 [1, 4g, 4g] low-resolution mask logits (a previous prediction's), or null
     */
    public Tensor dense(Tensor maskInput) {
        if (maskInput == null) {
            Tensor out = Tensor.zeros(DType.F32, (long) grid * grid, embedDim);
            for (int i = 0; i < grid * grid; i++) {
                MemorySegment.copy(noMaskEmbed.segment(), 0, out.segment(),
                        (long) i * embedDim * Float.BYTES, (long) embedDim * Float.BYTES);
            }
            return out;
        }
        int m = maskInputSize();
        if (maskInput.dtype() != DType.F32 || maskInput.rank() != 3 || maskInput.dim(0) != 1 || maskInput.dim(1) != m
                || maskInput.dim(2) != m) {
            throw new IllegalArgumentException("a mask input must be F32 [1, " + m + ", " + m + "], got " + maskInput);
        }
        Tensor x = Conv2d.patchify(maskInput, maskDownscaling0Weight, maskDownscaling0Bias);
        Norms.layerNorm(x, maskDownscaling1Weight, maskDownscaling1Bias, SamImageEncoder.EPS);
        Activations.gelu(x);
        int half = m / 2;
        Tensor rows = Tensor.zeros(DType.F32, (long) grid * grid, 4L * x.dim(1));
        Conv2d.patchRows(x, half, half, 2, rows);
        Tensor y = Gemm.linear(rows, maskDownscaling3Rows, maskDownscaling3Bias);
        Norms.layerNorm(y, maskDownscaling4Weight, maskDownscaling4Bias, SamImageEncoder.EPS);
        Activations.gelu(y);
        return Gemm.linear(y, maskDownscaling6Rows, maskDownscaling6Bias);
    }
}
