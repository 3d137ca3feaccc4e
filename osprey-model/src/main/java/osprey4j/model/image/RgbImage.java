package osprey4j.model.image;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * An 8-bit RGB image: {@code width x height} pixels, row-major, channels interleaved (R, G, B), what Pillow's
 * {@code Image.open(f).convert('RGB')} gives the reference.
 *
 * <p>{@link #read(Path)} reads PNG (all bit depths and colour types), JPEG (including greyscale, CMYK and YCCK),
 * BMP, GIF (the first frame) and WebP, and converts to RGB the way Pillow 9.4 does (see {@link ImageDecoder}).
 * The size is read from the file's header first; anything over {@link #MAX_PIXELS} is refused before the pixels
 * are allocated.
 */
public final class RgbImage {
    /** The largest image accepted: 100 megapixels (about 300 MB of RGB). */
    public static final long MAX_PIXELS = 100_000_000L;

    private final int width;
    private final int height;
    private final byte[] rgb;

    /**
     * Wraps {@code rgb} (not copied): {@code height * width * 3} bytes, row-major, R G B interleaved.
     *
     * @throws IllegalArgumentException for a non-positive size, more than {@link #MAX_PIXELS} pixels, or a
     *     buffer of the wrong length
     */
    public RgbImage(int width, int height, byte[] rgb) {
        checkSize(width, height, "image");
        if (rgb.length != (long) width * height * 3) {
            throw new IllegalArgumentException(rgb.length + " bytes is not a " + width + "x" + height + " RGB image");
        }
        this.width = width;
        this.height = height;
        this.rgb = rgb;
    }

    /** Reads and decodes an image file. */
    public static RgbImage read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new ImageFormatException(file + ": no such image file");
        }
        return ImageDecoder.decode(file, file.toString());
    }

    /** Decodes an image held in memory; {@code name} is used in error messages. */
    public static RgbImage read(byte[] data, String name) throws IOException {
        return ImageDecoder.decode(new ByteArrayInputStream(data), name);
    }

    /** Decodes an image from a stream (read to its end, not closed); {@code name} is used in error messages. */
    public static RgbImage read(InputStream in, String name) throws IOException {
        return ImageDecoder.decode(in, name);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The interleaved RGB bytes (the image's own array: do not modify). */
    public byte[] rgb() {
        return rgb;
    }

    /** The pixel at column x, row y as 0xRRGGBB. */
    public int rgbAt(int x, int y) {
        if (x < 0 || x >= width || y < 0 || y >= height) {
            throw new IndexOutOfBoundsException("pixel (" + x + ", " + y + ") outside " + width + "x" + height);
        }
        int p = (y * width + x) * 3;
        return (rgb[p] & 0xFF) << 16 | (rgb[p + 1] & 0xFF) << 8 | rgb[p + 2] & 0xFF;
    }

    /** A U8 tensor [height, width, 3] over this image's bytes (no copy). */
    public Tensor toTensor() {
        return Tensor.of(DType.U8, MemorySegment.ofArray(rgb), height, width, 3);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }

    /** Refuses non-positive sizes and more than {@link #MAX_PIXELS} pixels. */
    static void checkSize(long width, long height, String what) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException(what + " has an invalid size " + width + "x" + height);
        }
        if (width * height > MAX_PIXELS) {
            throw new IllegalArgumentException(what + " is " + width + "x" + height + " = " + width * height
                    + " pixels, more than the " + MAX_PIXELS / 1_000_000 + " megapixels accepted");
        }
    }
}
