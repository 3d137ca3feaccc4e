package osprey4j.model.sam;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.kernels.Activations;
import osprey4j.core.kernels.Attention;
import osprey4j.core.kernels.ChannelLayout;
import osprey4j.core.kernels.Conv2d;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.Norms;
import osprey4j.core.kernels.Residual;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * SAM's mask decoder ({@code MaskDecoder} with its {@code TwoWayTransformer}): output tokens (the IoU token and
 * one token per mask) followed by the prompt tokens attend to the image embedding and it to them; the image
 * embedding is then upscaled 4x by two transposed convolutions, each mask token becomes, through its own MLP,
 * the weights of a dot product with every upscaled pixel (the mask logits), and the IoU token's MLP predicts each
 * mask's quality.
 *
 * <pre>
 * tokens = [iou_token, mask_tokens(4), sparse prompt tokens]     queries
 * src    = image_embedding + dense prompt embedding              keys, with image_pe as their position
 * two-way block: self-attn(tokens) + norm1; tokens->image + norm2; MLP(ReLU) + norm3; image->tokens + norm4
 * final: tokens->image, norm_final_attn
 * masks  = hypernetwork_mlp_i(mask token i) . upscale(src)      [4, 4g, 4g]
 * iou    = iou_prediction_head(iou token)                         [4]
 * </pre>
 * The decoder's LayerNorms use torch's default eps 1e-5, the upscaling's LayerNorm2d 1e-6. The number of
 * attention heads is not in the weights: it is SAM's 8 unless given.
 */
public final class SamMaskDecoder {
    private static final String P = "mask_decoder.";
    private static final float LN_EPS = 1e-5f;
    /** The official TwoWayTransformer's heads (not recorded in checkpoints). */
    public static final int DEFAULT_HEADS = 8;

    /** The decoder's attention: projections to an internal width (downsampled), heads, projection back. */
    private record AttentionLayer(Tensor qProjWeight, Tensor qProjBias, Tensor kProjWeight, Tensor kProjBias,
                                  Tensor vProjWeight, Tensor vProjBias, Tensor outProjWeight, Tensor outProjBias,
                                  int heads) {
        static AttentionLayer load(Checkpoint ckpt, String p, long dim, int heads) {
            long internal = SamWeights.shape(ckpt, p + "q_proj.weight", 2)[0];
            if (internal % heads != 0) {
                throw new CheckpointException("'" + p + "q_proj.weight' projects to " + internal + ", which " + heads
                        + " heads do not divide");
            }
            return new AttentionLayer(ckpt.weight(p + "q_proj.weight", internal, dim), ckpt.weight(p + "q_proj.bias", internal),
                    ckpt.weight(p + "k_proj.weight", internal, dim), ckpt.weight(p + "k_proj.bias", internal),
                    ckpt.weight(p + "v_proj.weight", internal, dim), ckpt.weight(p + "v_proj.bias", internal),
                    ckpt.weight(p + "out_proj.weight", dim, internal), ckpt.weight(p + "out_proj.bias", dim), heads);
        }

        Tensor forward(Tensor q, Tensor k, Tensor v) {
            Tensor qp = Gemm.linear(q, qProjWeight, qProjBias);
            Tensor kp = Gemm.linear(k, kProjWeight, kProjBias);
            Tensor vp = Gemm.linear(v, vProjWeight, vProjBias);
            Tensor out = Tensor.zeros(DType.F32, qp.shape());
            Attention.attend(qp, kp, vp, heads, heads, Attention.NOT_CAUSAL, null, null, out);
            return Gemm.linear(out, outProjWeight, outProjBias);
        }
    }

    /** A {@code MLP} of the decoder: Linear layers with ReLU between them. */
    private record Mlp(List<Tensor> weights, List<Tensor> biases) {
        static Mlp load(Checkpoint ckpt, String p, long in) {
            int n = SamWeights.count(ckpt, p + "layers.", ".weight");
            if (n == 0) {
                throw new CheckpointException("missing weight '" + p + "layers.0.weight'");
            }
            List<Tensor> w = new ArrayList<>(), b = new ArrayList<>();
            long prev = in;
            for (int i = 0; i < n; i++) {
                long out = SamWeights.shape(ckpt, p + "layers." + i + ".weight", 2)[0];
                w.add(ckpt.weight(p + "layers." + i + ".weight", out, prev));
                b.add(ckpt.weight(p + "layers." + i + ".bias", out));
                prev = out;
            }
            return new Mlp(List.copyOf(w), List.copyOf(b));
        }

        Tensor forward(Tensor x) {
            for (int i = 0; i < weights.size(); i++) {
                x = Gemm.linear(x, weights.get(i), biases.get(i));
                if (i < weights.size() - 1) {
                    Activations.relu(x);
                }
            }
            return x;
        }

        int outputs() {
            return weights.getLast().size(0);
        }
    }

