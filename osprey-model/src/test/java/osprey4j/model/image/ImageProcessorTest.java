package osprey4j.model.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.Tensor;

/**
 * Preprocessing against the reference: {@code pixel_values} of the parity dumps (the official Osprey code,
 * CLIPImageProcessor + bilinear to 512), and images/preprocess.safetensors (the same reference code at size 24
 * on edge cases the dumps do not cover).
 *
 * <p>Tolerance 1e-6: every step is the reference's arithmetic (integer Pillow bicubic, the same float64 rescale
 * and float32 normalisation) except torch's compiled bilinear kernel, which rounds up to 2 ulp differently
 * from {@code BilinearResize}; at |x| < 2.7 that is at most 2 * 2.4e-7 = 4.8e-7.
 */
class ImageProcessorTest {
    static final Path PARITY = Path.of("src/test/resources/parity");
    static final double TOLERANCE = 1e-6;

    /** Case A (JPEG): the dump's own decoded pixels as input, so decoder differences cannot hide here. */
    @Test
    void caseAFromReferencePixels() throws IOException {
        try (Checkpoint dump = Checkpoints.open(PARITY.resolve("dumps/case_A.safetensors"))) {
            Tensor rgb = dump.tensor("image_rgb");
            RgbImage image = new RgbImage(rgb.size(1), rgb.size(0), rgb.segment().toArray(ValueLayout.JAVA_BYTE));
            Tensor pixels = new ImageProcessor(512).preprocess(image);
            assertClose(dump.tensor("pixel_values").toFloatArray(), pixels.toFloatArray(), 1, "case A");
        }
    }

    /** Case A end to end: the JPEG decoded by us is the reference's decoded image, byte for byte. */
    @Test
    void caseAJpegDecodesToReferencePixels() throws IOException {
        try (Checkpoint dump = Checkpoints.open(PARITY.resolve("dumps/case_A.safetensors"))) {
            byte[] expected = dump.tensor("image_rgb").segment().toArray(ValueLayout.JAVA_BYTE);
            RgbImage image = RgbImage.read(PARITY.resolve("inputs/scene_rgb.jpg"));
            int max = RgbImageTest.maxDiff(expected, image.rgb());
            System.out.println("scene_rgb.jpg: max diff " + max + ", mean " + RgbImageTest.meanDiff(expected, image.rgb()));
            assertArrayEquals(expected, image.rgb(), "scene_rgb.jpg decoded pixels");
            assertClose(dump.tensor("pixel_values").toFloatArray(), new ImageProcessor(512).preprocess(image).toFloatArray(),
                    1, "case A from the JPEG");
        }
    }

    /** Cases B (grey PNG), C (RGBA PNG), D (palette PNG) from the files: decoding and preprocessing together. */
    @ParameterizedTest(name = "case {0}: {1}")
    @CsvSource({"B, gray_portrait.png", "C, rgba_wide.png", "D, palette_small.png"})
    void casesFromFiles(String c, String file) throws IOException {
        try (Checkpoint dump = Checkpoints.open(PARITY.resolve("dumps/case_" + c + ".safetensors"))) {
            Tensor pixels = new ImageProcessor(512).preprocess(RgbImage.read(PARITY.resolve("inputs").resolve(file)));
            assertArrayEquals(new long[] {3, 512, 512}, pixels.shape());
            // the dump keeps every 4th row and column
            assertClose(dump.tensor("pixel_values_s4").toFloatArray(), every4th(pixels), 4, "case " + c);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"short_side_is_size_wide", "short_side_is_size_tall", "square_is_size", "square_larger",
            "tiny_upscale", "truncated_long_side", "downscale_wide"})
    void edgeCasesAtSize24(String name) throws IOException {
        try (Checkpoint fx = Checkpoints.open(Path.of("src/test/resources/images/preprocess.safetensors"))) {
            Tensor rgb = fx.tensor(name + ".rgb");
            RgbImage image = new RgbImage(rgb.size(1), rgb.size(0), rgb.segment().toArray(ValueLayout.JAVA_BYTE));
            Tensor pixels = new ImageProcessor(24).preprocess(image);
            assertArrayEquals(new long[] {3, 24, 24}, pixels.shape());
            assertClose(fx.tensor(name + ".pixels").toFloatArray(), pixels.toFloatArray(), 1, name);
        }
    }

    @Test
    void shortestEdgeTruncatesTheLongSide() {
        assertArrayEquals(new int[] {768, 512}, ImageProcessor.shortestEdgeSize(360, 240, 512));
        assertArrayEquals(new int[] {512, 853}, ImageProcessor.shortestEdgeSize(180, 300, 512)); // 853.33
        assertArrayEquals(new int[] {614, 512}, ImageProcessor.shortestEdgeSize(96, 80, 512)); // 614.4
        assertArrayEquals(new int[] {512, 512}, ImageProcessor.shortestEdgeSize(7, 7, 512));
        assertArrayEquals(new int[] {512, 1706}, ImageProcessor.shortestEdgeSize(3, 10, 512)); // 1706.67
    }

    @Test
    void rejectsNonPositiveSize() {
        assertThrows(IllegalArgumentException.class, () -> new ImageProcessor(0));
    }

    static float[] every4th(Tensor chw) {
        int c = chw.size(0), h = chw.size(1), w = chw.size(2);
        float[] all = chw.toFloatArray();
        int hs = (h + 3) / 4, ws = (w + 3) / 4;
        float[] out = new float[c * hs * ws];
        for (int ch = 0, o = 0; ch < c; ch++) {
            for (int y = 0; y < h; y += 4) {
                for (int x = 0; x < w; x += 4) {
                    out[o++] = all[(ch * h + y) * w + x];
                }
            }
        }
        return out;
    }

    static void assertClose(float[] expected, float[] actual, int stride, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        double max = 0;
        int worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            if (d > max) {
                max = d;
                worst = i;
            }
        }
        System.out.println(what + ": max abs diff " + max);
        assertTrue(max <= TOLERANCE, what + ": max abs diff " + max + " at " + worst + " (expected " + expected[worst]
                + ", got " + actual[worst] + ", stride " + stride + ")");
    }
}
