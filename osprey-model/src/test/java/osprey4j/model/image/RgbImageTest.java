package osprey4j.model.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
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
            "rgb.jpg", 0, "rgb444.jpg", 0, "progressive.jpg", 0, "gray.jpg", 0, "cmyk.jpg", 0, "lossy.webp", 24);

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

    @Test
    void readsFromBytesLikeFromFile() throws IOException {
        byte[] png = Files.readAllBytes(DIR.resolve("rgba.png"));
        assertArrayEquals(RgbImage.read(DIR.resolve("rgba.png")).rgb(), RgbImage.read(png, "mem").rgb());
    }
}
