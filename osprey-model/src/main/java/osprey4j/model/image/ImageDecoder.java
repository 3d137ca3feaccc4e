package osprey4j.model.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Decodes image files with javax.imageio (plus the TwelveMonkeys plugins for WebP and CMYK JPEG) and converts the
 * decoded samples to RGB the way Pillow 9.4's {@code Image.open(f).convert('RGB')} does.
 *
 * <p>Colour conversion never goes through Java2D ({@code getRGB}, {@code ColorConvertOp}): those apply colour
 * management (a linear-gamma grey space, ICC profiles) that Pillow does not. Instead the raster samples are read
 * and mapped with Pillow's rules:
 * <ul>
 *   <li>palette (PNG P, GIF, 8-bit BMP, 1/2/4-bit grey PNG): the palette's RGB; transparency ignored;</li>
 *   <li>grey (L, LA): R = G = B = L; alpha dropped;</li>
 *   <li>RGB, RGBA: the colour samples, alpha dropped without compositing;</li>
 *   <li>16-bit PNG: Pillow opens 16-bit grey as mode "I" whose RGB conversion <em>clips</em> to 255, but 16-bit
 *       grey+alpha, RGB and RGBA as 8-bit modes keeping the high byte ("LA;16B", "RGB;16B");</li>
 *   <li>packed 5/6-bit BMP channels: {@code v * 255 / max} truncated, as Pillow's unpackers;</li>
 *   <li>CMYK JPEG: Pillow reads Adobe-inverted samples and converts with
 *       {@code X = clip(nk - nk * x / 255)}, {@code nk = 255 - K} (rounded divide by 255).</li>
 * </ul>
 * Like Pillow, embedded ICC profiles are ignored (JPEG's are stripped before decoding, since both Java JPEG
 * readers would apply them), a GIF is its first frame on the logical screen, and truncated files are refused.
 *
 * <p>Lossless formats (PNG, BMP, GIF, lossless WebP) give Pillow's bytes exactly. So do the JPEGs tested
 * (baseline, progressive, 4:2:0/4:2:2/4:4:4, grey, CMYK; up to 2048 x 1536): the JDK's libjpeg and Pillow's
 * libjpeg-turbo use the same integer IDCT, fancy upsampling and colour tables. Lossy WebP is not exact:
 * TwelveMonkeys' VP8 decoder upsamples chroma without libwebp's "fancy" filter (up to ~20 levels on sharp
 * colour edges).
 */
final class ImageDecoder {
    private ImageDecoder() {
    }

    static RgbImage decode(Path file, String name) throws IOException {
        ImageInputStream iis;
        try {
            iis = ImageIO.createImageInputStream(file.toFile());
        } catch (IOException e) {
            throw new ImageFormatException(name + ": cannot open: " + e.getMessage(), e);
        }
        return decode(iis, name);
    }

    static RgbImage decode(InputStream in, String name) throws IOException {
        // cached in memory: ImageIO's default would spool the stream to a temporary file
        return decode(new MemoryCacheImageInputStream(in), name);
    }

    private static RgbImage decode(ImageInputStream iis, String name) throws IOException {
        if (iis == null) {
            throw new ImageFormatException(name + ": cannot open as an image stream");
        }
        List<ImageReader> readers = new ArrayList<>();
        try (iis) {
            ImageIO.getImageReaders(iis).forEachRemaining(readers::add);
            if (readers.isEmpty()) {
                throw new ImageFormatException(name + ": not an image in a supported format (PNG, JPEG, BMP, GIF, WebP)");
            }
            return decode(readers, iis, name);
        } finally {
            readers.forEach(ImageReader::dispose);
        }
    }

