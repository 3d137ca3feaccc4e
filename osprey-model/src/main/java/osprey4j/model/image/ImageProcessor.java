package osprey4j.model.image;

import osprey4j.core.kernels.BilinearResize;
import osprey4j.core.kernels.PillowResize;
import osprey4j.core.tensor.Tensor;

/**
 * The reference's image preprocessing, from RGB pixels to the vision tower's input [3, size, size]:
 * <ol>
 *   <li>{@code CLIPImageProcessor} (transformers 4.31) with {@code do_center_crop=False}: resize so the shortest
 *       edge is {@code size} and the other is {@code int(size * long / short)} (truncated), with Pillow's bicubic
 *       on the 8-bit image; rescale by {@code 1/255} (numpy: uint8 times a Python float is float64, then cast to
 *       float32); normalise {@code (x - mean) / std} in float32 with the OpenAI CLIP mean and std;</li>
 *   <li>Osprey's own {@code F.interpolate(size=(size, size), mode='bilinear', align_corners=False)}, which
 *       squashes the aspect ratio to a square.</li>
 * </ol>
 * Every step is the same arithmetic as the reference, except that torch's compiled bilinear kernel rounds up to
 * 2 ulp differently (see {@link BilinearResize}), so results agree to about 1e-6.
 */
public final class ImageProcessor {
    /** OpenAI CLIP's mean and std, as numpy turns the Python floats into float32 (via double). */
    static final float[] MEAN = {(float) 0.48145466, (float) 0.4578275, (float) 0.40821073};
    static final float[] STD = {(float) 0.26862954, (float) 0.26130258, (float) 0.27577711};
    private static final double RESCALE = 1.0 / 255;

    private final int size;

    /** A processor for a square input of {@code size} pixels (512 for Osprey). */
    public ImageProcessor(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + size);
        }
        this.size = size;
    }

    public int size() {
        return size;
    }

    /** The preprocessed image: F32 [3, size, size]. */
    public Tensor preprocess(RgbImage image) {
        int[] wh = shortestEdgeSize(image.width(), image.height(), size);
        byte[] resized = PillowResize.resize(image.rgb(), image.width(), image.height(), 3, wh[0], wh[1]);
        Tensor normalised = normalise(resized, wh[0], wh[1]);
        return BilinearResize.resize(normalised, size, size);
    }

    /**
     * transformers' {@code get_resize_output_image_size(default_to_square=False)}: the shortest edge becomes
     * {@code size}, the longest {@code int(size * long / short)}.
     *
     * @return {width, height}
     */
    static int[] shortestEdgeSize(int width, int height, int size) {
        int shortSide = Math.min(width, height), longSide = Math.max(width, height);
        // Python: int * int is exact, "/" is a float division, int() truncates
        int newLong = (int) ((double) ((long) size * longSide) / shortSide);
        return width <= height ? new int[] {size, newLong} : new int[] {newLong, size};
    }

    /** Rescale and normalise interleaved RGB bytes into a planar F32 [3, height, width] tensor. */
    static Tensor normalise(byte[] rgb, int width, int height) {
        int plane = width * height;
        float[] out = new float[3 * plane];
        // the 256 possible values of each channel, computed once (the same float ops per pixel)
        float[][] lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                float scaled = (float) (v * RESCALE);
                lut[c][v] = (scaled - MEAN[c]) / STD[c];
            }
        }
        for (int p = 0, i = 0; p < plane; p++, i += 3) {
            out[p] = lut[0][rgb[i] & 0xFF];
            out[plane + p] = lut[1][rgb[i + 1] & 0xFF];
            out[2 * plane + p] = lut[2][rgb[i + 2] & 0xFF];
        }
        return Tensor.wrap(out, 3, height, width);
    }
}
