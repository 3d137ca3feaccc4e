package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Normalisation layers on F32 activations; scales and shifts may be F32, BF16 or F16. A channels-first
 * {@code LayerNorm2d} (timm's ConvNeXt, SAM's neck and mask decoder) is {@link #layerNorm} on the map's
 * channels-last rows [H*W, C]: the same per-pixel arithmetic, so models keep their maps channels-last.
 *
 * <p>Statistics are accumulated in float, 16 partial sums per vector lane, in two passes (the mean first,
 * then the mean of squared deviations), which keeps the variance accurate even when the mean is large
 * compared to the spread; the tests bound the difference from a double-precision reference.
 */
public final class Norms {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int MIN_CHUNK_ELEMENTS = 1 << 14;

    private Norms() {
    }

    /**
     * LayerNorm over the last dimension, as {@code torch.nn.functional.layer_norm(x, (C,), weight, bias, eps)}:
     * {@code y = (x - mean) / sqrt(var + eps) * weight + bias} with the biased variance (divide by C).
     *
     * @param x      [..., C] input
     * @param weight [C] scale (gamma)
     * @param bias   [C] shift (beta)
     * @param out    output of x's shape; may be {@code x}
     */
    public static void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireF32(out, "out");
        KernelChecks.requireSameShape(x, out, "x", "out");
        int c = KernelChecks.lastDim(x);
        float[] w = paramFloats(weight, "weight", c);
        float[] b = paramFloats(bias, "bias", c);
        if (c == 0) {
            return;
        }
        int rows = Math.toIntExact(x.numel() / c);
        MemorySegment in = x.segment();
        MemorySegment o = out.segment();
        // One call per row: the row method is small and called many times, so the JIT compiles it fully within
        // the first call (a long loop inside one big lambda would run interpreted until an OSR compilation).
        ComputePool.parallelFor(rows, Math.max(1, MIN_CHUNK_ELEMENTS / c), (from, to) -> {
            for (int r = from; r < to; r++) {
                layerNormRow(in, o, (long) r * c * Float.BYTES, c, w, b, eps);
            }
        });
    }

    /** Normalises the row of c floats at byte offset {@code base} of {@code in} into {@code o}. */
    private static void layerNormRow(MemorySegment in, MemorySegment o, long base, int c, float[] w, float[] b,
                                     float eps) {
        float mean = sum(in, base, c) / c;
        FloatVector meanV = FloatVector.broadcast(F, mean);
        FloatVector sq = FloatVector.zero(F);
        // Whole vectors unmasked, then one masked tail: masked loads in the loop body are left to the Vector API's
        // Java fallback on AVX2 machines (several times slower); the lanes and their order are the same either way.
        int full = F.loopBound(c);
        int i = 0;
        for (; i < full; i += F.length()) {
            FloatVector d = FloatVector.fromMemorySegment(F, in, base + (long) i * Float.BYTES, LE).sub(meanV);
            sq = d.fma(d, sq);
        }
        if (i < c) {
            VectorMask<Float> m = F.indexInRange(i, c);
            FloatVector d = FloatVector.fromMemorySegment(F, in, base + (long) i * Float.BYTES, LE, m).sub(meanV);
            sq = d.fma(d, sq).blend(sq, m.not());
        }
        float rstd = (float) (1.0 / Math.sqrt(VectorMath.sumLanes(sq) / c + eps));
        for (i = 0; i < full; i += F.length()) {
            long off = base + (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(F, in, off, LE).sub(meanV).mul(rstd)
                    .fma(FloatVector.fromArray(F, w, i), FloatVector.fromArray(F, b, i)).intoMemorySegment(o, off, LE);
        }
        if (i < c) {
            VectorMask<Float> m = F.indexInRange(i, c);
            long off = base + (long) i * Float.BYTES;
            FloatVector wv = FloatVector.fromArray(F, w, i, m);
            FloatVector bv = FloatVector.fromArray(F, b, i, m);
            FloatVector.fromMemorySegment(F, in, off, LE, m).sub(meanV).mul(rstd).fma(wv, bv)
                    .intoMemorySegment(o, off, LE, m);
        }
    }

    /** {@link #layerNorm(Tensor, Tensor, Tensor, float, Tensor)} in place. */
    public static void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        layerNorm(x, weight, bias, eps, x);
    }

    /**
     * RMSNorm as Hugging Face's {@code LlamaRMSNorm} in float32:
     * {@code y = weight * (x * rsqrt(mean(x^2) + eps))}, the mean over the last dimension.
     *
     * @param out output of x's shape; may be {@code x}
     */
    public static void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireF32(out, "out");
        KernelChecks.requireSameShape(x, out, "x", "out");
        int c = KernelChecks.lastDim(x);
        if (weight.numel() != c) {
            throw new IllegalArgumentException("weight must have " + c + " elements, got " + weight);
        }
        if (c == 0) {
            return;
        }
        // The weight is read in its stored dtype and converted in registers: a decoder calls this twice per
        // layer per token, and a float copy of a BF16 weight each time would be garbage on every call.
        boolean inRegisters = weight.dtype().isWeightType();
        MemorySegment w = inRegisters ? weight.segment()
                : Tensor.wrap(KernelChecks.weightFloats(weight, "weight"), c).segment();
        DType wLoad = inRegisters ? weight.dtype() : DType.F32;
        int rows = Math.toIntExact(x.numel() / c);
        MemorySegment in = x.segment();
        MemorySegment o = out.segment();
        if (rows == 1) {
            rmsNormRow(in, w, wLoad, c, eps, o, 0);
            return;
        }
        ComputePool.parallelFor(rows, Math.max(1, MIN_CHUNK_ELEMENTS / c), (from, to) -> {
            for (int r = from; r < to; r++) {
                rmsNormRow(in, w, wLoad, c, eps, o, r);
            }
        });
    }

    /** One row of {@link #rmsNorm}: full vectors unmasked, then a scalar tail computed the same way. */
    private static void rmsNormRow(MemorySegment in, MemorySegment w, DType wType, int c, float eps, MemorySegment o,
            int r) {
        long base = (long) r * c * Float.BYTES;
        int full = F.loopBound(c);
        FloatVector sq = FloatVector.zero(F);
        for (int i = 0; i < full; i += F.length()) {
            FloatVector v = FloatVector.fromMemorySegment(F, in, base + (long) i * Float.BYTES, LE);
            sq = v.fma(v, sq);
        }
        float sumSq = VectorMath.sumLanes(sq);
        for (int i = full; i < c; i++) {
            float v = in.get(FLOAT, base + (long) i * Float.BYTES);
            sumSq = Math.fma(v, v, sumSq);
        }
        float rs = (float) (1.0 / Math.sqrt(sumSq / c + eps));
        for (int i = 0; i < full; i += F.length()) {
            long off = base + (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(F, in, off, LE).mul(rs).mul(VectorConvert.load(wType, w, i))
                    .intoMemorySegment(o, off, LE);
        }
        for (int i = full; i < c; i++) {
            long off = base + (long) i * Float.BYTES;
            o.set(FLOAT, off, in.get(FLOAT, off) * rs * VectorConvert.scalar(wType, w, i));
        }
    }

    /** {@link #rmsNorm(Tensor, Tensor, float, Tensor)} in place. */
    public static void rmsNorm(Tensor x, Tensor weight, float eps) {
        rmsNorm(x, weight, eps, x);
    }

    private static float sum(MemorySegment seg, long base, int n) {
        FloatVector s = FloatVector.zero(F);
        int full = F.loopBound(n);
        int i = 0;
        for (; i < full; i += F.length()) {
            s = s.add(FloatVector.fromMemorySegment(F, seg, base + (long) i * Float.BYTES, LE));
        }
        if (i < n) {
            s = s.add(FloatVector.fromMemorySegment(F, seg, base + (long) i * Float.BYTES, LE, F.indexInRange(i, n)));
        }
        return VectorMath.sumLanes(s);
    }

    private static float[] paramFloats(Tensor p, String name, int c) {
        if (p.numel() != c) {
            throw new IllegalArgumentException(name + " must have " + c + " elements, got " + p);
        }
        return KernelChecks.weightFloats(p, name);
    }
}
