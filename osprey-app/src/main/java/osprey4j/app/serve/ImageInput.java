package osprey4j.app.serve;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import osprey4j.core.mask.Mask;
import osprey4j.model.image.RgbImage;

/**
 * Images as clients send them: bytes (an upload) or a {@code data:image/...;base64,} URL, checked against the
 * server's limits before they are decoded. Never a path or a remote URL: the server reads nothing a request names.
 */
final class ImageInput {
    private ImageInput() {
    }

    /**
     * A decoded image and, for an RGBA image whose alpha is not fully opaque, its alpha as a region mask (alpha > 0
     * is inside, the convention of Describe Anything's OpenAI-style server).
     */
    record Decoded(String id, RgbImage image, Mask alphaMask, int bytes) {
    }

    /** The id of an image: a digest of its bytes, so the same bytes find the same cached encoding. */
    static String idOf(byte[] bytes) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
            return "img-" + HexFormat.of().formatHex(d, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The bytes of a {@code data:image/...;base64,...} URL. */
    static byte[] fromDataUrl(String url, long maxBytes) {
        int comma = url.indexOf(',');
        String head = comma < 0 ? url : url.substring(0, comma).toLowerCase(Locale.ROOT);
        if (comma < 0 || !head.startsWith("data:image/") || !head.endsWith(";base64")) {
            throw ApiException.invalid("image_url", "an image_url must be a data:image/...;base64, URL or an uploaded"
                    + " image's id (POST /v1/images); this server never fetches URLs or reads paths");
        }
        long encoded = url.length() - comma - 1L;
        if (encoded / 4 * 3 > maxBytes + 3) {
            throw ApiException.tooLarge("the image is about " + encoded / 4 * 3 + " bytes; the limit is " + maxBytes
                    + " bytes (--max-upload-mb)");
        }
        try {
            return Base64.getMimeDecoder().decode(url.substring(comma + 1));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("image_url", "the data URL is not valid base64: " + e.getMessage());
        }
    }

    /** Checks the size limits from the header, then decodes. */
    static Decoded decode(byte[] bytes, long maxBytes, double maxMegapixels) {
        if (bytes.length > maxBytes) {
            throw ApiException.tooLarge("the image is " + bytes.length + " bytes; the limit is " + maxBytes
                    + " bytes (--max-upload-mb)");
        }
        if (bytes.length == 0) {
            throw ApiException.invalid("the image is empty");
        }
        boolean alpha = false;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw ApiException.invalid("image", "not an image in a known format (PNG, JPEG, GIF, BMP, WebP)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                double mp = w * (double) h / 1e6;
                if (mp > maxMegapixels) {
                    throw ApiException.limit("image_too_large", "image", "the image is " + w + "x" + h + " ("
                            + String.format(Locale.ROOT, "%.1f", mp) + " megapixels); the limit is " + maxMegapixels
                            + " megapixels (--max-megapixels)");
                }
                var type = reader.getRawImageType(0);
                alpha = type != null && type.getColorModel().hasAlpha();
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw ApiException.invalid("image", "cannot read the image: " + e.getMessage());
        }
        RgbImage image;
        try {
            image = RgbImage.read(bytes, "image");
        } catch (IOException | RuntimeException e) {
            throw ApiException.invalid("image", "cannot decode the image: " + e.getMessage());
        }
        Mask mask = alpha ? alphaMask(bytes, image.width(), image.height()) : null;
        return new Decoded(idOf(bytes), image, mask, bytes.length);
    }

    /** The alpha channel as a mask (alpha > 0), or null when every pixel is opaque. */
    private static Mask alphaMask(byte[] bytes, int width, int height) {
        BufferedImage b;
        try {
            b = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            return null;
        }
        Raster alpha = b == null ? null : b.getAlphaRaster();
        if (alpha == null || b.getWidth() != width || b.getHeight() != height) {
            return null;
        }
        int max = (1 << b.getColorModel().getComponentSize(b.getColorModel().getNumComponents() - 1)) - 1;
        Mask.Builder m = Mask.builder(width, height);
        boolean opaque = true;
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            alpha.getSamples(0, y, width, 1, 0, row);
            for (int x = 0; x < width; x++) {
                if (row[x] > 0) {
                    m.set(x, y);
                }
                if (row[x] != max) {
                    opaque = false;
                }
            }
        }
        return opaque ? null : m.build();
    }
}
