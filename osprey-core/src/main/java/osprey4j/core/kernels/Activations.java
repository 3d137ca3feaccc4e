package osprey4j.core.kernels;

import static osprey4j.core.kernels.VectorMath.F;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.Tensor;

/**
 * Element-wise activation functions on F32 tensors of any shape. Each has an in-place form and an
 * out-of-place form whose output may be the input itself.
 */
public final class Activations {
    /** Elements per parallel chunk: below this, splitting costs more than it saves. */
    private static final int MIN_CHUNK = 1 << 15;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final float INV_SQRT2 = 0.70710678118654752f;
    /** Elements staged per scratch block: 4 KiB, which stays in L1 between the passes over it. */
    private static final int BLOCK = 1024;

    private enum Op {
        GELU, SILU, RELU
    }

    private Activations() {
    }

    /**
     * GELU, erf form: {@code 0.5 * x * (1 + erf(x / sqrt(2)))}, as {@code torch.nn.GELU()} (approximate='none').
     * erf is evaluated in float with absolute error below 1.5e-7 (see {@code VectorMath.erfInPlace}), so results
     * are within 1e-6 (absolute plus relative) of the exact GELU.
     */
    public static void gelu(Tensor x) {
        gelu(x, x);
    }

    /** {@link #gelu(Tensor)} into {@code out} (same shape; may be {@code x}). */
    public static void gelu(Tensor x, Tensor out) {
        map(Op.GELU, x, out);
    }

    /** SiLU (swish): {@code x * sigmoid(x) = x / (1 + exp(-x))}, as {@code torch.nn.functional.silu}. */
    public static void silu(Tensor x) {
        silu(x, x);
    }

    /** {@link #silu(Tensor)} into {@code out} (same shape; may be {@code x}). */
    public static void silu(Tensor x, Tensor out) {
        map(Op.SILU, x, out);
    }

    /** ReLU: {@code max(x, 0)}, as {@code torch.relu} (NaN stays NaN). */
    public static void relu(Tensor x) {
        relu(x, x);
    }

    /** {@link #relu(Tensor)} into {@code out} (same shape; may be {@code x}). */
    public static void relu(Tensor x, Tensor out) {
        map(Op.RELU, x, out);
    }

    /**
     * The gated MLP product of LLaMA: {@code out = silu(gate) * up}, i.e. {@code act_fn(gate_proj(x)) * up_proj(x)}
     * in Hugging Face's LlamaMLP. {@code out} may be {@code gate} or {@code up}.
     */
    public static void siluMul(Tensor gate, Tensor up, Tensor out) {
        check(gate, out);
        check(gate, up);
        run(Op.SILU, gate.segment(), up.segment(), out.segment(), Math.toIntExact(gate.numel()));
    }

    private static void check(Tensor x, Tensor out) {
        KernelChecks.requireF32(x, "input");
        KernelChecks.requireF32(out, "output");
        KernelChecks.requireSameShape(x, out, "input", "output");
    }

    private static void map(Op op, Tensor x, Tensor out) {
        check(x, out);
        run(op, x.segment(), null, out.segment(), Math.toIntExact(x.numel()));
    }

    /**
     * Applies {@code op} to n floats of {@code in}, multiplies by {@code mul} when it is not null, and writes
     * {@code out}. Works block by block: the transcendental part runs in {@link VectorMath}'s loops over a
     * cache-resident scratch block (see there why), the rest here. Tails use masked loads and stores, so every
     * element goes through the same formula.
     */
    private static void run(Op op, MemorySegment in, MemorySegment mul, MemorySegment out, int n) {
        // One call per block: the block methods are small and called many times, so the JIT compiles them fully
        // early in the first call (one long loop in a big method would run interpreted until an OSR compilation,
        // and C1 gives up on methods this vector-heavy).
        // Chunks are whole blocks, so only the very last block can be partial (a partial block first met late
        // would make the compiled block method trap back to the interpreter until it is recompiled).
        int blocks = (n + BLOCK - 1) / BLOCK;
        ComputePool.parallelFor(blocks, MIN_CHUNK / BLOCK, (from, to) -> {
            float[] buf = new float[BLOCK];
            for (int blk = from; blk < to; blk++) {
                int b = blk * BLOCK;
                int len = Math.min(BLOCK, n - b);
                long base = (long) b * Float.BYTES;
                switch (op) {
                    case GELU -> geluBlock(in, mul, out, base, len, buf);
                    case SILU -> siluBlock(in, mul, out, base, len, buf);
                    case RELU -> reluBlock(in, out, base, len);
                }
            }
        });
    }

