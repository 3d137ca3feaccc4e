package osprey4j.model;

import java.lang.foreign.MemorySegment;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.llm.KvCache;
import osprey4j.model.vision.ConvNextTower;

/**
 * An image encoded once by {@link Osprey#encode}: its preprocessed pixels, the vision tower's feature maps (kept
 * for mask pooling, which every region of every question needs) and the projected image tokens. Asking any
 * number of questions about any regions of the image reuses all of it; only the regions' mask and position
 * tokens and the LLM run per question.
 *
 * <p>The session also keeps the LLM's keys and values for the start of the last prompt, up to the end of the
 * image tokens (the system sentence, {@code USER:} and the image), so the next question, which starts the same
 * way, prefills only its own tokens. Holds the feature maps of one image (for Osprey-7B at 512x512: about 12 MB of
 * F32 features plus 16 MB of image tokens) and that prefix: the KV cache pages of the question that left it, shared
 * rather than copied (for LLaMA-7B 1 MiB per position in an F32 cache, half that in BF16: some 1.1 or 0.55 GB for
 * the usual 1050-position prefix), all released when the session is garbage-collected.
 */
public final class ImageSession {
    private final int width;
    private final int height;
    private final Tensor pixelValues;
    private final ConvNextTower.Features features;
    private final Tensor imageTokens;
    private final double encodeMs;
    /** The start of the last prompt and its cached keys and values; null until a question was asked. */
    private volatile PromptPrefix prefix;

    /** Input embeddings [n, hidden] of a prompt's first n positions, and the LLM's cache of them. */
    record PromptPrefix(Tensor embeddings, KvCache.Prefix cache) {
        /**
         * How many leading positions of {@code embeddings} equal this prefix's, bit for bit: their keys and values
         * are this prefix's too.
         */
        int sharedWith(Tensor other) {
            return sharedRows(embeddings, other);
        }
    }

    /** How many leading rows of two F32 [n, hidden] tensors are equal, bit for bit. */
    static int sharedRows(Tensor a, Tensor b) {
        long rowBytes = a.dim(1) * Float.BYTES;
        long n = Math.min(a.dim(0), b.dim(0));
        if (b.dim(1) != a.dim(1) || n == 0) {
            return 0;
        }
        long mismatch = MemorySegment.mismatch(a.segment(), 0, n * rowBytes, b.segment(), 0, n * rowBytes);
        return (int) (mismatch < 0 ? n : mismatch / rowBytes);
    }

    ImageSession(int width, int height, Tensor pixelValues, ConvNextTower.Features features, Tensor imageTokens,
                 double encodeMs) {
        this.width = width;
        this.height = height;
        this.pixelValues = pixelValues;
        this.features = features;
        this.imageTokens = imageTokens;
        this.encodeMs = encodeMs;
    }

    /** Width of the original image in pixels; masks must have this width. */
    public int width() {
        return width;
    }

    /** Height of the original image in pixels; masks must have this height. */
    public int height() {
        return height;
    }

    /** The preprocessed image, F32 [3, size, size]. */
    public Tensor pixelValues() {
        return pixelValues;
    }

    /** The vision tower's feature maps (stem, res2..res5), each F32 [C, H, W]. */
    public ConvNextTower.Features features() {
        return features;
    }

    /** The projected image tokens, F32 [tokens, hidden]: what replaces {@code <image>} in the prompt. */
    public Tensor imageTokens() {
        return imageTokens;
    }

    PromptPrefix prefix() {
        return prefix;
    }

    void prefix(PromptPrefix p) {
        prefix = p;
    }

    /**
     * Bytes this session holds: the preprocessed pixels, the feature maps, the image tokens and the cached prompt
     * prefix (its embeddings and keys/values), which appears after the first question. For memory budgets.
     */
    public long byteSize() {
        long bytes = pixelValues.byteSize() + imageTokens.byteSize() + features.stem().byteSize()
                + features.res2().byteSize() + features.res3().byteSize() + features.res4().byteSize()
                + features.res5().byteSize();
        PromptPrefix p = prefix;
        if (p != null) {
            bytes += p.embeddings().byteSize() + p.cache().byteSize();
        }
        return bytes;
    }

    /** How long encoding took, in milliseconds. */
    public double encodeMs() {
        return encodeMs;
    }
}