    private static RgbImage decode(List<ImageReader> readers, ImageInputStream iis, String name) throws IOException {
        ImageReader reader = readers.getFirst();
        String format = reader.getFormatName().toUpperCase(Locale.ROOT);
        if (format.equals("WEBP")) {
            checkRiffComplete(iis, name);
        }
        if (format.equals("JPEG")) {
            iis = withoutIccProfiles(iis);
        }
        reader.setInput(iis, false, true);
        int width, height;
        boolean cmyk;
        GifScreen gif;
        try {
            // the header only: nothing the size of the image is allocated before this check
            width = reader.getWidth(0);
            height = reader.getHeight(0);
            cmyk = isCmyk(reader);
            gif = format.equals("GIF") ? GifScreen.of(reader) : null;
        } catch (IOException | RuntimeException e) {
            throw corrupt(name, format, e);
        }
        try {
            RgbImage.checkSize(width, height, name + " (" + format + ")");
            if (gif != null) {
                RgbImage.checkSize(gif.width(), gif.height(), name + " (GIF screen)");
            }
        } catch (IllegalArgumentException e) {
            throw new ImageFormatException(e.getMessage() + "; refusing to decode it");
        }
        List<String> warnings = new ArrayList<>();
        reader.addIIOReadWarningListener(new WarningCollector(warnings));
        byte[] rgb;
        try {
            if (cmyk) {
                rgb = cmykToRgb(reader.readRaster(0, null), name);
            } else {
                BufferedImage image = reader.read(0);
                if (gif != null && !gif.coveredBy(width, height)) {
                    image = gif.place(image);
                    width = gif.width();
                    height = gif.height();
                }
                rgb = toRgb(image, name);
            }
        } catch (ImageFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw corrupt(name, format, e);
        }
        for (String w : warnings) {
            // libjpeg (inside the JDK's reader) pads a truncated JPEG with grey and only warns; Pillow refuses it
            String lower = w.toLowerCase(Locale.ROOT);
            if (lower.contains("premature end") || lower.contains("truncat")) {
                throw new ImageFormatException(name + ": " + format + " data is truncated (" + w + ")");
            }
        }
        if (width != rgb.length / 3 / height) {
            throw new ImageFormatException(name + ": decoded size differs from the header's " + width + "x" + height);
        }
        return new RgbImage(width, height, rgb);
    }

    /**
     * Pillow ignores a JPEG's embedded ICC profile; both Java JPEG readers convert the pixels to sRGB through it.
     * So the APP2 "ICC_PROFILE" segments are dropped before decoding (the rest of the file is untouched).
     *
     * @return {@code iis} itself when it has no profile, else a stream over the file without them
     */
    static ImageInputStream withoutIccProfiles(ImageInputStream iis) throws IOException {
        iis.seek(0);
        byte[] jpeg = readFully(iis);
        byte[] stripped = JpegSegments.withoutIccProfiles(jpeg);
        if (stripped == jpeg) {
            iis.seek(0);
            return iis;
        }
        return new MemoryCacheImageInputStream(new ByteArrayInputStream(stripped));
    }

    private static byte[] readFully(ImageInputStream iis) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        for (int n; (n = iis.read(buffer)) > 0; ) {
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    /**
     * The WebP reader decodes a lossless image cut short without complaint, so check that the RIFF container's
     * declared length is all there (Pillow's libwebp refuses such files).
     */
    private static void checkRiffComplete(ImageInputStream iis, String name) throws IOException {
        iis.mark();
        try {
            iis.seek(4);
            long declared = Integer.toUnsignedLong(Integer.reverseBytes(iis.readInt()));
            iis.seek(8 + declared - 1);
            if (iis.read() < 0) {
                throw new ImageFormatException(name + ": truncated WebP image (the RIFF header declares "
                        + (8 + declared) + " bytes)");
            }
        } catch (java.io.EOFException e) {
            throw new ImageFormatException(name + ": truncated WebP image", e);
        } finally {
            iis.reset();
        }
    }

    private static ImageFormatException corrupt(String name, String format, Throwable e) {
        String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        if (e.getCause() != null && e.getCause().getMessage() != null) {
            why += ": " + e.getCause().getMessage();
        }
        return new ImageFormatException(name + ": corrupt or truncated " + format + " image (" + why + ")", e);
    }

    private static boolean isCmyk(ImageReader reader) throws IOException {
        if (!reader.getFormatName().equalsIgnoreCase("jpeg")) {
            return false;
        }
        ImageTypeSpecifier raw = reader.getRawImageType(0);
        return raw != null && raw.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_CMYK;
    }

    /** The samples of a decoded image, mapped to RGB by Pillow's rules (see the class comment). */
    static byte[] toRgb(BufferedImage image, String name) throws ImageFormatException {
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        int w = raster.getWidth(), h = raster.getHeight();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int[] row = new int[w * raster.getNumBands()];
        if (cm instanceof IndexColorModel icm) {
            int n = icm.getMapSize();
            byte[] r = new byte[n], g = new byte[n], b = new byte[n];
            icm.getReds(r);
            icm.getGreens(g);
            icm.getBlues(b);
            int[] idx = new int[w];
            for (int y = 0, o = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, idx);
                for (int x = 0; x < w; x++, o += 3) {
                    int i = idx[x];
                    out[o] = r[i];
                    out[o + 1] = g[i];
                    out[o + 2] = b[i];
                }
            }
            return out;
        }
        int colours = cm.getNumColorComponents();
        int bands = raster.getNumBands();
        int spaceType = cm.getColorSpace().getType();
        boolean grey = colours == 1 && spaceType == ColorSpace.TYPE_GRAY;
        boolean rgb = colours == 3 && spaceType == ColorSpace.TYPE_RGB;
        if (!grey && !rgb) {
            throw new ImageFormatException(name + ": unsupported colour model (" + colours + " colour components, "
                    + "colour space type " + spaceType + ")");
        }
        if (rgb && copyInterleavedBytes(cm, raster, out)) {
            return out;
        }
        SampleMap[] maps = new SampleMap[colours];
        for (int c = 0; c < colours; c++) {
            maps[c] = sampleMap(cm, c, grey && !cm.hasAlpha());
        }
        for (int y = 0, o = 0; y < h; y++) {
            raster.getPixels(0, y, w, 1, row);
            for (int x = 0, p = 0; x < w; x++, p += bands, o += 3) {
                if (grey) {
                    byte v = maps[0].apply(row[p]);
                    out[o] = v;
                    out[o + 1] = v;
                    out[o + 2] = v;
                } else {
                    out[o] = maps[0].apply(row[p]);
                    out[o + 1] = maps[1].apply(row[p + 1]);
                    out[o + 2] = maps[2].apply(row[p + 2]);
                }
            }
        }
        return out;
    }

