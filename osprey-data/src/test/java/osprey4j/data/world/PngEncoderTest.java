package osprey4j.data.world;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PngEncoderTest {
    @Test
    void imageIoReadsBackTheExactPixels() throws IOException {
        SplittableRandom rng = new SplittableRandom(3);
        for (int[] size : new int[][] {{1, 1}, {37, 23}, {300, 200}}) {
            int w = size[0], h = size[1];
            int[] rgb = new int[w * h];
            for (int i = 0; i < rgb.length; i++) {
                // Half noise, half gradient: both the Sub filter's wrap-around and long runs get exercised.
                rgb[i] = i % 2 == 0 ? rng.nextInt(1 << 24) : (i % w) * 255 / Math.max(1, w - 1) << 8 | 0x40;
            }
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(PngEncoder.encode(rgb, w, h)));
            assertEquals(w, img.getWidth());
            assertEquals(h, img.getHeight());
            int[] back = img.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < back.length; i++) {
                back[i] &= 0xFFFFFF;
            }
            assertArrayEquals(rgb, back);
        }
    }

    @Test
    void rejectsAWrongPixelCount() {
        assertThrows(IllegalArgumentException.class, () -> PngEncoder.encode(new int[5], 2, 2));
    }
}
