package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class NormsTest {
    /*
     * Tolerances: the kernels accumulate in float (16 lane-wise partial sums, two passes), the reference in
     * double. For C up to a few thousand values of size ~|mean| + 3, the float mean and variance are within
     * ~1e-6 relative, so outputs of size ~3 (normalised values times weights ~1.5 plus bias) agree to
     * 1e-5 absolute; 1e-5 relative covers large weights.
     */
    private static final double ABS = 1e-5, REL = 1e-5;
    private static final int[] CHANNELS = {1, 2, 15, 16, 17, 192, 1000, 4099};

    @Test
    void layerNormMatchesScalarReference() {
        Random rnd = new Random(11);
        for (int c : CHANNELS) {
            int rows = 7;
            float[] x = Close.random(rnd, rows * c, 2f, 6f); // mean far from 0 exercises the two-pass variance
            float[] w = Close.random(rnd, c, 0.5f, 1.5f), b = Close.random(rnd, c, -1f, 1f);
            Tensor out = Tensor.zeros(DType.F32, rows, c);
            Norms.layerNorm(Tensor.copyOf(x, rows, c), Tensor.copyOf(w, c), Tensor.copyOf(b, c), 1e-6f, out);
            Close.assertClose(ScalarKernels.layerNorm(x, rows, c, w, b, 1e-6), out.toFloatArray(), ABS, REL, "layerNorm C=" + c);
        }
        Norms.layerNorm(Tensor.zeros(DType.F32, 0, 8), Tensor.zeros(DType.F32, 8), Tensor.zeros(DType.F32, 8), 1e-6f);
    }

    @Test
    void layerNormTakesHalfPrecisionWeights() {
        Random rnd = new Random(12);
        int c = 77;
        float[] x = Close.random(rnd, 3 * c, -2f, 2f);
        Tensor w = Tensor.copyOf(Close.random(rnd, c, 0.5f, 1.5f), c).to(DType.BF16);
        Tensor b = Tensor.copyOf(Close.random(rnd, c, -1f, 1f), c).to(DType.F16);
        Tensor t = Tensor.copyOf(x, 3, c);
        Norms.layerNorm(t, w, b, 1e-5f);
        Close.assertClose(ScalarKernels.layerNorm(x, 3, c, w.toFloatArray(), b.toFloatArray(), 1e-5), t.toFloatArray(),
                ABS, REL, "layerNorm with bf16/f16 parameters");
    }

    /** LayerNorm2d (channels-first) is layerNorm on the channels-last rows; checked against its own reference. */
    @Test
    void layerNormOnChannelsLastRowsIsLayerNorm2d() {
        Random rnd = new Random(13);
        for (int c : new int[]{1, 3, 16, 17, 192}) {
            for (int[] hw : new int[][]{{1, 1}, {3, 5}, {4, 4}, {7, 9}, {32, 33}}) {
                int pixels = hw[0] * hw[1];
                float[] x = Close.random(rnd, c * pixels, -3f, 5f);
                float[] w = Close.random(rnd, c, 0.5f, 1.5f), b = Close.random(rnd, c, -1f, 1f);
                Tensor rows = ChannelLayout.toChannelsLast(Tensor.copyOf(x, c, hw[0], hw[1]));
                Norms.layerNorm(rows, Tensor.copyOf(w, c), Tensor.copyOf(b, c), 1e-6f);
                Close.assertClose(ScalarKernels.layerNorm2d(x, c, pixels, w, b, 1e-6),
                        ChannelLayout.toChannelsFirst(rows, hw[0], hw[1]).toFloatArray(), ABS, REL,
                        "LayerNorm2d C=" + c + " " + hw[0] + "x" + hw[1]);
            }
        }
    }

    @Test
    void rmsNormMatchesScalarReference() {
        Random rnd = new Random(14);
        for (int c : CHANNELS) {
            float[] x = Close.random(rnd, 5 * c, -3f, 3f);
            float[] w = Close.random(rnd, c, 0.5f, 1.5f);
            Tensor t = Tensor.copyOf(x, 5, c);
            Norms.rmsNorm(t, Tensor.copyOf(w, c), 1e-5f);
            Close.assertClose(ScalarKernels.rmsNorm(x, 5, c, w, 1e-5), t.toFloatArray(), ABS, REL, "rmsNorm C=" + c);
        }
    }

    @Test
    void rmsNormReadsSixteenBitWeightsAndSingleRows() {
        Random rnd = new Random(15);
        for (DType dtype : new DType[] {DType.BF16, DType.F16}) {
            for (int c : CHANNELS) {
                for (int rows : new int[] {1, 3}) {
                    float[] x = Close.random(rnd, rows * c, -3f, 3f);
                    Tensor w16 = Tensor.copyOf(Close.random(rnd, c, 0.5f, 1.5f), c).to(dtype);
                    // the reference gets the weight as the 16-bit tensor holds it
                    float[] expected = ScalarKernels.rmsNorm(x, rows, c, w16.toFloatArray(), 1e-5);
                    Tensor out = Tensor.zeros(DType.F32, rows, c);
                    Norms.rmsNorm(Tensor.copyOf(x, rows, c), w16, 1e-5f, out);
                    Close.assertClose(expected, out.toFloatArray(), ABS, REL,
                            "rmsNorm " + dtype + " weight, " + rows + " rows, C=" + c);
                }
            }
        }
    }

    @Test
    void matchTorch() {
        Fixtures.Case ln = Fixtures.single("layer_norm");
        Tensor x = ln.tensor("input");
        Norms.layerNorm(x, ln.tensor("weight"), ln.tensor("bias"), (float) ln.paramDouble("eps"));
        Close.assertClose(ln.floats("output"), x.toFloatArray(), ABS, REL, "layer_norm vs torch");

        Fixtures.Case ln2 = Fixtures.single("layer_norm2d");
        Tensor map = ln2.tensor("input");
        Tensor y = ChannelLayout.toChannelsLast(map);
        Norms.layerNorm(y, ln2.tensor("weight"), ln2.tensor("bias"), (float) ln2.paramDouble("eps"));
        Close.assertClose(ln2.floats("output"), ChannelLayout.toChannelsFirst(y, map.dim(1), map.dim(2)).toFloatArray(),
                ABS, REL, "LayerNorm2d vs torch");

        Fixtures.Case rms = Fixtures.single("rms_norm");
        Tensor z = rms.tensor("input");
        Norms.rmsNorm(z, rms.tensor("weight"), (float) rms.paramDouble("eps"));
        Close.assertClose(rms.floats("output"), z.toFloatArray(), ABS, REL, "LlamaRMSNorm vs torch");
    }

    @Test
    void rejectsWrongParameterSizes() {
        assertThrows(IllegalArgumentException.class, () -> Norms.layerNorm(Tensor.zeros(DType.F32, 2, 8),
                Tensor.zeros(DType.F32, 7), Tensor.zeros(DType.F32, 8), 1e-6f));
        assertThrows(IllegalArgumentException.class, () -> Norms.rmsNorm(Tensor.zeros(DType.F32, 2, 8),
                Tensor.zeros(DType.F32, 9), 1e-6f));
    }
}
