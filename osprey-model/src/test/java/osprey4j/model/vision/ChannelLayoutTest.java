package osprey4j.model.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/** The layout changes against index arithmetic, on sizes that do not fill the tiles. */
class ChannelLayoutTest {
    @Test
    void toChannelsLastIsATranspose() {
        for (int[] s : new int[][] {{1, 1, 1}, {3, 5, 7}, {70, 9, 15}, {130, 66, 65}}) {
            int c = s[0], h = s[1], w = s[2];
            Tensor x = ConvNextLargeShapesTest.random(new SplittableRandom(c), DType.F32, 1f, c, h, w);
            Tensor y = ChannelLayout.toChannelsLast(x);
            assertArrayEquals(new long[] {(long) h * w, c}, y.shape());
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < h * w; p++) {
                    assertEquals(x.getFloat((long) ch * h * w + p), y.getFloat((long) p * c + ch));
                }
            }
        }
    }

    @Test
    void addScaledMultipliesThenAddsInChannelsFirstOrder() {
        int c = 67, pixels = 130;
        SplittableRandom rng = new SplittableRandom(3);
        Tensor mlp = ConvNextLargeShapesTest.random(rng, DType.F32, 1f, pixels, c);
        Tensor residual = ConvNextLargeShapesTest.random(rng, DType.F32, 1f, c, 10, 13);
        float[] before = residual.toFloatArray();
        float[] gamma = new float[c];
        for (int i = 0; i < c; i++) {
            gamma[i] = (float) rng.nextDouble();
        }
        ChannelLayout.addScaledToChannelsFirst(mlp, gamma, residual);
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < pixels; p++) {
                float expected = mlp.getFloat((long) p * c + ch) * gamma[ch] + before[ch * pixels + p];
                assertEquals(expected, residual.getFloat((long) ch * pixels + p));
            }
        }
    }

    @Test
    void linearProjectorIsOneLinear() {
        MemoryCheckpoint ck = new MemoryCheckpoint()
                .put("proj.weight", Tensor.copyOf(new float[] {1, 2, 3, 4, 5, 6}, 3, 2))
                .put("proj.bias", Tensor.copyOf(new float[] {1, 0, -1}, 3));
        Projector p = Projector.load(ck, "proj", "linear");
        Tensor out = p.forward(Tensor.copyOf(new float[] {1, 1, 2, 0}, 2, 2));
        assertArrayEquals(new float[] {4, 7, 10, 3, 6, 9}, out.toFloatArray());
    }
}
