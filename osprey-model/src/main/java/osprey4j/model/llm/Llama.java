package osprey4j.model.llm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.Norms;
import osprey4j.core.kernels.RotaryEmbedding;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The LLaMA / Vicuna decoder of Osprey, as Hugging Face's {@code LlamaForCausalLM} (transformers 4.31):
 * token embedding, {@code num_hidden_layers} decoder layers, final RMSNorm and the output head.
 *
 * <p>Input is given as embeddings [n, hidden] rather than ids, so that the image tokens and the region
 * ({@code <mask>}, {@code <pos>}) tokens can be spliced in between embedded text; {@link #embed} embeds ids.
 * Each forward call appends its n tokens to a {@link KvCache} and attends to everything cached before them.
 *
 * <p>Weights are used where the checkpoint maps them, in their stored dtype (a BF16 checkpoint stays BF16:
 * no float copy of the model is made); the kernels convert them in registers. The tensors are views of the
 * checkpoint's mapping, so the checkpoint must stay open as long as this model is used. Activations are F32.
 *
 * <p>A model may serve several sequences from several threads, each with its own cache; one cache is used by
 * one thread at a time.
 */
public final class Llama {
    /** [vocab, hidden] */
    final Tensor embedTokens;
    final LlamaDecoderLayer[] layers;
    /** [hidden] */
    final Tensor norm;
    /** [vocab, hidden]; the embedding matrix itself when the embeddings are tied. */
    final Tensor lmHead;
    private final LlamaConfig config;
    private final DType kvCacheType;

    /**
     * The system property that sets the KV cache's element type for every model loaded afterwards: {@code f32},
     * {@code bf16}, {@code f16}, {@code q8_0} or {@code auto} (the default; see {@link #kvCacheType()}).
     */
    public static final String KV_CACHE_PROPERTY = "osprey.kvCache";

    private Llama(LlamaConfig config, Tensor embedTokens, LlamaDecoderLayer[] layers, Tensor norm, Tensor lmHead) {
        this.config = config;
        this.embedTokens = embedTokens;
        this.layers = layers;
        this.norm = norm;
        this.lmHead = lmHead;
        this.kvCacheType = chooseKvCacheType(System.getProperty(KV_CACHE_PROPERTY, "auto"),
                layers.length > 0 && layers[0].selfAttn.qProj.dtype().isBlockQuantized(), config.headDim());
    }

    /**
     * The cache type for a property value. {@code auto}: F32 for float weights; for block-quantised weights Q8_0
     * where head_dim is a whole number of its 32-value blocks, else BF16. {@code q8_0} on a model whose head_dim is
     * not is refused.
     */
    static DType chooseKvCacheType(String property, boolean quantized, int headDim) {
        boolean q8Fits = headDim % DType.Q8_0.blockSize() == 0;
        return switch (property.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "auto", "" -> !quantized ? DType.F32 : q8Fits ? DType.Q8_0 : DType.BF16;
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            case "q8_0" -> {
                if (!q8Fits) {
                    throw new IllegalArgumentException("-D" + KV_CACHE_PROPERTY + "=q8_0 needs head_dim to be a"
                            + " multiple of 32; this model's is " + headDim + " (use bf16 or f16)");
                }
                yield DType.Q8_0;
            }
            default -> throw new IllegalArgumentException("-D" + KV_CACHE_PROPERTY + "=" + property
                    + " is not a KV cache type: use f32, bf16, f16, q8_0 or auto");
        };
    }

    /**
     * The element type of the KV caches {@link #newCache(int)} makes. By default F32 for F32, BF16 and F16 weights,
     * so that the attention is the reference's float32 arithmetic. For block-quantised weights (Q8_0, Q4_0), whose
     * users trade exactness for memory, Q8_0 (0.27 of F32, as llama.cpp's {@code --cache-type-k/v q8_0}; its
     * rounding is a few percent of the Q4_0 weights' own, see {@code KvCacheQualityTest}) where head_dim is a whole
     * number of 32-value blocks, else BF16 (half of F32, as the reference keeps it when it runs the LLM in bf16).
     * {@code -Dosprey.kvCache=f32|bf16|f16|q8_0} chooses for every model.
     */
    public DType kvCacheType() {
        return kvCacheType;
    }

    /**
     * Takes the decoder's weights from {@code checkpoint} under their Hugging Face names
     * ({@code model.embed_tokens.weight}, {@code model.layers.N.*}, {@code model.norm.weight},
     * {@code lm_head.weight} unless tied); other tensors (an Osprey checkpoint's vision tower, projector and mask
     * extractor) are left alone. Every shape is checked against {@code config}; a mismatch names the key, the
     * shape found and the one expected.
     */
    public static Llama load(Checkpoint checkpoint, LlamaConfig config) {
        int hidden = config.hiddenSize();
        int vocab = config.vocabSize();
        RotaryEmbedding rotary = new RotaryEmbedding(config.headDim(), config.ropeTheta(),
                config.maxPositionEmbeddings());
        Tensor embed = checkpoint.weight("model.embed_tokens.weight", vocab, hidden);
        LlamaDecoderLayer[] layers = new LlamaDecoderLayer[config.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = LlamaDecoderLayer.load(checkpoint, i, config, rotary);
        }
        Tensor norm = checkpoint.weight("model.norm.weight", hidden);
        Tensor head = config.tieWordEmbeddings() ? embed : checkpoint.linearWeight("lm_head.weight", vocab, hidden);
        return new Llama(config, embed, layers, norm, head);
    }

    /** Keys of the decoder's Linear weights: {@code model.layers.N.self_attn.(q|k|v|o)_proj} and {@code mlp.(gate|up|down)_proj}. */
    private static final java.util.regex.Pattern LAYER_LINEAR = java.util.regex.Pattern.compile(
            "model\\.layers\\.\\d+\\.(self_attn\\.[qkvo]_proj|mlp\\.(gate|up|down)_proj)\\.weight");

    /**
     * True for the state-dict keys of the decoder's {@code Linear} weights, the ones {@link #load} accepts in a
     * block-quantised type: the attention and MLP projections of every layer, and {@code lm_head.weight} when
     * {@code withHead}. Embeddings and norms are not products and stay in a float type.
     */
    public static boolean isLinearWeightKey(String key, boolean withHead) {
        return LAYER_LINEAR.matcher(key).matches() || withHead && key.equals("lm_head.weight");
    }

    public LlamaConfig config() {
        return config;
    }

    /** A cache for a sequence of up to {@code maxTokens} tokens (at most max_position_embeddings). */
    public KvCache newCache(int maxTokens) {
        return new KvCache(config, maxTokens, kvCacheType);
    }

    /**
     * A cache for up to {@code maxTokens} tokens holding its keys and values as {@code dtype} (F32, BF16, F16, or
     * Q8_0 where head_dim is a multiple of 32).
     */
    public KvCache newCache(int maxTokens, DType dtype) {
        return new KvCache(config, maxTokens, dtype);
    }

    /** The embeddings of {@code ids}: F32 [n, hidden], each row converted from the stored dtype. */
    public Tensor embed(int[] ids) {
        int hidden = config.hiddenSize();
        Tensor out = Tensor.zeros(DType.F32, ids.length, hidden);
        for (int r = 0; r < ids.length; r++) {
            int id = ids[r];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " at index " + r + " is outside the embedding's "
                        + config.vocabSize() + " rows (ids such as the image placeholder -200 or <mask>/<pos> "
                        + "must be replaced by their embeddings, not looked up)");
            }
            MemorySegment.copy(embedTokens.row(id).toFloatArray(), 0, out.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED,
                    (long) r * hidden * Float.BYTES, hidden);
        }
        return out;
    }

    /**
     * The most positions run through the layers in one step. A longer input is split into nearly equal chunks of at
     * most this many, run one after the other, so the activations of a step stay bounded (LLaMA-7B: about 200 KB per
     * position, 220 MB for a 1087-position prompt at once, 75 MB in chunks). Each chunk attends to the cache the
     * earlier ones filled, so the result is that of one step up to the rounding of the products (of a few rows
     * fewer each). {@code -Dosprey.prefillChunk=N} sets it.
     */
    static final int PREFILL_CHUNK = Math.max(1, Integer.getInteger("osprey.prefillChunk", 512));

    /**
     * Runs the n tokens whose embeddings are given (F32 [n, hidden]) after those already in {@code cache},
     * appends them to the cache, and returns the logits of the last one ([vocab], float32).
     */
    public float[] forward(Tensor embeddings, KvCache cache) {
        return forward(embeddings, cache, PREFILL_CHUNK);
    }

    /** {@link #forward(Tensor, KvCache)} with chunks of at most {@code chunk} positions. */
    float[] forward(Tensor embeddings, KvCache cache, int chunk) {
        int n = checkInput(embeddings, cache);
        float[] logits = new float[config.vocabSize()];
        forEachChunk(embeddings, n, chunk, cache, (s, first, rows) -> {
            if (first + rows == n) {
                Tensor last = s.hidden.slice(rows - 1, rows);
                Tensor lastNormed = s.normed.slice(rows - 1, rows);
                Norms.rmsNorm(last, norm, config.rmsNormEps(), lastNormed);
                Gemm.linear(lastNormed, lmHead, null, Tensor.wrap(logits, 1, logits.length));
            }
        });
        return logits;
    }

    /**
     * As {@link #forward}, but returns the logits of every one of the n tokens: F32 [n, vocab], row i
     * predicting the token after input i.
     */
    public Tensor forwardAll(Tensor embeddings, KvCache cache) {
        return forwardAll(embeddings, cache, PREFILL_CHUNK);
    }

    /** {@link #forwardAll(Tensor, KvCache)} with chunks of at most {@code chunk} positions. */
    Tensor forwardAll(Tensor embeddings, KvCache cache, int chunk) {
        int n = checkInput(embeddings, cache);
        Tensor out = Tensor.zeros(DType.F32, n, config.vocabSize());
        forEachChunk(embeddings, n, chunk, cache, (s, first, rows) -> {
            Norms.rmsNorm(s.hidden, norm, config.rmsNormEps(), s.normed);
            Gemm.linear(s.normed, lmHead, null, out.slice(first, first + rows));
        });
        return out;
    }

    /** What to do with a chunk's final hidden states ({@code s.hidden}) before its scratch is released. */
    private interface ChunkDone {
        void accept(Scratch s, int first, int rows);
    }

    /** Runs the n rows in nearly equal chunks of at most {@code chunk}, each through {@link #decode}. */
    private void forEachChunk(Tensor embeddings, int n, int chunk, KvCache cache, ChunkDone done) {
        if (chunk <= 0) {
            throw new IllegalArgumentException("chunks need at least one position, got " + chunk);
        }
        int pieces = Math.ceilDiv(n, chunk);
        for (int p = 0, first = 0; p < pieces; p++) {
            int rows = n / pieces + (p < n % pieces ? 1 : 0);
            try (Scratch s = cache.scratch(rows)) {
                decode(embeddings.slice(first, first + rows), cache, s);
                done.accept(s, first, rows);
            }
            first += rows;
        }
    }

    /** Runs the decoder layers over the n tokens (left in s.hidden), then counts them as cached. */
    private void decode(Tensor embeddings, KvCache cache, Scratch s) {
        int position = cache.length();
        cache.reserve(s.rows());
        MemorySegment.copy(embeddings.segment(), 0, s.hidden.segment(), 0, s.hidden.byteSize());
        for (int l = 0; l < layers.length; l++) {
            layers[l].forward(s, cache.layer(l), position);
        }
        cache.advance(s.rows());
    }

    private int checkInput(Tensor embeddings, KvCache cache) {
        if (embeddings.dtype() != DType.F32 || embeddings.rank() != 2 || embeddings.dim(1) != config.hiddenSize()) {
            throw new IllegalArgumentException("the decoder takes F32 embeddings [n, " + config.hiddenSize() + "], got "
                    + embeddings.dtype() + " " + Arrays.toString(embeddings.shape()));
        }
        int n = embeddings.size(0);
        if (n == 0) {
            throw new IllegalArgumentException("no embeddings to run");
        }
        if (!cache.config().equals(config) || cache.layerCount() != layers.length) {
            throw new IllegalArgumentException("the KV cache was made for another model configuration");
        }
        if (cache.length() + n > cache.capacity()) {
            throw new IllegalArgumentException(n + " more tokens do not fit in the KV cache (" + cache.length()
                    + " of " + cache.capacity() + " positions used)");
        }
        return n;
    }
}
