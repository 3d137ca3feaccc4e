package osprey4j.model.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Decoding against Pillow 9.4's {@code Image.open(f).convert('RGB')} bytes (fixtures from
 * tools/fixtures/images/make_image_fixtures.py; see src/test/resources/images/README.md).
 */
class RgbImageTest {
    static final Path DIR = Path.of("src/test/resources/images");

    /**
     * Largest per-sample difference allowed for lossy formats, whose decoders are not Pillow's (libjpeg-turbo,
     * libwebp). Measured: see {@link #lossyDeviation}.
     */
    static final Map<String, Integer> LOSSY_MAX_DIFF = Map.of(
            "rgb.jpg", 0, "rgb444.jpg", 0, "rgb422.jpg", 0, "progressive.jpg", 0, "gray.jpg", 0, "cmyk.jpg", 0, "lossy.webp", 24);

    static Stream<Arguments> fixtures() throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(DIR.resolve("manifest.json").toFile());
        List<Arguments> out = new ArrayList<>();
        manifest.fields().forEachRemaining(e -> out.add(Arguments.of(e.getKey(), e.getValue())));
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void decodesLikePillow(String file, JsonNode info) throws IOException {
        RgbImage image = RgbImage.read(DIR.resolve(file));
        assertEquals(info.get("width").asInt(), image.width(), "width");
        assertEquals(info.get("height").asInt(), image.height(), "height");
        byte[] expected = Files.readAllBytes(DIR.resolve(file + ".rgb"));
        if (info.get("exact").asBoolean()) {
            assertArrayEquals(expected, image.rgb(), file + " (Pillow mode " + info.get("pillow_mode").asText() + ")");
        } else {
            int max = maxDiff(expected, image.rgb());
            System.out.println(file + " max diff " + max + " mean " + meanDiff(expected, image.rgb()));
            assertTrue(max <= LOSSY_MAX_DIFF.get(file), file + ": max sample difference " + max);
            assertTrue(meanDiff(expected, image.rgb()) <= 5.0, file + ": mean difference");
        }
    }

