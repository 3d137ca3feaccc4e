package osprey4j.model;

import osprey4j.core.tensor.Tensor;
import osprey4j.model.vision.ConvNextTower;

/**
 * An image encoded once by {@link Osprey#encode}: its preprocessed pixels, the vision tower's feature maps (kept
 * for mask pooling, which every region of every question needs) and the projected image tokens. Asking any
 * number of questions about any regions of the image reuses all of it; only the regions' mask and position
 * tokens and the LLM run per question.
 *
 * <p>Holds the feature maps of one image (for Osprey-7B at 512x512: about 12 MB of F32 features plus 16 MB of
 * image tokens), freed with the session.
 */
public final class ImageSession {
    private final int width;
    private final int height;
    private final Tensor pixelValues;
    private final ConvNextTower.Features features;
    private final Tensor imageTokens;
    private final double encodeMs;

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

    /** How long encoding took, in milliseconds. */
    public double encodeMs() {
        return encodeMs;
    }
}
