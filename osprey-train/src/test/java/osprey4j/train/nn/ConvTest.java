package osprey4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The depthwise convolution's backward when only the bias trains (a frozen kernel). */
class ConvTest {
    @Test
    void aBiasAloneGetsTheColumnSumsOfTheOutputGradient() {
        SplittableRandom rnd = new SplittableRandom(4);
        int c = 19, h = 5, w = 6, k = 7; // channels off the vector width
        float[] x = new float[h * w * c], dy = new float[h * w * c], weight = new float[c * k * k];
        for (float[] a : new float[][] {x, dy, weight}) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
        }
        float[] dBiasAlone = new float[c];
        float[] dxAlone = Conv.depthwiseBackward(dy, x, c, h, w, weight, k, null, dBiasAlone, true);
        float[] dWeight = new float[c * k * k], dBias = new float[c];
        float[] dx = Conv.depthwiseBackward(dy, x, c, h, w, weight, k, dWeight, dBias, true);
        assertArrayEquals(dx, dxAlone, "the input gradient does not depend on what else trains");
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int p = 0; p < h * w; p++) {
                sum += dy[p * c + ch];
            }
            // 30 float additions of values below 1 in magnitude: a few 1e-6 from the double sum
            assertEquals(sum, dBiasAlone[ch], 1e-5, "channel " + ch);
            assertEquals(dBias[ch], dBiasAlone[ch], 1e-5, "channel " + ch + " with the kernel training too");
        }
    }
}