    static int maxDiff(byte[] a, byte[] b) {
        assertEquals(a.length, b.length);
        int max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((a[i] & 0xFF) - (b[i] & 0xFF)));
        }
        return max;
    }

    static double meanDiff(byte[] a, byte[] b) {
        long sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
        }
        return (double) sum / a.length;
    }

    /** Every format cut inside its pixel data must be refused (Pillow raises "image file is truncated"). */
    @ParameterizedTest(name = "{0} cut at {1}%")
    @MethodSource("truncations")
    void refusesTruncatedData(String file, int percent, @TempDir Path tmp) throws IOException {
        byte[] data = Files.readAllBytes(DIR.resolve(file));
        Path cut = Files.write(tmp.resolve("cut-" + file), java.util.Arrays.copyOf(data, data.length * percent / 100));
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> RgbImage.read(cut));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("cut-" + file), e.getMessage());
    }

    static Stream<Arguments> truncations() {
        List<Arguments> out = new ArrayList<>();
        for (String file : List.of("rgb.png", "palette.png", "gray16.png", "rgb.jpg", "progressive.jpg", "cmyk.jpg",
                "rgb.bmp", "palette.bmp", "palette.gif", "lossless.webp", "lossless_alpha.webp", "lossy.webp")) {
            for (int percent : new int[] {30, 60, 90}) {
                out.add(Arguments.of(file, percent));
            }
        }
        return out.stream();
    }

    @Test
    void refusesTruncatedPng() {
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> RgbImage.read(DIR.resolve("broken_truncated.png")));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("broken_truncated.png"), e.getMessage());
    }

    @Test
    void refusesTruncatedJpeg() {
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> RgbImage.read(DIR.resolve("broken_truncated.jpg")));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("broken_truncated.jpg"), e.getMessage());
    }

    @Test
    void refusesGarbage() {
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> RgbImage.read(DIR.resolve("broken_garbage.png")));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("broken_garbage.png"), e.getMessage());
    }

    @Test
    void refusesHugeHeaderBeforeDecoding() {
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> RgbImage.read(DIR.resolve("broken_huge.png")));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains("20000x20000") && e.getMessage().contains("megapixels"), e.getMessage());
    }

    @Test
    void refusesNonImagesAndMissingFiles(@TempDir Path tmp) throws IOException {
        Path text = Files.writeString(tmp.resolve("notes.txt"), "not an image at all");
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> RgbImage.read(text));
        assertTrue(e.getMessage().contains("notes.txt") && e.getMessage().contains("supported format"), e.getMessage());
        Path empty = Files.write(tmp.resolve("empty.png"), new byte[0]);
        assertThrows(ImageFormatException.class, () -> RgbImage.read(empty));
        assertThrows(ImageFormatException.class, () -> RgbImage.read(tmp.resolve("missing.png")));
    }

    /**
     * Pillow's {@code convert('RGB')} ignores embedded ICC profiles, so must we: the same pixels with a linear-RGB
     * (or grey) profile added decode to the same bytes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"rgb.jpg", "gray.jpg", "rgb.png", "gray.png", "palette.png", "rgb16.png"})
    void ignoresEmbeddedIccProfiles(String file) throws IOException {
        byte[] data = Files.readAllBytes(DIR.resolve(file));
        boolean grey = file.startsWith("gray");
        byte[] profile = ICC_Profile.getInstance(grey ? ColorSpace.CS_GRAY : ColorSpace.CS_LINEAR_RGB).getData();
        byte[] tagged = file.endsWith(".jpg") ? withJpegIcc(data, profile) : withPngIcc(data, profile);
        byte[] expected = Files.readAllBytes(DIR.resolve(file + ".rgb"));
        assertArrayEquals(expected, RgbImage.read(tagged, file + "+icc").rgb(), file + " with an ICC profile");
    }

    /** Inserts an APP2 ICC_PROFILE segment right after SOI. */
    static byte[] withJpegIcc(byte[] jpeg, byte[] profile) {
        byte[] id = "ICC_PROFILE\0".getBytes(StandardCharsets.US_ASCII);
        int length = 2 + id.length + 2 + profile.length;
        ByteBuffer b = ByteBuffer.allocate(jpeg.length + 2 + length);
        b.put(jpeg, 0, 2).put((byte) 0xFF).put((byte) 0xE2).putShort((short) length).put(id).put((byte) 1).put((byte) 1);
        b.put(profile).put(jpeg, 2, jpeg.length - 2);
        return b.array();
    }

    /** Inserts an iCCP chunk right after IHDR (8-byte signature + 25-byte IHDR chunk). */
    static byte[] withPngIcc(byte[] png, byte[] profile) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write("iCCPicc".getBytes(StandardCharsets.US_ASCII));
        body.write(0); // name terminator
        body.write(0); // compression method: zlib
        try (DeflaterOutputStream z = new DeflaterOutputStream(body)) {
            z.write(profile);
        }
        byte[] typeAndData = body.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(typeAndData);
        ByteBuffer b = ByteBuffer.allocate(png.length + 8 + typeAndData.length);
        b.put(png, 0, 33).putInt(typeAndData.length - 4).put(typeAndData).putInt((int) crc.getValue());
        b.put(png, 33, png.length - 33);
        return b.array();
    }

    @Test
    void readsFromBytesLikeFromFile() throws IOException {
        byte[] png = Files.readAllBytes(DIR.resolve("rgba.png"));
        byte[] fromFile = RgbImage.read(DIR.resolve("rgba.png")).rgb();
        assertArrayEquals(fromFile, RgbImage.read(png, "mem").rgb());
        assertArrayEquals(fromFile, RgbImage.read(new java.io.ByteArrayInputStream(png), "stream").rgb());
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> RgbImage.read(java.util.Arrays.copyOf(png, 100), "upload.png"));
        assertTrue(e.getMessage().startsWith("upload.png: "), e.getMessage());
    }

    @Test
    void constructorChecksSizeAndBuffer() {
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(0, 5, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(-2, 5, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(2, 2, new byte[11]));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(20_000, 5_001, new byte[0]));
        RgbImage image = new RgbImage(2, 1, new byte[] {1, 2, 3, (byte) 250, 5, 6});
        assertEquals(0xFA0506, image.rgbAt(1, 0));
        assertArrayEquals(new long[] {1, 2, 3}, image.toTensor().shape());
    }
}
