package osprey4j.model.llm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
        return 2L * layers.length * DType.F32.bytesFor((long) capacity * config.kvDim());
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

    /**
     * The keys and values of the first {@code n} cached positions, copied into garbage-collected memory, to start
     * later sequences that begin with the same n inputs ({@link #restore}) without computing them again.
     */
    public Prefix copyPrefix(int n) {
        if (n < 0 || n > length) {
            throw new IllegalArgumentException("cannot copy " + n + " positions of a cache holding " + length);
        }
        Tensor[] keys = new Tensor[layers.length];
        Tensor[] values = new Tensor[layers.length];
        for (int l = 0; l < layers.length; l++) {
            keys[l] = layers[l].keys().slice(0, n).copy();
            values[l] = layers[l].values().slice(0, n).copy();
        }
        return new Prefix(config, n, keys, values);
    }

    /**
     * Starts this cache over with the first {@code n} positions of {@code prefix}: afterwards it holds exactly
     * those n tokens, as if they had just been run through the model.
     */
    public void restore(Prefix prefix, int n) {
        if (prefix.config != config && (prefix.keys.length != layers.length || prefix.kvDim() != config.kvDim())) {
            throw new IllegalArgumentException("the prefix comes from a model of another shape");
        }
        if (n < 0 || n > prefix.length || n > capacity) {
            throw new IllegalArgumentException("cannot restore " + n + " positions from a prefix of " + prefix.length
                    + " into a cache of capacity " + capacity);
        }
        long bytes = (long) n * config.kvDim() * Float.BYTES;
        for (int l = 0; l < layers.length; l++) {
            MemorySegment.copy(prefix.keys[l].segment(), 0, layers[l].keys().segment(), 0, bytes);
            MemorySegment.copy(prefix.values[l].segment(), 0, layers[l].values().segment(), 0, bytes);
        }
        length = n;
    }

    /** Cached keys and values of a sequence's first {@link #length()} positions; see {@link #copyPrefix}. */
    public static final class Prefix {
        private final LlamaConfig config;
        private final int length;
        private final Tensor[] keys;
        private final Tensor[] values;

        private Prefix(LlamaConfig config, int length, Tensor[] keys, Tensor[] values) {
            this.config = config;
            this.length = length;
            this.keys = keys;
            this.values = values;
        }

        /** Positions held. */
        public int length() {
            return length;
        }

        /** Bytes of keys and values held. */
        public long byteSize() {
            long bytes = 0;
            for (int l = 0; l < keys.length; l++) {
                bytes += keys[l].byteSize() + values[l].byteSize();
            }
            return bytes;
        }

        private long kvDim() {
            return keys.length == 0 ? 0 : keys[0].dim(1);
        }
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
