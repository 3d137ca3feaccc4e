package osprey4j.model.llm;

import java.lang.foreign.Arena;
import osprey4j.core.kernels.Attention;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The activations of one forward step of {@code n} tokens, allocated once and reused by every layer. The
 * names follow the reference's variables; shapes are [n, width] F32.
 */
final class Scratch implements AutoCloseable {
    /** The residual stream ({@code hidden_states}). */
    final Tensor hidden;
    /** RMSNorm output fed to the attention or the MLP. */
    final Tensor normed;
    final Tensor query;
    final Tensor key;
    final Tensor value;
    /** query, key as [n, heads, head_dim] for the rotary embedding. */
    final Tensor queryHeads;
    final Tensor keyHeads;
    /** Attention output per head, concatenated: [n, heads x head_dim]. */
    final Tensor attnOutput;
    /** Output of o_proj or down_proj, added to the residual stream. */
    final Tensor projected;
    final Tensor gate;
    final Tensor up;
    /** Per attention worker: the scores of one query against every cached key, and its output row. */
    final Attention.Workspace attention;

    private final Arena ownArena;

    /**
     * @param keys  capacity of the KV cache (the longest score row)
     * @param arena where to allocate; null to allocate in an arena of its own that {@link #close()} frees
     */
    Scratch(LlamaConfig c, int n, int keys, Arena arena) {
        this.ownArena = arena == null ? Arena.ofShared() : null;
        Arena a = arena == null ? ownArena : arena;
        int heads = c.numAttentionHeads();
        int headDim = c.headDim();
        hidden = Tensor.zeros(a, DType.F32, n, c.hiddenSize());
        normed = Tensor.zeros(a, DType.F32, n, c.hiddenSize());
        query = Tensor.zeros(a, DType.F32, n, heads * headDim);
        key = Tensor.zeros(a, DType.F32, n, c.kvDim());
        value = Tensor.zeros(a, DType.F32, n, c.kvDim());
        queryHeads = query.reshape(n, heads, headDim);
        keyHeads = key.reshape(n, c.numKeyValueHeads(), headDim);
        attnOutput = Tensor.zeros(a, DType.F32, n, heads * headDim);
        projected = Tensor.zeros(a, DType.F32, n, c.hiddenSize());
        gate = Tensor.zeros(a, DType.F32, n, c.intermediateSize());
        up = Tensor.zeros(a, DType.F32, n, c.intermediateSize());
        attention = new Attention.Workspace(keys, headDim);
    }

    int rows() {
        return hidden.size(0);
    }

    @Override
    public void close() {
        if (ownArena != null) {
            ownArena.close();
        }
    }
}