    /** A {@code TwoWayAttentionBlock}. */
    private record TwoWayBlock(AttentionLayer selfAttn, Tensor norm1Weight, Tensor norm1Bias,
                               AttentionLayer crossAttnTokenToImage, Tensor norm2Weight, Tensor norm2Bias,
                               Tensor mlpLin1Weight, Tensor mlpLin1Bias, Tensor mlpLin2Weight, Tensor mlpLin2Bias,
                               Tensor norm3Weight, Tensor norm3Bias, Tensor norm4Weight, Tensor norm4Bias,
                               AttentionLayer crossAttnImageToToken, boolean skipFirstLayerPe) {
    }

    private final List<TwoWayBlock> layers;
    private final AttentionLayer finalAttnTokenToImage;
    private final Tensor normFinalAttnWeight;
    private final Tensor normFinalAttnBias;
    private final Tensor iouToken;
    private final Tensor maskTokens;
    private final Tensor outputUpscaling0Filters;
    private final Tensor outputUpscaling0Bias;
    private final Tensor outputUpscaling1Weight;
    private final Tensor outputUpscaling1Bias;
    private final Tensor outputUpscaling3Filters;
    private final Tensor outputUpscaling3Bias;
    private final List<Mlp> outputHypernetworksMlps;
    private final Mlp iouPredictionHead;
    private final int dim;

    private SamMaskDecoder(Checkpoint ckpt, int heads) {
        String t = P + "transformer.";
        long d = SamWeights.shape(ckpt, P + "iou_token.weight", 2)[1];
        this.dim = Math.toIntExact(d);
        List<TwoWayBlock> blocks = new ArrayList<>();
        int depth = SamWeights.count(ckpt, t + "layers.", ".norm1.weight");
        if (depth == 0) {
            throw new CheckpointException("missing weight '" + t + "layers.0.norm1.weight'");
        }
        for (int i = 0; i < depth; i++) {
            String b = t + "layers." + i + ".";
            long mlp = SamWeights.shape(ckpt, b + "mlp.lin1.weight", 2)[0];
            blocks.add(new TwoWayBlock(AttentionLayer.load(ckpt, b + "self_attn.", d, heads),
                    ckpt.weight(b + "norm1.weight", d), ckpt.weight(b + "norm1.bias", d),
                    AttentionLayer.load(ckpt, b + "cross_attn_token_to_image.", d, heads),
                    ckpt.weight(b + "norm2.weight", d), ckpt.weight(b + "norm2.bias", d),
                    ckpt.weight(b + "mlp.lin1.weight", mlp, d), ckpt.weight(b + "mlp.lin1.bias", mlp),
                    ckpt.weight(b + "mlp.lin2.weight", d, mlp), ckpt.weight(b + "mlp.lin2.bias", d),
                    ckpt.weight(b + "norm3.weight", d), ckpt.weight(b + "norm3.bias", d),
                    ckpt.weight(b + "norm4.weight", d), ckpt.weight(b + "norm4.bias", d),
                    AttentionLayer.load(ckpt, b + "cross_attn_image_to_token.", d, heads), i == 0));
        }
        this.layers = List.copyOf(blocks);
        this.finalAttnTokenToImage = AttentionLayer.load(ckpt, t + "final_attn_token_to_image.", d, heads);
        this.normFinalAttnWeight = ckpt.weight(t + "norm_final_attn.weight", d);
        this.normFinalAttnBias = ckpt.weight(t + "norm_final_attn.bias", d);
        this.iouToken = ckpt.weight(P + "iou_token.weight", 1, d).to(DType.F32);
        long masks = SamWeights.shape(ckpt, P + "mask_tokens.weight", 2)[0];
        this.maskTokens = ckpt.weight(P + "mask_tokens.weight", masks, d).to(DType.F32);
        long c4 = SamWeights.shape(ckpt, P + "output_upscaling.0.weight", 4)[1];
        long c8 = SamWeights.shape(ckpt, P + "output_upscaling.3.weight", 4)[1];
        this.outputUpscaling0Filters = Conv2d.transposedFilters(ckpt.weight(P + "output_upscaling.0.weight", d, c4, 2, 2));
        this.outputUpscaling0Bias = ckpt.weight(P + "output_upscaling.0.bias", c4);
        this.outputUpscaling1Weight = ckpt.weight(P + "output_upscaling.1.weight", c4);
        this.outputUpscaling1Bias = ckpt.weight(P + "output_upscaling.1.bias", c4);
        this.outputUpscaling3Filters = Conv2d.transposedFilters(ckpt.weight(P + "output_upscaling.3.weight", c4, c8, 2, 2));
        this.outputUpscaling3Bias = ckpt.weight(P + "output_upscaling.3.bias", c8);
        List<Mlp> hyper = new ArrayList<>();
        for (int i = 0; i < masks; i++) {
            Mlp m = Mlp.load(ckpt, P + "output_hypernetworks_mlps." + i + ".", d);
            if (m.outputs() != c8) {
                throw new CheckpointException("'" + P + "output_hypernetworks_mlps." + i + "' gives " + m.outputs()
                        + " values, the upscaled embedding has " + c8 + " channels");
            }
            hyper.add(m);
        }
        if (ckpt.contains(P + "output_hypernetworks_mlps." + masks + ".layers.0.weight")) {
            throw new CheckpointException("more hypernetwork MLPs than the " + masks + " mask tokens");
        }
        this.outputHypernetworksMlps = List.copyOf(hyper);
        this.iouPredictionHead = Mlp.load(ckpt, P + "iou_prediction_head.", d);
        if (iouPredictionHead.outputs() != masks) {
            throw new CheckpointException("the IoU head predicts " + iouPredictionHead.outputs() + " values for " + masks
                    + " mask tokens");
        }
    }

