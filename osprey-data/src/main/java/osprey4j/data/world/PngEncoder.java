package osprey4j.data.world;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A small, fast PNG writer for 8-bit RGB images: every row uses the Sub filter (good for the flat and gradient
 * areas of synthetic scenes) and zlib's fastest level. On 512x512 world images it is about 2.5 times faster than
 * ImageIO's writer (which filters adaptively at the default level), for files about 25% larger. Output is a pure
 * function of the pixels (for a given zlib), so it is byte-identical across runs.
 */
public final class PngEncoder {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final int FILTER_SUB = 1;

    private PngEncoder() {
    }

    /** Encodes {@code rgb} (0xRRGGBB per pixel, row-major, {@code width * height} entries). */
    public static byte[] encode(int[] rgb, int width, int height) {
        if (width <= 0 || height <= 0 || (long) width * height != rgb.length) {
            throw new IllegalArgumentException("expected " + (long) width * height + " pixels for " + width + "x"
                    + height + ", got " + rgb.length);
        }
        byte[] raw = new byte[height * (1 + 3 * width)];
        int o = 0;
        for (int y = 0; y < height; y++) {
            raw[o++] = FILTER_SUB;
            int pr = 0, pg = 0, pb = 0;
            for (int x = 0, i = y * width; x < width; x++, i++) {
                int c = rgb[i];
                int r = (c >> 16) & 0xFF, g = (c >> 8) & 0xFF, b = c & 0xFF;
                raw[o++] = (byte) (r - pr);
                raw[o++] = (byte) (g - pg);
                raw[o++] = (byte) (b - pb);
                pr = r;
                pg = g;
                pb = b;
            }
        }
        ByteArrayOutputStream idat = new ByteArrayOutputStream(raw.length / 4 + 64);
        Deflater deflater = new Deflater(Deflater.BEST_SPEED);
        try {
            deflater.setInput(raw);
            deflater.finish();
            byte[] buf = new byte[1 << 16];
            while (!deflater.finished()) {
                int n = deflater.deflate(buf);
                idat.write(buf, 0, n);
            }
        } finally {
            deflater.end();
        }

        ByteArrayOutputStream out = new ByteArrayOutputStream(idat.size() + 64);
        out.writeBytes(SIGNATURE);
        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, width);
        putInt(ihdr, 4, height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 2;   // colour type: truecolour (RGB)
        // compression 0, filter method 0, interlace 0
        chunk(out, "IHDR", ihdr);
        chunk(out, "IDAT", idat.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    public static void write(int[] rgb, int width, int height, OutputStream out) throws IOException {
        out.write(encode(rgb, width, height));
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] header = new byte[8];
        putInt(header, 0, data.length);
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(typeBytes, 0, header, 4, 4);
        out.writeBytes(header);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        byte[] tail = new byte[4];
        putInt(tail, 0, (int) crc.getValue());
        out.writeBytes(tail);
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
