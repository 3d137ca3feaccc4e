package osprey4j.model.llm;

import osprey4j.core.io.Checkpoint;
import osprey4j.core.kernels.Norms;
import osprey4j.core.kernels.Residual;
import osprey4j.core.kernels.RotaryEmbedding;
import osprey4j.core.tensor.Tensor;

/**
 * Hugging Face's {@code LlamaDecoderLayer}: pre-norm attention and pre-norm MLP, each added to the residual
 * stream.
 */
final class LlamaDecoderLayer {
    /** [hidden] */
    final Tensor inputLayernorm;
    final LlamaAttention selfAttn;
    /** [hidden] */
    final Tensor postAttentionLayernorm;
    final LlamaMlp mlp;
    private final float eps;

    private LlamaDecoderLayer(Tensor inputLayernorm, LlamaAttention selfAttn, Tensor postAttentionLayernorm,
            LlamaMlp mlp, float eps) {
        this.inputLayernorm = inputLayernorm;
        this.selfAttn = selfAttn;
        this.postAttentionLayernorm = postAttentionLayernorm;
        this.mlp = mlp;
        this.eps = eps;
    }

    /** Loads {@code model.layers.<index>.*}. */
    static LlamaDecoderLayer load(Checkpoint ckpt, int index, LlamaConfig c, RotaryEmbedding rotary) {
        String prefix = "model.layers." + index;
        return new LlamaDecoderLayer(
                ckpt.weight(prefix + ".input_layernorm.weight", c.hiddenSize()),
                LlamaAttention.load(ckpt, prefix + ".self_attn", c, rotary),
                ckpt.weight(prefix + ".post_attention_layernorm.weight", c.hiddenSize()),
                LlamaMlp.load(ckpt, prefix + ".mlp", c),
                c.rmsNormEps());
    }

    /** Updates the residual stream {@code s.hidden} of tokens at positions firstPosition.. in place. */
    void forward(Scratch s, KvCache.Layer cache, int firstPosition) {
        Norms.rmsNorm(s.hidden, inputLayernorm, eps, s.normed);
        selfAttn.forward(s, cache, firstPosition);
        Residual.add(s.projected, s.hidden);
        Norms.rmsNorm(s.hidden, postAttentionLayernorm, eps, s.normed);
        mlp.forward(s);
        Residual.add(s.projected, s.hidden);
    }
}