    static SamMaskDecoder load(Checkpoint ckpt, int heads) {
        if (heads <= 0) {
            throw new IllegalArgumentException("decoder heads must be positive, got " + heads);
        }
        return new SamMaskDecoder(ckpt, heads);
    }

    /** Mask tokens: 1 + the number of multimask outputs (4). */
    public int maskTokens() {
        return maskTokens.size(0);
    }

    /** All masks' logits, [M, 4g, 4g], and their predicted IoUs, [M]; the caller picks single or multimask. */
    public record Output(Tensor masks, float[] iou) {
    }

    /**
     * {@code predict_masks} for one prompt.
     *
     * @param image    the image embedding, channels-last [g*g, D]
     * @param imagePe  the dense positional encoding, [g*g, D]
     * @param sparse   the prompt tokens, [N, D]
     * @param dense    the dense prompt embedding, [g*g, D]
     * @param grid     g
     */
    public Output predict(Tensor image, Tensor imagePe, Tensor sparse, Tensor dense, int grid) {
        int m = maskTokens();
        int n = 1 + m + sparse.size(0);
        Tensor tokens = Tensor.zeros(DType.F32, n, dim);
        long row = (long) dim * Float.BYTES;
        MemorySegment.copy(iouToken.segment(), 0, tokens.segment(), 0, row);
        MemorySegment.copy(maskTokens.segment(), 0, tokens.segment(), row, m * row);
        MemorySegment.copy(sparse.segment(), 0, tokens.segment(), (1 + m) * row, sparse.size(0) * row);
        Tensor src = image.copy();
        Residual.add(dense, src);

        // TwoWayTransformer
        Tensor queries = tokens.copy();
        Tensor keys = src;
        for (TwoWayBlock b : layers) {
            if (b.skipFirstLayerPe()) {
                queries = b.selfAttn().forward(queries, queries, queries);
            } else {
                Tensor q = plus(queries, tokens);
                Residual.add(b.selfAttn().forward(q, q, queries), queries);
            }
            Norms.layerNorm(queries, b.norm1Weight(), b.norm1Bias(), LN_EPS);
            Tensor q = plus(queries, tokens);
            Tensor k = plus(keys, imagePe);
            Residual.add(b.crossAttnTokenToImage().forward(q, k, keys), queries);
            Norms.layerNorm(queries, b.norm2Weight(), b.norm2Bias(), LN_EPS);
            Tensor hidden = Gemm.linear(queries, b.mlpLin1Weight(), b.mlpLin1Bias());
            Activations.relu(hidden);
            Residual.add(Gemm.linear(hidden, b.mlpLin2Weight(), b.mlpLin2Bias()), queries);
            Norms.layerNorm(queries, b.norm3Weight(), b.norm3Bias(), LN_EPS);
            q = plus(queries, tokens);
            Residual.add(b.crossAttnImageToToken().forward(k, q, queries), keys);
            Norms.layerNorm(keys, b.norm4Weight(), b.norm4Bias(), LN_EPS);
        }
        Tensor q = plus(queries, tokens);
        Tensor k = plus(keys, imagePe);
        Residual.add(finalAttnTokenToImage.forward(q, k, keys), queries);
        Norms.layerNorm(queries, normFinalAttnWeight, normFinalAttnBias, LN_EPS);

        // Upscaling and the hypernetworks
        Tensor up = Conv2d.transposed(keys, grid, grid, 2, outputUpscaling0Filters, outputUpscaling0Bias);
        Norms.layerNorm(up, outputUpscaling1Weight, outputUpscaling1Bias, SamImageEncoder.EPS);
        Activations.gelu(up);
        up = Conv2d.transposed(up, 2 * grid, 2 * grid, 2, outputUpscaling3Filters, outputUpscaling3Bias);
        Activations.gelu(up);
        int c8 = up.size(1);
        Tensor hyperIn = Tensor.zeros(DType.F32, m, c8);
        for (int i = 0; i < m; i++) {
            Tensor h = outputHypernetworksMlps.get(i).forward(queries.slice(1 + i, 2 + i));
            MemorySegment.copy(h.segment(), 0, hyperIn.segment(), (long) i * c8 * Float.BYTES,
                    (long) c8 * Float.BYTES);
        }
        Tensor masks = ChannelLayout.toChannelsFirst(Gemm.linear(up, hyperIn, null), 4L * grid, 4L * grid);
        float[] iou = iouPredictionHead.forward(queries.slice(0, 1)).toFloatArray();
        return new Output(masks, iou);
    }

    private static Tensor plus(Tensor a, Tensor b) {
        Tensor out = a.copy();
        Residual.add(b, out);
        return out;
    }
}
