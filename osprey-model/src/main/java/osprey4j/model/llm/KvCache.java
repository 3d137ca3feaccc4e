package osprey4j.model.llm;

import java.lang.foreign.Arena;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The keys and values every layer has computed so far, so that each new token attends to the earlier ones
 * without recomputing them (Hugging Face's {@code past_key_values}). Keys are stored after the rotary
 * embedding, as the reference caches them.
 *
 * <p>Storage is F32, allocated up front for {@link #capacity()} positions in off-heap memory that
 * {@link #close()} releases: 2 x layers x capacity x num_key_value_heads x head_dim x 4 bytes, i.e.
 * 1 MiB per position for LLaMA-7B (2 GiB for 2048 positions), a quarter of that with 4x grouped-query
 * attention. See {@link #byteSize()}.
 *
 * <p>A cache belongs to one sequence and is not thread-safe. Create one with {@link Llama#newCache(int)}.
 */
public final class KvCache implements AutoCloseable {
    /** One layer's keys and values, each [capacity, num_key_value_heads x head_dim]. */
    record Layer(Tensor keys, Tensor values) {
    }

    private final Arena arena = Arena.ofShared();
    private final LlamaConfig config;
    private final Layer[] layers;
    private final int capacity;
    private int length;
    /** Buffers of single-token steps, kept so that decoding allocates nothing per token. */
    private Scratch decodeScratch;

    KvCache(LlamaConfig config, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("a KV cache needs room for at least one token, got " + capacity);
        }
        if (capacity > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("a KV cache of " + capacity + " tokens exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings() + " of the model");
        }
        this.config = config;
        this.capacity = capacity;
        this.layers = new Layer[config.numHiddenLayers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new Layer(Tensor.zeros(arena, DType.F32, capacity, config.kvDim()),
                    Tensor.zeros(arena, DType.F32, capacity, config.kvDim()));
        }
    }

    /** Tokens cached so far: the position the next token will have. */
    public int length() {
        return length;
    }

    /** Tokens the cache can hold. */
    public int capacity() {
        return capacity;
    }

    /** Bytes of key/value storage held off-heap. */
    public long byteSize() {
        return 2L * layers.length * capacity * config.kvDim() * Float.BYTES;
    }

    /**
     * Forgets every token from position {@code newLength} on, e.g. to ask another question after a shared
     * prefix (the image) without encoding that prefix again.
     */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " tokens to " + newLength);
        }
        length = newLength;
    }

    /** Releases the storage; the cache must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }

    Layer layer(int index) {
        return layers[index];
    }

    int layerCount() {
        return layers.length;
    }

    LlamaConfig config() {
        return config;
    }

    /** Counts {@code n} more tokens as cached, once every layer has written them. */
    void advance(int n) {
        length += n;
    }

    /** Buffers for a step of {@code n} tokens: kept for n == 1, fresh (and closed by the caller) otherwise. */
    Scratch scratch(int n) {
        if (n == 1) {
            if (decodeScratch == null) {
                decodeScratch = new Scratch(config, 1, capacity, arena);
            }
            return decodeScratch;
        }
        return new Scratch(config, n, capacity, null);
    }
}
