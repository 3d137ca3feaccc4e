package osprey4j.model.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.awt.color.ColorSpace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.kernels.BilinearResize;
import osprey4j.core.kernels.PillowResize;
import osprey4j.core.mask.Mask;
import osprey4j.core.tensor.Tensor;

/**
 * The parity fixtures made by the official PyTorch code (src/test/resources/parity/README.md): the small random
 * Osprey checkpoint, the input images and masks, and the reference's intermediate tensors per case.
 */
final class ParityFixtures {
    /** CLIP normalisation, as float32 (the reference normalises in float32). */
    private static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    private static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};
    static final int IMAGE_SIZE = 512;

    private ParityFixtures() {
    }

    static Path dir() {
        try {
            return Path.of(ParityFixtures.class.getResource("/parity/README.md").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Checkpoint ospreyWeights() {
        return Checkpoints.open(dir().resolve("model/pytorch_model.bin"));
    }

    static Checkpoint clipWeights() {
        return Checkpoints.open(dir().resolve("model/clip_vision_tower.bin"));
    }

    static Checkpoint dump(String caseName) {
        return Checkpoints.open(dir().resolve("dumps/case_" + caseName + ".safetensors"));
    }

    static JsonNode cases() {
        try {
            return new ObjectMapper().readTree(dir().resolve("cases.json").toFile()).get("cases");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The mask file names of a case, in region order (from cases.json). */
    static List<String> maskNames(String caseName) {
        List<String> names = new ArrayList<>();
        cases().get(caseName).get("masks").forEach(n -> names.add(n.asText()));
        return names;
    }

    /** A mask PNG as the reference reads it: {@code np.asarray(Image.open(png).convert('L')) > 0}. */
    static Mask readMask(String name) {
        BufferedImage img = read(name);
        if (img.getColorModel().getColorSpace().getType() != ColorSpace.TYPE_GRAY) {
            throw new IllegalStateException(name + " is not a grayscale PNG");
        }
        Raster r = img.getRaster();
        return Mask.fromPredicate(img.getWidth(), img.getHeight(), (x, y) -> r.getSample(x, y, 0) > 0);
    }

    static List<Mask> masks(String caseName) {
        return maskNames(caseName).stream().map(ParityFixtures::readMask).toList();
    }

    /** Width and height of an input image. */
    static int[] imageSize(String name) {
        BufferedImage img = read(name);
        return new int[] {img.getWidth(), img.getHeight()};
    }

    /**
     * The reference's pixel_values for a PNG input, made here from core kernels (the project's ImageProcessor is
     * another component): convert('RGB') (gray replicated, palette expanded, alpha dropped), Pillow bicubic to
     * shortest edge 512, x * (1/255) in double rounded to float, (x - mean) / std in float, torch bilinear to
     * 512 x 512. Checked against the dumps' pixel_values_s4 in the tests.
     */
    static Tensor pixelValues(String imageName) {
        BufferedImage img = read(imageName);
        int w = img.getWidth(), h = img.getHeight();
        byte[] rgb = new byte[w * h * 3];
        boolean gray = img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 3;
                if (gray) { // getRGB would apply a gray-to-sRGB conversion; PIL replicates the value
                    byte v = (byte) img.getRaster().getSample(x, y, 0);
                    rgb[o] = v;
                    rgb[o + 1] = v;
                    rgb[o + 2] = v;
                } else {
                    int argb = img.getRGB(x, y);
                    rgb[o] = (byte) (argb >> 16);
                    rgb[o + 1] = (byte) (argb >> 8);
                    rgb[o + 2] = (byte) argb;
                }
            }
        }
        int short_ = Math.min(w, h), long_ = Math.max(w, h);
        int other = (int) ((long) IMAGE_SIZE * long_ / short_);
        int rw = w <= h ? IMAGE_SIZE : other, rh = w <= h ? other : IMAGE_SIZE;
        byte[] resized = PillowResize.resize(rgb, w, h, 3, rw, rh);
        float[] planes = new float[3 * rw * rh];
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < rw * rh; p++) {
                float v = (float) ((resized[p * 3 + c] & 0xFF) * 0.00392156862745098);
                planes[c * rw * rh + p] = (v - MEAN[c]) / STD[c];
            }
        }
        return BilinearResize.resize(Tensor.wrap(planes, 3, rh, rw), IMAGE_SIZE, IMAGE_SIZE);
    }

    private static BufferedImage read(String name) {
        try {
            BufferedImage img = ImageIO.read(dir().resolve("inputs").resolve(name).toFile());
            if (img == null) {
                throw new IllegalStateException("cannot decode " + name);
            }
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every 4th row and column of a [C, H, W] map, starting at 0 (the dumps' NAME_s4). */
    static Tensor every4th(Tensor x) {
        int c = x.size(0), h = x.size(1), w = x.size(2);
        int sh = (h + 3) / 4, sw = (w + 3) / 4;
        float[] out = new float[c * sh * sw];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < sh; y++) {
                for (int xx = 0; xx < sw; xx++) {
                    out[(ch * sh + y) * sw + xx] = x.getFloat(((long) ch * h + 4L * y) * w + 4L * xx);
                }
            }
        }
        return Tensor.wrap(out, c, sh, sw);
    }

    /** Largest absolute difference; fails on a shape mismatch. */
    static double maxAbsDiff(Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), "shape of " + actual);
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        double max = 0;
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs((double) e[i] - a[i]);
            if (!(d <= max)) {
                max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            }
        }
        return max;
    }

    static void assertClose(Tensor expected, Tensor actual, double tolerance, String what) {
        double d = maxAbsDiff(expected, actual);
        System.out.printf("%-24s max abs diff %.2e (tolerance %.0e)%n", what, d, tolerance);
        assertTrue(d <= tolerance, what + ": max abs difference " + d + " > " + tolerance);
    }
}
