package osprey4j.model.vision;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.InMemoryCheckpoint;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Floats;
import osprey4j.core.tensor.Tensor;

/**
 * A ConvNeXt trunk with random weights in open_clip's CLIP-file layout ({@code visual.trunk.*}), held in memory:
 * for benchmarks and shape tests that need a tower of the real size without the real weights. Values are
 * uniform and scaled (1/sqrt(fan-in) for convolutions and linears, norms around 1, layer-scales around 0.1) so
 * that activations stay of order 1 through all blocks, as in a trained network.
 */
public final class RandomConvNext {
    /** open_clip's key prefix of the trunk in a CLIP file. */
    public static final String PREFIX = "visual.trunk.";
    private static final int[] LARGE_DIMS = {192, 384, 768, 1536};
    private static final int[] LARGE_DEPTHS = {3, 3, 27, 3};

    private RandomConvNext() {
    }

    /** Channels per stage of ConvNeXt-Large, Osprey-7B's tower. */
    public static int[] largeDims() {
        return LARGE_DIMS.clone();
    }

    /** Blocks per stage of ConvNeXt-Large. */
    public static int[] largeDepths() {
        return LARGE_DEPTHS.clone();
    }

    /**
     * The weights of a ConvNeXt with 4x4 stem, 7x7 depthwise convolutions, MLP ratio 4 and 2x2 downsampling.
     *
     * @param dims   channels per stage
     * @param depths blocks per stage
     * @param dtype  weight dtype: F32, F16 or BF16
     * @param seed   the same seed gives the same values (whatever the dtype, up to its rounding)
     */
    public static Checkpoint openClip(int[] dims, int[] depths, DType dtype, long seed) {
        if (dims.length != depths.length || dims.length == 0) {
            throw new IllegalArgumentException("need one depth per stage, got dims " + dims.length + " and depths "
                    + depths.length);
        }
        if (!dtype.isWeightType()) {
            throw new IllegalArgumentException("weights must be " + DType.weightTypeNames() + ", got " + dtype);
        }
        Map<String, Tensor> t = new LinkedHashMap<>();
        Filler f = new Filler(dtype, seed, t);
        f.put("stem.0.weight", 0, 1 / (float) Math.sqrt(48), dims[0], 3, 4, 4);
        f.put("stem.0.bias", 0, 0.1f, dims[0]);
        f.put("stem.1.weight", 1, 0.1f, dims[0]);
        f.put("stem.1.bias", 0, 0.1f, dims[0]);
        int prev = dims[0];
        for (int s = 0; s < dims.length; s++) {
            int ch = dims[s];
            String p = "stages." + s + ".";
            if (s > 0) {
                f.put(p + "downsample.0.weight", 1, 0.1f, prev);
                f.put(p + "downsample.0.bias", 0, 0.1f, prev);
                f.put(p + "downsample.1.weight", 0, 1 / (float) Math.sqrt(4.0 * prev), ch, prev, 2, 2);
                f.put(p + "downsample.1.bias", 0, 0.1f, ch);
            }
            for (int b = 0; b < depths[s]; b++) {
                String q = p + "blocks." + b + ".";
                f.put(q + "gamma", 0.1f, 0.05f, ch);
                f.put(q + "conv_dw.weight", 0, 1 / 7f, ch, 1, 7, 7);
                f.put(q + "conv_dw.bias", 0, 0.1f, ch);
                f.put(q + "norm.weight", 1, 0.1f, ch);
                f.put(q + "norm.bias", 0, 0.1f, ch);
                f.put(q + "mlp.fc1.weight", 0, 1 / (float) Math.sqrt(ch), 4L * ch, ch);
                f.put(q + "mlp.fc1.bias", 0, 0.1f, 4L * ch);
                f.put(q + "mlp.fc2.weight", 0, 1 / (float) Math.sqrt(4.0 * ch), ch, 4L * ch);
                f.put(q + "mlp.fc2.bias", 0, 0.1f, ch);
            }
            prev = ch;
        }
        return new InMemoryCheckpoint("<random ConvNeXt>", t);
    }

    /** Makes each tensor from its own stream (seed and key), filling chunks of it in parallel. */
    private record Filler(DType dtype, long seed, Map<String, Tensor> out) {
        private static final int CHUNK = 1 << 16;

        void put(String key, float center, float spread, long... shape) {
            Tensor t = Tensor.zeros(dtype, shape);
            MemorySegment s = t.segment();
            long n = t.numel();
            long streamSeed = seed * 0x9E3779B97F4A7C15L + key.hashCode();
            int chunks = Math.toIntExact((n + CHUNK - 1) / CHUNK);
            ComputePool.parallelFor(chunks, 1, (from, to) -> {
                for (int c = from; c < to; c++) {
                    SplittableRandom rng = new SplittableRandom(streamSeed + c * 0x632BE59BD9B4E019L);
                    long end = Math.min(n, (long) (c + 1) * CHUNK);
                    for (long i = (long) c * CHUNK; i < end; i++) {
                        float v = center + spread * (float) (2 * rng.nextDouble() - 1);
                        switch (dtype) {
                            case F32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
                            case F16 -> s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.floatToF16(v));
                            default -> s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.floatToBf16(v));
                        }
                    }
                }
            });
            out.put(PREFIX + key, t);
        }
    }
}
