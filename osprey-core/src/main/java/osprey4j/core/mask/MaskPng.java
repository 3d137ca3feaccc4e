package osprey4j.core.mask;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import javax.imageio.ImageIO;

/**
 * Masks as PNG files, through {@code javax.imageio}.
 *
 * <p>Reading a binary mask: a pixel is foreground when its stored value is non-zero. For grey PNGs (1, 2, 4,
 * 8 or 16 bit) that is the grey value, for palette PNGs the palette <em>index</em> (not its colour), and for
 * RGB(A) PNGs any non-zero colour channel (alpha is ignored, so only black is background).
 *
 * <p>Reading instances: palette and grey PNGs whose stored values are object ids (0 = background), as in
 * VOC-, DAVIS- or COCO-panoptic-style label maps, split into one mask per id. Values are read raw, never
 * through colour conversion.
 *
 * <p>Writing: 8-bit grey with 0/255 (the common mask format), 1-bit grey, or an 8-bit palette PNG of
 * instance ids.
 */
public final class MaskPng {
    private MaskPng() {
    }

    /** Reads a binary mask (see the class comment for what counts as foreground). */
    public static Mask read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    public static Mask read(InputStream in, String name) throws IOException {
        BufferedImage image = decode(in, name);
        Raster raster = image.getRaster();
        int w = image.getWidth(), h = image.getHeight();
        Mask.Builder b = Mask.builder(w, h);
        int bands = colourBands(image);
        int[] row = new int[w];
        for (int band = 0; band < bands; band++) {
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, band, row);
                long base = (long) y * w;
                for (int x = 0; x < w; x++) {
                    if (row[x] != 0) {
                        b.setIndex(base + x);
                    }
                }
            }
        }
        return b.build();
    }

    /**
     * Reads a label map (palette or grey PNG) and returns one mask per non-zero id, in id order. Ids with no
     * pixels are absent.
     */
    public static SortedMap<Integer, Mask> readInstances(Path file) throws IOException {
        BufferedImage image;
        try (InputStream in = Files.newInputStream(file)) {
            image = decode(in, file.toString());
        }
        if (colourBands(image) != 1) {
            throw new IOException(file + ": an instance PNG must be a palette or grey image, not "
                    + colourBands(image) + "-channel colour");
        }
        Raster raster = image.getRaster();
        int w = image.getWidth(), h = image.getHeight();
        Map<Integer, Mask.Builder> builders = new TreeMap<>();
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getSamples(0, y, w, 1, 0, row);
            long base = (long) y * w;
            for (int x = 0; x < w; x++) {
                int id = row[x];
                if (id != 0) {
                    builders.computeIfAbsent(id, k -> Mask.builder(w, h)).setIndex(base + x);
                }
            }
        }
        SortedMap<Integer, Mask> out = new TreeMap<>();
        builders.forEach((id, builder) -> out.put(id, builder.build()));
        return out;
    }

    /** Writes an 8-bit grey PNG: 255 for foreground, 0 for background. */
    public static void write(Mask mask, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            write(mask, out);
        }
    }

    public static void write(Mask mask, OutputStream out) throws IOException {
        BufferedImage image = new BufferedImage(mask.width(), mask.height(), BufferedImage.TYPE_BYTE_GRAY);
        fill(image.getRaster(), mask, 255);
        encode(image, out);
    }

    /** Writes a 1-bit grey PNG (1 = foreground), the smallest lossless form. */
    public static void write1Bit(Mask mask, Path file) throws IOException {
        // A two-entry black/white palette is written by ImageIO as a 1-bit greyscale PNG.
        IndexColorModel bw = new IndexColorModel(1, 2, new byte[] {0, -1}, new byte[] {0, -1}, new byte[] {0, -1});
        BufferedImage image = new BufferedImage(mask.width(), mask.height(), BufferedImage.TYPE_BYTE_BINARY, bw);
        fill(image.getRaster(), mask, 1);
        try (OutputStream out = Files.newOutputStream(file)) {
            encode(image, out);
        }
    }

    /**
     * Writes an 8-bit palette PNG whose pixel values are the instance ids (1..255; 0 is background). Masks
     * must have one size; where they overlap the larger id wins. The palette gives each id a distinct colour
     * for viewing; readers use the indices.
     */
    public static void writeInstances(SortedMap<Integer, Mask> instances, int width, int height, Path file)
            throws IOException {
        Mask.checkSize(width, height);
        byte[] r = new byte[256], g = new byte[256], b = new byte[256];
        for (int i = 1; i < 256; i++) { // a spread of colours: enough to tell neighbours apart
            r[i] = (byte) (37 * i + 80);
            g[i] = (byte) (91 * i + 40);
            b[i] = (byte) (173 * i + 120);
        }
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(8, 256, r, g, b));
        WritableRaster raster = image.getRaster();
        for (Map.Entry<Integer, Mask> e : instances.entrySet()) {
            int id = e.getKey();
            Mask m = e.getValue();
            if (id < 1 || id > 255) {
                throw new IllegalArgumentException("instance id " + id + " does not fit an 8-bit PNG (1..255)");
            }
            if (m.width() != width || m.height() != height) {
                throw new IllegalArgumentException("instance " + id + " is " + m.width() + "x" + m.height()
                        + ", not " + width + "x" + height);
            }
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    if (m.getIndex((long) y * width + x)) {
                        raster.setSample(x, y, 0, id);
                    }
                }
            }
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            encode(image, out);
        }
    }

    private static void fill(WritableRaster raster, Mask mask, int on) {
        int w = mask.width();
        int[] row = new int[w];
        for (int y = 0; y < mask.height(); y++) {
            long base = (long) y * w;
            for (int x = 0; x < w; x++) {
                row[x] = mask.getIndex(base + x) ? on : 0;
            }
            raster.setSamples(0, y, w, 1, 0, row);
        }
    }

    private static BufferedImage decode(InputStream in, String name) throws IOException {
        BufferedImage image;
        try {
            image = ImageIO.read(in);
        } catch (IOException | RuntimeException e) {
            throw new IOException(name + ": not a readable image (" + e.getMessage() + ")", e);
        }
        if (image == null) {
            throw new IOException(name + ": not a PNG or other image format Java can read");
        }
        return image;
    }

    /** The bands that carry colour or grey values: all but a trailing alpha band; 1 for palette images. */
    private static int colourBands(BufferedImage image) {
        if (image.getColorModel() instanceof IndexColorModel) {
            return 1;
        }
        int bands = image.getRaster().getNumBands();
        return image.getColorModel().hasAlpha() ? bands - 1 : bands;
    }

    private static void encode(BufferedImage image, OutputStream out) throws IOException {
        if (!ImageIO.write(image, "png", out)) {
            throw new IOException("no PNG writer available");
        }
    }
}
