package osprey4j.model.sam;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.kernels.Activations;
import osprey4j.core.kernels.Attention;
import osprey4j.core.kernels.ChannelLayout;
import osprey4j.core.kernels.Conv2d;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.Norms;
import osprey4j.core.kernels.Residual;
import osprey4j.core.kernels.Softmax;
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

    /**
     * The decoder's attention: projections to an internal width (downsampled), heads, projection back. Besides the
     * plain form (the tokens' self-attention), the cross attentions between the few tokens and the g*g image rows run
     * refactored (see {@link #tokenToImage} and {@link #imageToToken}), which reads the query and key projections as
     * [internal, D] right-hand sides ({@code qRows}, {@code kRows}: F32 copies).
     */
    private record AttentionLayer(Tensor qProjWeight, Tensor qProjBias, Tensor kProjWeight, Tensor kProjBias,
                                  Tensor vProjWeight, Tensor vProjBias, Tensor outProjWeight, Tensor outProjBias,
                                  int heads, Tensor qRows, Tensor kRows, float[] qBias, float[] kBias) {
        static AttentionLayer load(Checkpoint ckpt, String p, long dim, int heads) {
            long internal = SamWeights.shape(ckpt, p + "q_proj.weight", 2)[0];
            if (internal % heads != 0) {
                throw new CheckpointException("'" + p + "q_proj.weight' projects to " + internal + ", which " + heads
                        + " heads do not divide");
            }
            Tensor q = ckpt.weight(p + "q_proj.weight", internal, dim), k = ckpt.weight(p + "k_proj.weight", internal, dim);
            Tensor qb = ckpt.weight(p + "q_proj.bias", internal), kb = ckpt.weight(p + "k_proj.bias", internal);
            return new AttentionLayer(q, qb, k, kb,
                    ckpt.weight(p + "v_proj.weight", internal, dim), ckpt.weight(p + "v_proj.bias", internal),
                    ckpt.weight(p + "out_proj.weight", dim, internal), ckpt.weight(p + "out_proj.bias", dim), heads,
                    q.to(DType.F32), k.to(DType.F32), qb.toFloatArray(), kb.toFloatArray());
        }

        /** Self-attention of the tokens (a few rows). */
        Tensor forward(Tensor q, Tensor k, Tensor v) {
            Tensor qp = Gemm.linear(q, qProjWeight, qProjBias);
            Tensor kp = Gemm.linear(k, kProjWeight, kProjBias);
            Tensor vp = Gemm.linear(v, vProjWeight, vProjBias);
            Tensor out = Tensor.zeros(DType.F32, qp.shape());
            Attention.attend(qp, kp, vp, heads, heads, Attention.NOT_CAUSAL, null, null, out);
            return Gemm.linear(out, outProjWeight, outProjBias);
        }

        Tensor queries(Tensor x) {
            return Gemm.linear(x, qProjWeight, qProjBias);
        }

        Tensor keys(Tensor x) {
            return Gemm.linear(x, kProjWeight, kProjBias);
        }

        Tensor values(Tensor x) {
            return Gemm.linear(x, vProjWeight, vProjBias);
        }

        int internal() {
            return qProjWeight.size(0);
        }

        /** torch divides the scores by sqrt(head_dim). */
        float scale() {
            return (float) Math.sqrt(internal() / heads);
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

    /** Masks' logits, [M, 4g, 4g], and their predicted IoUs, [M]. */
    public record Output(Tensor masks, float[] iou) {
    }

    /**
     * What the decoder computes from the image alone, shared by every prompt on it: the image side
     * ({@code image + dense}) and the first block's projections of it (token-to-image keys, transposed, and values;
     * image-to-token queries), which the prompt tokens do not reach. Built by {@link #prepare}; read-only.
     */
    public static final class PreparedImage {
        private final SamMaskDecoder decoder;
        private final Tensor src;
        private final Tensor imagePe;
        private final Tensor firstKeysT;
        private final Tensor firstValues;
        private final Tensor firstImageQueries;
        private final int grid;

        private PreparedImage(SamMaskDecoder decoder, Tensor src, Tensor imagePe, Tensor firstKeysT, Tensor firstValues,
                              Tensor firstImageQueries, int grid) {
            this.decoder = decoder;
            this.src = src;
            this.imagePe = imagePe;
            this.firstKeysT = firstKeysT;
            this.firstValues = firstValues;
            this.firstImageQueries = firstImageQueries;
            this.grid = grid;
        }

        /** Bytes held. */
        public long byteSize() {
            return src.byteSize() + firstKeysT.byteSize() + firstValues.byteSize() + firstImageQueries.byteSize();
        }

        /** Whether this was prepared by {@code decoder} (a prepared image holds one decoder's projections). */
        public boolean preparedBy(SamMaskDecoder decoder) {
            return this.decoder == decoder;
        }
    }

    /**
     * The prompt-independent part of {@code predict_masks} for an image embedding and a dense prompt embedding.
     *
     * @param image   the image embedding, channels-last [g*g, D]
     * @param imagePe the dense positional encoding, [g*g, D]
     * @param dense   the dense prompt embedding, [g*g, D]
     * @param grid    g
     */
    public PreparedImage prepare(Tensor image, Tensor imagePe, Tensor dense, int grid) {
        Tensor src = image.copy();
        Residual.add(dense, src);
        Tensor srcPe = plus(src, imagePe);
        TwoWayBlock first = layers.getFirst();
        Tensor keys = first.crossAttnTokenToImage().keys(srcPe);
        Tensor keysT = ChannelLayout.toChannelsFirst(keys, keys.dim(0), 1).reshape(keys.dim(1), keys.dim(0));
        return new PreparedImage(this, src, imagePe, keysT, first.crossAttnTokenToImage().values(src),
                first.crossAttnImageToToken().queries(srcPe), grid);
    }

    /**
     * {@code predict_masks} for one prompt: every mask token's logits, [M, 4g, 4g], and IoU.
     *
     * @param image    the image embedding, channels-last [g*g, D]
     * @param imagePe  the dense positional encoding, [g*g, D]
     * @param sparse   the prompt tokens, [N, D]
     * @param dense    the dense prompt embedding, [g*g, D]
     * @param grid     g
     */
    public Output predict(Tensor image, Tensor imagePe, Tensor sparse, Tensor dense, int grid) {
        return predict(prepare(image, imagePe, dense, grid), sparse, 0, maskTokens());
    }

    /**
     * {@code predict_masks} for each of many prompts on one prepared image (the official decoder's batch): the
     * prompts run side by side on the compute pool's threads, each exactly as
     * {@link #predict(PreparedImage, Tensor, int, int)} runs it alone, so every output is bitwise the one-prompt
     * output.
     *
     * @param sparse each prompt's tokens, [N_i, D]
     */
    public List<Output> predict(PreparedImage image, List<Tensor> sparse, int fromMask, int toMask) {
        Output[] out = new Output[sparse.size()];
        AtomicInteger next = new AtomicInteger();
        ComputePool.parallelFor(ComputePool.threads(), 1, (from, to) -> {
            for (int i = next.getAndIncrement(); i < out.length; i = next.getAndIncrement()) {
                out[i] = predict(image, sparse.get(i), fromMask, toMask);
            }
        });
        return List.of(out);
    }

    /**
     * {@code predict_masks} for one prompt on a prepared image, giving the logits and IoUs of mask tokens
     * [fromMask, toMask) only (the predictor's single mask is token 0, its multimask output tokens 1..3; a mask's
     * logits do not depend on which others are computed).
     *
     * @param image  from {@link #prepare} of this decoder
     * @param sparse the prompt tokens, [N, D]
     */
    public Output predict(PreparedImage image, Tensor sparse, int fromMask, int toMask) {
        if (!image.preparedBy(this)) {
            throw new IllegalArgumentException("the image was prepared by another mask decoder");
        }
        int m = maskTokens();
        if (fromMask < 0 || toMask > m || fromMask >= toMask) {
            throw new IllegalArgumentException("mask tokens [" + fromMask + ", " + toMask + ") of " + m);
        }
        int n = 1 + m + sparse.size(0);
        Tensor tokens = Tensor.zeros(DType.F32, n, dim);
        long row = (long) dim * Float.BYTES;
        MemorySegment.copy(iouToken.segment(), 0, tokens.segment(), 0, row);
        MemorySegment.copy(maskTokens.segment(), 0, tokens.segment(), row, m * row);
        MemorySegment.copy(sparse.segment(), 0, tokens.segment(), (1 + m) * row, sparse.size(0) * row);
        Tensor imagePe = image.imagePe;

        // TwoWayTransformer. The first block's image side is the prepared image's (keys = src, never written).
        Tensor queries = tokens.copy();
        Tensor keys = image.src;
        for (TwoWayBlock b : layers) {
            boolean first = b.skipFirstLayerPe();
            if (first) {
                queries = b.selfAttn().forward(queries, queries, queries);
            } else {
                Tensor q = plus(queries, tokens);
                Residual.add(b.selfAttn().forward(q, q, queries), queries);
            }
            Norms.layerNorm(queries, b.norm1Weight(), b.norm1Bias(), LN_EPS);
            Tensor q = plus(queries, tokens);
            Tensor k = first ? null : plus(keys, imagePe);
            Residual.add(first ? firstTokenToImage(b.crossAttnTokenToImage(), q, image)
                    : tokenToImage(b.crossAttnTokenToImage(), q, k, keys), queries);
            Norms.layerNorm(queries, b.norm2Weight(), b.norm2Bias(), LN_EPS);
            Tensor hidden = Gemm.linear(queries, b.mlpLin1Weight(), b.mlpLin1Bias());
            Activations.relu(hidden);
            Residual.add(Gemm.linear(hidden, b.mlpLin2Weight(), b.mlpLin2Bias()), queries);
            Norms.layerNorm(queries, b.norm3Weight(), b.norm3Bias(), LN_EPS);
            q = plus(queries, tokens);
            // keys + attn, summed into the attention's output (addition commutes exactly): src is never written
            Tensor updated = imageToToken(b.crossAttnImageToToken(), first ? image.firstImageQueries : null, k, q,
                    queries);
            Residual.add(keys, updated);
            keys = updated;
            Norms.layerNorm(keys, b.norm4Weight(), b.norm4Bias(), LN_EPS);
        }
        Tensor q = plus(queries, tokens);
        Residual.add(tokenToImage(finalAttnTokenToImage, q, plus(keys, imagePe), keys), queries);
        Norms.layerNorm(queries, normFinalAttnWeight, normFinalAttnBias, LN_EPS);

        // Upscaling (the second transposed conv straight to channel planes) and the hypernetworks
        int grid = image.grid;
        Tensor up = Conv2d.transposed(keys, grid, grid, 2, outputUpscaling0Filters, outputUpscaling0Bias);
        Norms.layerNorm(up, outputUpscaling1Weight, outputUpscaling1Bias, SamImageEncoder.EPS);
        Activations.gelu(up);
        Tensor planes = Conv2d.transposedChannelsFirst(up, 2 * grid, 2 * grid, 2, outputUpscaling3Filters,
                outputUpscaling3Bias);
        Activations.gelu(planes);
        int c8 = planes.size(0), count = toMask - fromMask, side = 4 * grid;
        Tensor hyperIn = Tensor.zeros(DType.F32, count, c8);
        for (int i = fromMask; i < toMask; i++) {
            Tensor h = outputHypernetworksMlps.get(i).forward(queries.slice(1 + i, 2 + i));
            MemorySegment.copy(h.segment(), 0, hyperIn.segment(), (long) (i - fromMask) * c8 * Float.BYTES,
                    (long) c8 * Float.BYTES);
        }
        Tensor masks = Tensor.zeros(DType.F32, count, (long) side * side);
        Gemm.matmul(hyperIn, planes.reshape(c8, (long) side * side), masks);
        float[] iou = iouPredictionHead.forward(queries.slice(0, 1)).toFloatArray();
        return new Output(masks.reshape(count, side, side), java.util.Arrays.copyOfRange(iou, fromMask, toMask));
    }

    /*
     * The cross attentions between T tokens and the N = g*g image rows, for H heads of d = C / H. Both run as GEMMs
     * over all heads at once, with the tokens' side laid out block-diagonally: row (h, t) of a [H*T, C] matrix holds
     * token t's head-h slice in head h's columns and zeros elsewhere (zeros add exact zeros to a dot product). Where
     * the image side would first be projected to C per prompt, the projection is moved to the tokens' side instead
     * (the same products, associated the other way): scores q_t . (W_k x_j + b_k) = (W_k^T q_t) . x_j + q_t . b_k and
     * out_proj(sum_j p_j (W_v y_j + b_v)) = W_o (W_v (sum_j p_j y_j) + b_v) (the p_j sum to 1), so each image row meets
     * H*T vectors of D instead of being projected to C: [N, D] x [D, H*T] products replace [N, D] x [D, C] ones
     * (H*T = 56 < C = 128, for SAM's 7 tokens and 8 heads).
     */

    /** Token-to-image attention of the first block, on the prepared image's keys (transposed) and values. */
    private static Tensor firstTokenToImage(AttentionLayer a, Tensor tokenQueries, PreparedImage image) {
        int heads = a.heads(), t = tokenQueries.size(0), n = image.firstValues.size(0), c = a.internal();
        Tensor qBlocks = blockDiagonal(a.queries(tokenQueries), heads);
        Tensor scores = Tensor.zeros(DType.F32, (long) heads * t, n);
        Gemm.matmul(qBlocks, image.firstKeysT, scores);
        softmaxRows(scores, null, a.scale());
        Tensor weighted = Tensor.zeros(DType.F32, (long) heads * t, c);
        Gemm.matmul(scores, image.firstValues, weighted);
        return Gemm.linear(diagonalBlocks(weighted, heads, t), a.outProjWeight(), a.outProjBias());
    }

    /** Token-to-image attention: the tokens' queries against the image rows (keys + pe), values from the keys. */
    private static Tensor tokenToImage(AttentionLayer a, Tensor tokenQueries, Tensor keysPe, Tensor keys) {
        int heads = a.heads(), t = tokenQueries.size(0), n = keys.size(0), d = keys.size(1);
        Tensor qBlocks = blockDiagonal(a.queries(tokenQueries), heads);
        // W_k^T q for every (head, token): [H*T, D], and q . b_k
        Tensor queriesIn = Tensor.zeros(DType.F32, (long) heads * t, d);
        Gemm.matmul(qBlocks, a.kRows(), queriesIn);
        float[] bias = rowDots(qBlocks, a.kBias());
        Tensor scores = Gemm.linear(queriesIn, keysPe, null);
        softmaxRows(scores, bias, a.scale());
        Tensor weighted = Tensor.zeros(DType.F32, (long) heads * t, d);
        Gemm.matmul(scores, keys, weighted);
        Tensor values = Gemm.linear(weighted, a.vProjWeight(), a.vProjBias());
        return Gemm.linear(diagonalBlocks(values, heads, t), a.outProjWeight(), a.outProjBias());
    }

    /**
     * Image-to-token attention: every image row (its projected queries when given, else keys + pe) against the
     * tokens' keys and values; the output projection applied to each token's values up front. [N, D].
     */
    private static Tensor imageToToken(AttentionLayer a, Tensor imageQueries, Tensor keysPe, Tensor tokenKeys,
                                       Tensor tokenValues) {
        int heads = a.heads(), t = tokenKeys.size(0), d = tokenKeys.size(1);
        Tensor kBlocks = blockDiagonal(a.keys(tokenKeys), heads);
        Tensor scores;
        if (imageQueries != null) {
            scores = Gemm.linear(imageQueries, kBlocks, null);
        } else {
            Tensor keysIn = Tensor.zeros(DType.F32, (long) heads * t, d);
            Gemm.matmul(kBlocks, a.qRows(), keysIn);
            scores = Gemm.linear(keysPe, keysIn, Tensor.wrap(rowDots(kBlocks, a.qBias()), (long) heads * t));
        }
        Softmax.softmaxGroups(scores, t, a.scale());
        // out_proj of each (head, token) value: [H*T, D], as the [D, H*T] weight of the last product
        Tensor projected = Gemm.linear(blockDiagonal(a.values(tokenValues), heads), a.outProjWeight(), null);
        Tensor weights = ChannelLayout.toChannelsFirst(projected, projected.dim(0), 1)
                .reshape(projected.dim(1), projected.dim(0));
        return Gemm.linear(scores, weights, a.outProjBias());
    }

    /** Token rows [T, C] (heads of C / H) as the block-diagonal [H*T, C]: row h*T + t keeps token t's head h. */
    private static Tensor blockDiagonal(Tensor x, int heads) {
        int t = x.size(0), c = x.size(1), hd = c / heads;
        float[] v = x.toFloatArray();
        float[] out = new float[heads * t * c];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < t; i++) {
                System.arraycopy(v, i * c + h * hd, out, (h * t + i) * c + h * hd, hd);
            }
        }
        return Tensor.wrap(out, (long) heads * t, c);
    }

    /** The inverse gather: [H*T, C] rows (h, t) to [T, C], token t's head h from row (h, t). */
    private static Tensor diagonalBlocks(Tensor x, int heads, int t) {
        int c = x.size(1), hd = c / heads;
        float[] v = x.toFloatArray();
        float[] out = new float[t * c];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < t; i++) {
                System.arraycopy(v, (h * t + i) * c + h * hd, out, i * c + h * hd, hd);
            }
        }
        return Tensor.wrap(out, t, c);
    }

    /** x [R, C] times the vector b [C]: R dot products. */
    private static float[] rowDots(Tensor x, float[] b) {
        int r = x.size(0), c = x.size(1);
        float[] v = x.toFloatArray();
        float[] out = new float[r];
        for (int i = 0; i < r; i++) {
            float sum = 0f;
            for (int j = 0; j < c; j++) {
                sum += v[i * c + j] * b[j];
            }
            out[i] = sum;
        }
        return out;
    }

    /** Each row of scores [R, N]: (row + bias[r]) / scale (no bias when null), then softmax, in place. */
    private static void softmaxRows(Tensor scores, float[] bias, float scale) {
        int rows = scores.size(0), n = scores.size(1);
        MemorySegment s = scores.segment();
        ComputePool.parallelFor(rows, 1, (from, to) -> {
            float[] row = new float[n + 64];
            for (int r = from; r < to; r++) {
                long off = (long) r * n * Float.BYTES;
                MemorySegment.copy(s, ValueLayout.JAVA_FLOAT_UNALIGNED, off, row, 0, n);
                float b = bias == null ? 0f : bias[r];
                for (int j = 0; j < n; j++) {
                    row[j] = (row[j] + b) / scale;
                }
                Softmax.softmax(row, n);
                MemorySegment.copy(row, 0, s, ValueLayout.JAVA_FLOAT_UNALIGNED, off, n);
            }
        });
    }

    private static Tensor plus(Tensor a, Tensor b) {
        Tensor out = a.copy();
        Residual.add(b, out);
        return out;
    }
}