    /**
     * The common case (8-bit RGB/RGBA/BGR pixels interleaved in one byte array, as JPEG, PNG and BMP decode to)
     * copied straight from the data buffer: the same bytes as the general path, without a call per row and pixel.
     *
     * @return false when the raster is laid out otherwise
     */
    private static boolean copyInterleavedBytes(ColorModel cm, Raster raster, byte[] out) {
        if (!(raster.getSampleModel() instanceof PixelInterleavedSampleModel sm)
                || !(raster.getDataBuffer() instanceof DataBufferByte buffer) || buffer.getNumBanks() != 1
                || raster.getSampleModelTranslateX() != 0 || raster.getSampleModelTranslateY() != 0) {
            return false;
        }
        for (int c = 0; c < 3; c++) {
            if (cm.getComponentSize(c) != 8) {
                return false;
            }
        }
        byte[] data = buffer.getData();
        int[] offsets = sm.getBandOffsets();
        int stride = sm.getPixelStride(), scanline = sm.getScanlineStride(), base = buffer.getOffset();
        int r = offsets[0], g = offsets[1], b = offsets[2];
        int w = raster.getWidth(), h = raster.getHeight();
        for (int y = 0, o = 0; y < h; y++) {
            for (int x = 0, p = base + y * scanline; x < w; x++, p += stride, o += 3) {
                out[o] = data[p + r];
                out[o + 1] = data[p + g];
                out[o + 2] = data[p + b];
            }
        }
        return true;
    }

    /** Maps one channel's raw sample to 8 bits. */
    @FunctionalInterface
    private interface SampleMap {
        byte apply(int sample);
    }

    private static SampleMap sampleMap(ColorModel cm, int component, boolean greyWithoutAlpha) {
        int bits = cm.getComponentSize(component);
        if (bits == 8) {
            return v -> (byte) v;
        }
        if (bits == 16) {
            // Pillow: 16-bit grey is mode "I" (RGB conversion clips); the others keep the high byte
            return greyWithoutAlpha ? v -> (byte) Math.min(v, 255) : v -> (byte) (v >>> 8);
        }
        if (bits < 8 && cm instanceof DirectColorModel) {
            int max = (1 << bits) - 1;
            return v -> (byte) (v * 255 / max); // Pillow's BGR;15 / BGR;16 unpackers truncate
        }
        if (bits < 8) {
            // a 1/2/4-bit grey sample without a palette: Pillow's L;1/L;2/L;4 unpackers scale by 255/max exactly
            int max = (1 << bits) - 1;
            return v -> (byte) (v * (255 / max));
        }
        return v -> (byte) (v >>> (bits - 8));
    }

