package osprey4j.model.llm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import osprey4j.core.kernels.PagedRows;
import osprey4j.core.kernels.Quantize;
import osprey4j.core.kernels.VectorConvert;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The keys and values every layer has computed so far, so that each new token attends to the earlier ones
 * without recomputing them (Hugging Face's {@code past_key_values}). Keys are stored after the rotary
 * embedding, as the reference caches them.
 *
 * <p><b>Element type.</b> F32 (the reference's arithmetic, bit for bit), BF16 (what the reference keeps when it runs
 * the LLM in bf16, as it is deployed), F16, or Q8_0 (GGML's blocks of 32 values with an F16 scale, as llama.cpp's
 * {@code --cache-type-k/v q8_0}; head_dim must be a whole number of blocks); the model chooses
 * ({@link Llama#kvCacheType()}). A 16-bit cache is rounded to nearest-even when written and widened back to float in
 * registers when read; a Q8_0 cache quantises each head's values as {@link Quantize} does weights. LLaMA-7B needs
 * 1 MiB per position in F32, 0.5 MiB in BF16 or F16, 0.27 MiB in Q8_0 (a quarter of that with 4x grouped-query
 * attention).
 *
 * <p><b>Pages.</b> Storage comes in pages of {@link #PAGE_POSITIONS} positions (every layer's keys and values of
 * those positions in one allocation), allocated as the sequence grows, so a cache costs memory for the positions it
 * holds, not for its capacity. Pages are reference counted: {@link #prefix} hands the first n positions to a
 * {@link Prefix} without copying them, and {@link #restore} starts another cache on those same pages. A page that
 * more than one holder uses is never written: a cache about to write into it copies it first (copy on write), so
 * a prefix stays exactly what it was when taken, whatever the caches built on it do afterwards.
 *
 * <p>A cache belongs to one sequence and is not thread-safe; prefixes may be shared by many threads. Create one
 * with {@link Llama#newCache(int)}; {@link #close()} releases its pages.
 */
public final class KvCache implements AutoCloseable {
    /**
     * Positions per page: 8 MiB pages for LLaMA-7B in BF16. A cache holds at most one page more than its positions
     * need, and copies at most one page of a prefix it shares (64-position pages cost 48 MiB more at a 7B question).
     */
    static final int PAGE_POSITIONS = 16;

    private static final Cleaner PREFIX_CLEANER = Cleaner.create();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Every layer's keys and values of {@link #PAGE_POSITIONS} positions; freed when its last holder lets go. */
    private static final class Page {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment segment;
        private final AtomicInteger holders = new AtomicInteger(1);

        Page(long bytes) {
            segment = arena.allocate(bytes, 64);
        }

        /** Another holder; only called by a holder, so the page is alive. */
        Page retain() {
            holders.incrementAndGet();
            return this;
        }

        void release() {
            if (holders.decrementAndGet() == 0) {
                arena.close();
            }
        }

        boolean shared() {
            return holders.get() > 1;
        }
    }

    private final LlamaConfig config;
    private final DType dtype;
    private final int capacity;
    /** Bytes of one layer's keys (or values) in a page. */
    private final long layerBytes;
    /** Pages by index; null where not yet allocated. */
    private final Page[] pages;
    /** Per layer, the key and value slices of each allocated page (the views {@link Layer} hands to attention). */
    private final MemorySegment[][] keyPages;
    private final MemorySegment[][] valuePages;
    private final Layer[] layers;
    private final Arena scratchArena = Arena.ofShared();
    /** One row of keys or values in float, where a Q8_0 cache quantises it from; null for the other types. */
    private final float[] rowToQuantize;
    private int length;
    private boolean closed;
    /** Buffers of single-token steps, kept so that decoding allocates nothing per token. */
    private Scratch decodeScratch;

    KvCache(LlamaConfig config, int capacity, DType dtype) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("a KV cache needs room for at least one token, got " + capacity);
        }
        if (capacity > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("a KV cache of " + capacity + " tokens exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings() + " of the model");
        }
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16 && dtype != DType.Q8_0) {
            throw new IllegalArgumentException("a KV cache holds F32, BF16, F16 or Q8_0, not " + dtype);
        }
        if (config.headDim() % dtype.blockSize() != 0) {
            throw new IllegalArgumentException("a " + dtype + " KV cache needs head_dim to be a multiple of "
                    + dtype.blockSize() + "; this model's is " + config.headDim());
        }
        this.config = config;
        this.dtype = dtype;
        this.capacity = capacity;
        this.layerBytes = dtype.bytesFor((long) PAGE_POSITIONS * config.kvDim());
        this.rowToQuantize = dtype.isBlockQuantized() ? new float[config.kvDim()] : null;
        int pageCount = Math.ceilDiv(capacity, PAGE_POSITIONS);
        this.pages = new Page[pageCount];
        int layerCount = config.numHiddenLayers();
        this.keyPages = new MemorySegment[layerCount][pageCount];
        this.valuePages = new MemorySegment[layerCount][pageCount];
        this.layers = new Layer[layerCount];
        for (int l = 0; l < layerCount; l++) {
            layers[l] = new Layer(l);
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

    /** The element type of the stored keys and values. */
    public DType dtype() {
        return dtype;
    }

    /** Bytes of key/value storage this cache holds now (pages shared with prefixes or other caches included). */
    public long byteSize() {
        long bytes = 0;
        for (Page p : pages) {
            if (p != null) {
                bytes += p.segment.byteSize();
            }
        }
        return bytes;
    }

    /** Bytes of a page: every layer's keys and values of {@link #PAGE_POSITIONS} positions. */
    private long pageBytes() {
        return 2 * layerBytes * layers.length;
    }

    /**
     * Forgets every token from position {@code newLength} on, e.g. to ask another question after a shared
     * prefix (the image) without encoding that prefix again. The storage is kept for the positions written next.
     */
    public void truncate(int newLength) {
        checkOpen();
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " tokens to " + newLength);
        }
        length = newLength;
    }

    /**
     * The keys and values of the first {@code n} cached positions, for later sequences that begin with the same n
     * inputs ({@link #restore}). The prefix shares this cache's pages instead of copying them; they stay allocated
     * until the prefix is closed or garbage-collected and no cache uses them.
     */
    public Prefix prefix(int n) {
        checkOpen();
        if (n < 0 || n > length) {
            throw new IllegalArgumentException("cannot take " + n + " positions of a cache holding " + length);
        }
        Page[] held = new Page[Math.ceilDiv(n, PAGE_POSITIONS)];
        for (int p = 0; p < held.length; p++) {
            held[p] = pages[p].retain();
        }
        return new Prefix(config, dtype, layerBytes, n, held);
    }

    /**
     * Starts this cache over with the first {@code n} positions of {@code prefix}: afterwards it holds exactly
     * those n tokens, as if they had just been run through the model. Shares the prefix's pages.
     */
    public void restore(Prefix prefix, int n) {
        checkOpen();
        if (!prefix.config.equals(config) || prefix.dtype != dtype) {
            throw new IllegalArgumentException("the prefix comes from a model of another shape or a cache of another"
                    + " element type (" + prefix.dtype + ", this cache holds " + dtype + ")");
        }
        if (n < 0 || n > prefix.length || n > capacity) {
            throw new IllegalArgumentException("cannot restore " + n + " positions from a prefix of " + prefix.length
                    + " into a cache of capacity " + capacity);
        }
        Page[] source = prefix.pagesOrThrow();
        int shared = Math.ceilDiv(n, PAGE_POSITIONS);
        for (int p = 0; p < shared; p++) {
            setPage(p, source[p].retain());
        }
        length = n;
    }

    /** Keys and values of a sequence's first {@link #length()} positions; see {@link #prefix}. */
    public static final class Prefix implements AutoCloseable {
        private final LlamaConfig config;
        private final DType dtype;
        private final long layerBytes;
        private final int length;
        private volatile Page[] pages;
        private final Cleaner.Cleanable cleanable;

        private Prefix(LlamaConfig config, DType dtype, long layerBytes, int length, Page[] pages) {
            this.config = config;
            this.dtype = dtype;
            this.layerBytes = layerBytes;
            this.length = length;
            this.pages = pages;
            Page[] toRelease = pages; // the cleaning action must not reach the prefix itself
            this.cleanable = PREFIX_CLEANER.register(this, () -> {
                for (Page p : toRelease) {
                    p.release();
                }
            });
        }

        /** Positions held. */
        public int length() {
            return length;
        }

        /** The element type of the keys and values. */
        public DType dtype() {
            return dtype;
        }

        /** Bytes of the pages holding the keys and values (shared with caches that use them). */
        public long byteSize() {
            Page[] p = pages;
            return p == null ? 0 : 2 * layerBytes * config.numHiddenLayers() * p.length;
        }

        /** Lets go of the pages now instead of when garbage-collected; the prefix cannot be restored afterwards. */
        @Override
        public void close() {
            pages = null;
            cleanable.clean();
        }

        private Page[] pagesOrThrow() {
            Page[] p = pages;
            if (p == null) {
                throw new IllegalStateException("the prefix was closed");
            }
            return p;
        }
    }

    /** One layer's view of the cache: where its new keys and values go, and the rows attention reads. */
    final class Layer {
        private final int index;

        private Layer(int index) {
            this.index = index;
        }

        /**
         * Stores the keys and values of {@code n} positions from {@code first} on (F32 [n, kv_dim] each), rounded to
         * the cache's element type. {@link #reserve} must have made room for them.
         */
        void write(int first, Tensor keys, Tensor values) {
            int n = keys.size(0);
            long rowElements = config.kvDim();
            MemorySegment ks = keys.segment(), vs = values.segment();
            for (int r = 0; r < n; r++) {
                int position = first + r;
                int page = position / PAGE_POSITIONS;
                long at = dtype.bytesFor((position % PAGE_POSITIONS) * rowElements);
                long from = r * rowElements * Float.BYTES;
                storeRow(ks, from, keyPages[index][page], at, rowElements);
                storeRow(vs, from, valuePages[index][page], at, rowElements);
            }
        }

        /** The keys of the first {@code rows} positions. */
        PagedRows keys(int rows) {
            return new PagedRows(dtype, config.kvDim(), PAGE_POSITIONS, keyPages[index], rows);
        }

        /** The values of the first {@code rows} positions. */
        PagedRows values(int rows) {
            return new PagedRows(dtype, config.kvDim(), PAGE_POSITIONS, valuePages[index], rows);
        }
    }

    private void storeRow(MemorySegment src, long srcOffset, MemorySegment page, long dstOffset, long elements) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, srcOffset, page, dstOffset, elements * Float.BYTES);
            case BF16, F16 -> VectorConvert.fromFloats(dtype, src, srcOffset, page, dstOffset, elements);
            case Q8_0 -> {
                int n = Math.toIntExact(elements);
                MemorySegment.copy(src, FLOAT, srcOffset, rowToQuantize, 0, n);
                Quantize.quantizeRow(dtype, rowToQuantize, 0, n, page, dstOffset);
            }
            default -> throw new IllegalStateException("no KV storage for " + dtype);
        }
    }

    /**
     * Makes positions {@code length .. length + n - 1} writable: allocates their pages, and copies any page there
     * that a prefix or another cache also holds (its earlier positions are kept; the rest will be overwritten).
     */
    void reserve(int n) {
        checkOpen();
        if ((long) length + n > capacity) {
            throw new IllegalArgumentException(n + " more tokens do not fit in the KV cache (" + length + " of "
                    + capacity + " positions used)");
        }
        if (n <= 0) {
            return;
        }
        for (int p = length / PAGE_POSITIONS; p <= (length + n - 1) / PAGE_POSITIONS; p++) {
            Page page = pages[p];
            if (page == null) {
                setPage(p, new Page(pageBytes()));
            } else if (page.shared()) {
                Page copy = new Page(pageBytes());
                MemorySegment.copy(page.segment, 0, copy.segment, 0, pageBytes());
                setPage(p, copy);
            }
        }
    }

    /** Puts {@code page} at index p (this cache already holds it), releasing what was there. */
    private void setPage(int p, Page page) {
        Page old = pages[p];
        pages[p] = page;
        for (int l = 0; l < layers.length; l++) {
            long base = 2 * layerBytes * l;
            keyPages[l][p] = page.segment.asSlice(base, layerBytes);
            valuePages[l][p] = page.segment.asSlice(base + layerBytes, layerBytes);
        }
        if (old != null) {
            old.release();
        }
    }

    /** Releases this cache's pages (prefixes taken from it keep theirs); the cache must not be used afterwards. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int p = 0; p < pages.length; p++) {
            if (pages[p] != null) {
                pages[p].release();
                pages[p] = null;
            }
        }
        for (MemorySegment[] row : keyPages) {
            Arrays.fill(row, null);
        }
        for (MemorySegment[] row : valuePages) {
            Arrays.fill(row, null);
        }
        scratchArena.close();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the KV cache was closed");
        }
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
        checkOpen();
        if (n == 1) {
            if (decodeScratch == null) {
                decodeScratch = new Scratch(config, 1, capacity, scratchArena);
            }
            return decodeScratch;
        }
        return new Scratch(config, n, capacity, null);
    }
}