    private static void geluBlock(MemorySegment in, MemorySegment mul, MemorySegment out, long base, int len,
                                  float[] buf) {
        // Full vectors unmasked, then at most one masked tail: no mask work (nor the JIT's speculation on it) in
        // the main loops. VectorMath.erfInPlace handles its own tail.
        int full = F.loopBound(len);
        for (int i = 0; i < full; i += F.length()) {
            FloatVector.fromMemorySegment(F, in, base + (long) i * Float.BYTES, LE).mul(INV_SQRT2).intoArray(buf, i);
        }
        if (full < len) {
            VectorMask<Float> m = F.indexInRange(full, len);
            FloatVector.fromMemorySegment(F, in, base + (long) full * Float.BYTES, LE, m).mul(INV_SQRT2)
                    .intoArray(buf, full);
        }
        VectorMath.erfInPlace(buf, len);
        // torch: x * 0.5 * (1 + erf(x / sqrt 2)); the factor 0.5 is exact in any position
        for (int i = 0; i < full; i += F.length()) {
            long off = base + (long) i * Float.BYTES;
            FloatVector y = FloatVector.fromMemorySegment(F, in, off, LE).mul(0.5f)
                    .mul(FloatVector.fromArray(F, buf, i).add(1f));
            if (mul != null) {
                y = y.mul(FloatVector.fromMemorySegment(F, mul, off, LE));
            }
            y.intoMemorySegment(out, off, LE);
        }
        if (full < len) {
            VectorMask<Float> m = F.indexInRange(full, len);
            long off = base + (long) full * Float.BYTES;
            FloatVector y = FloatVector.fromMemorySegment(F, in, off, LE, m).mul(0.5f)
                    .mul(FloatVector.fromArray(F, buf, full).add(1f));
            if (mul != null) {
                y = y.mul(FloatVector.fromMemorySegment(F, mul, off, LE, m));
            }
            y.intoMemorySegment(out, off, LE, m);
        }
    }

    private static void siluBlock(MemorySegment in, MemorySegment mul, MemorySegment out, long base, int len,
                                  float[] buf) {
        // as geluBlock: full vectors unmasked, then at most one masked tail
        int full = F.loopBound(len);
        for (int i = 0; i < full; i += F.length()) {
            FloatVector.fromMemorySegment(F, in, base + (long) i * Float.BYTES, LE).neg().intoArray(buf, i);
        }
        if (full < len) {
            VectorMask<Float> m = F.indexInRange(full, len);
            FloatVector.fromMemorySegment(F, in, base + (long) full * Float.BYTES, LE, m).neg().intoArray(buf, full);
        }
        VectorMath.expInPlace(buf, len);
        for (int i = 0; i < full; i += F.length()) {
            long off = base + (long) i * Float.BYTES;
            FloatVector x = FloatVector.fromMemorySegment(F, in, off, LE);
            FloatVector y = x.div(FloatVector.fromArray(F, buf, i).add(1f));
            if (mul != null) {
                y = y.mul(FloatVector.fromMemorySegment(F, mul, off, LE));
            }
            y.intoMemorySegment(out, off, LE);
        }
        if (full < len) {
            VectorMask<Float> m = F.indexInRange(full, len);
            long off = base + (long) full * Float.BYTES;
            FloatVector x = FloatVector.fromMemorySegment(F, in, off, LE, m);
            FloatVector y = x.div(FloatVector.fromArray(F, buf, full).add(1f));
            if (mul != null) {
                y = y.mul(FloatVector.fromMemorySegment(F, mul, off, LE, m));
            }
            y.intoMemorySegment(out, off, LE, m);
        }
    }

    private static void reluBlock(MemorySegment in, MemorySegment out, long base, int len) {
        // as geluBlock: full vectors unmasked, then at most one masked tail; Math.max semantics: NaN stays NaN
        int full = F.loopBound(len);
        for (int i = 0; i < full; i += F.length()) {
            long off = base + (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(F, in, off, LE).max(0f).intoMemorySegment(out, off, LE);
        }
        if (full < len) {
            VectorMask<Float> m = F.indexInRange(full, len);
            long off = base + (long) full * Float.BYTES;
            FloatVector.fromMemorySegment(F, in, off, LE, m).max(0f).intoMemorySegment(out, off, LE, m);
        }
    }
}