    /**
     * CMYK (or YCCK, which the reader turns into CMYK) JPEG samples to RGB as Pillow does: its JPEG plugin reads
     * CMYK with raw mode "CMYK;I" (Adobe's inverted convention), and {@code convert('RGB')} computes
     * {@code clip(nk - muldiv255(x, nk))} with {@code nk = 255 - k}.
     */
    private static byte[] cmykToRgb(Raster raster, String name) throws ImageFormatException {
        if (raster.getNumBands() != 4) {
            throw new ImageFormatException(name + ": CMYK JPEG decoded to " + raster.getNumBands() + " bands");
        }
        int w = raster.getWidth(), h = raster.getHeight();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int[] row = new int[w * 4];
        for (int y = 0, o = 0; y < h; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            for (int x = 0, p = 0; x < w; x++, p += 4, o += 3) {
                int nk = 255 - invert(row[p + 3]);
                for (int c = 0; c < 3; c++) {
                    int v = nk - mulDiv255(invert(row[p + c]), nk);
                    out[o + c] = (byte) Math.clamp(v, 0, 255);
                }
            }
        }
        return out;
    }

    private static int invert(int v) {
        return 255 - v;
    }

    /** Pillow's MULDIV255: a * b / 255 rounded, in integers. */
    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    /**
     * A GIF's logical screen and its first frame's place on it. Pillow's image is the whole screen: the frame drawn
     * at its offset over a canvas of palette index 0, or of the frame's transparent index when it has one.
     */
    record GifScreen(int width, int height, int left, int top, int fillIndex) {
        static GifScreen of(ImageReader reader) throws IOException {
            Node stream = reader.getStreamMetadata().getAsTree("javax_imageio_gif_stream_1.0");
            Node image = reader.getImageMetadata(0).getAsTree("javax_imageio_gif_image_1.0");
            Element screen = child(stream, "LogicalScreenDescriptor");
            Element descriptor = child(image, "ImageDescriptor");
            Element control = child(image, "GraphicControlExtension");
            int fill = control != null && "TRUE".equals(control.getAttribute("transparentColorFlag"))
                    ? Integer.parseInt(control.getAttribute("transparentColorIndex")) : 0;
            return new GifScreen(Integer.parseInt(screen.getAttribute("logicalScreenWidth")),
                    Integer.parseInt(screen.getAttribute("logicalScreenHeight")),
                    Integer.parseInt(descriptor.getAttribute("imageLeftPosition")),
                    Integer.parseInt(descriptor.getAttribute("imageTopPosition")), fill);
        }

        private static Element child(Node parent, String name) {
            for (Node c = parent.getFirstChild(); c != null; c = c.getNextSibling()) {
                if (c.getNodeName().equals(name)) {
                    return (Element) c;
                }
            }
            return null;
        }

        boolean coveredBy(int frameWidth, int frameHeight) {
            return left == 0 && top == 0 && frameWidth == width && frameHeight == height;
        }

        /** The frame (an indexed image) drawn on the screen-sized canvas, clipped to it. */
        BufferedImage place(BufferedImage frame) throws ImageFormatException {
            if (!(frame.getColorModel() instanceof IndexColorModel icm)) {
                throw new ImageFormatException("GIF frame without a palette");
            }
            WritableRaster canvas = icm.createCompatibleWritableRaster(width, height);
            int[] row = new int[width];
            java.util.Arrays.fill(row, fillIndex < icm.getMapSize() ? fillIndex : 0);
            for (int y = 0; y < height; y++) {
                canvas.setSamples(0, y, width, 1, 0, row);
            }
            int w = Math.min(frame.getWidth(), width - left), h = Math.min(frame.getHeight(), height - top);
            if (w > 0 && h > 0) {
                int[] samples = frame.getRaster().getSamples(0, 0, w, h, 0, (int[]) null);
                canvas.setSamples(left, top, w, h, 0, samples);
            }
            return new BufferedImage(icm, canvas, false, null);
        }
    }

    private record WarningCollector(List<String> warnings) implements IIOReadWarningListener {
        @Override
        public void warningOccurred(ImageReader source, String warning) {
            warnings.add(warning);
        }
    }
}
