package osprey4j.train.export;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Seeded random F32 weights for every tensor of an {@link OspreyShape}, scaled as the parity fixtures' model is
 * (activations of order 1): linears and convolutions uniform in +-1/sqrt(fan-in), norm weights around 1,
 * layer-scale gammas in [0.2, 1.0], biases small but non-zero. For tests and for a model's starting point where
 * no pretrained part exists.
 *
 * <p>{@link #of} makes them all at once; {@link #streamed} makes each only when asked, from the same per-tensor
 * random stream, so a 7B model can be written tensor by tensor ({@link OfficialModelWriter#writeStreamed}) with
 * the very values {@link #of} gives.
 */
public final class RandomWeights {
    private static final int CHUNK = 1 << 16;
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(
            java.nio.ByteOrder.LITTLE_ENDIAN);

    private RandomWeights() {
    }

    public static Map<String, Tensor> of(OspreyShape shape, long seed) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Function<Arena, Tensor>> e : streamed(shape, seed).entrySet()) {
            out.put(e.getKey(), e.getValue().apply(Arena.ofAuto()));
        }
        return out;
    }

    /**
     * Every tensor of {@code shape} (in {@link OspreyShape#ospreyTensors()} order) as a function that makes it, F32,
     * in the arena it is given; each call makes the same values, those {@link #of} gives for the same seed. Only
     * the tensor's position is kept: its random stream is the k-th split of the seeded stream, derived again at
     * each call (k splits cost nothing next to the tensor's values).
     */
    public static Map<String, Function<Arena, Tensor>> streamed(OspreyShape shape, long seed) {
        Map<String, Function<Arena, Tensor>> out = new LinkedHashMap<>();
        int k = 0;
        for (Map.Entry<String, long[]> e : shape.ospreyTensors().entrySet()) {
            String name = e.getKey();
            long[] dims = e.getValue();
            int index = k++;
            out.put(name, arena -> tensor(arena, name, dims, stream(seed, index)));
        }
        return out;
    }

    /** The random stream of the {@code index}-th tensor: the seeded stream's split number index. */
    private static SplittableRandom stream(long seed, int index) {
        SplittableRandom root = new SplittableRandom(seed);
        SplittableRandom s = root.split();
        for (int i = 0; i < index; i++) {
            s = root.split();
        }
        return s;
    }

    private enum Kind { GAMMA, NORM, BIAS, EMBEDDING, LINEAR }

    private static Tensor tensor(Arena arena, String name, long[] shape, SplittableRandom random) {
        Tensor t = Tensor.zeros(arena, DType.F32, shape);
        long n = t.numel();
        boolean norm = name.contains("norm") || name.matches(".*stem\\.1\\..*|.*downsample\\.0\\..*");
        boolean bias = name.endsWith(".bias");
        long fanIn = shape.length == 1 ? shape[0] : n / shape[0];
        double bound = 1.0 / Math.sqrt(fanIn);
        Kind kind = name.endsWith(".gamma") ? Kind.GAMMA : norm && !bias ? Kind.NORM : bias ? Kind.BIAS
                : name.equals("model.embed_tokens.weight") ? Kind.EMBEDDING : Kind.LINEAR;
        float[] chunk = new float[(int) Math.min(CHUNK, Math.max(n, 1))];
        MemorySegment segment = t.segment();
        for (long from = 0; from < n; from += chunk.length) {
            int len = (int) Math.min(chunk.length, n - from);
            for (int i = 0; i < len; i++) {
                double u = random.nextDouble();
                double v = switch (kind) {
                    case GAMMA -> 0.2 + 0.8 * u;
                    case NORM -> 1.0 + 0.25 * (2 * u - 1);
                    case BIAS -> 0.05 * (2 * u - 1);
                    case EMBEDDING -> 2 * u - 1;
                    case LINEAR -> bound * (2 * u - 1);
                };
                chunk[i] = (float) v;
            }
            MemorySegment.copy(chunk, 0, segment, F32_LE, from * Float.BYTES, len);
        }
        return t;
    }
}
