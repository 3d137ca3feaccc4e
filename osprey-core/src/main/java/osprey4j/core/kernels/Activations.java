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

    private enum Op {
        GELU, SILU, RELU
    }

    private Activations() {
    }

    /**
     * GELU, erf form: {@code 0.5 * x * (1 + erf(x / sqrt(2)))}, as {@code torch.nn.GELU()} (approximate='none').
     * erf is evaluated in float with absolute error below 1.5e-7 (see {@code VectorMath.erf}).
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
        MemorySegment g = gate.segment();
        MemorySegment u = up.segment();
        MemorySegment o = out.segment();
        ComputePool.parallelFor(Math.toIntExact(gate.numel()), MIN_CHUNK, (from, to) -> {
            for (int i = from; i < to; i += F.length()) {
                VectorMask<Float> m = F.indexInRange(i, to);
                long off = (long) i * Float.BYTES;
                FloatVector gv = FloatVector.fromMemorySegment(F, g, off, LE, m);
                FloatVector uv = FloatVector.fromMemorySegment(F, u, off, LE, m);
                silu(gv).mul(uv).intoMemorySegment(o, off, LE, m);
            }
        });
    }

    private static void check(Tensor x, Tensor out) {
        KernelChecks.requireF32(x, "input");
        KernelChecks.requireF32(out, "output");
        KernelChecks.requireSameShape(x, out, "input", "output");
    }

    private static void map(Op op, Tensor x, Tensor out) {
        check(x, out);
        MemorySegment in = x.segment();
        MemorySegment o = out.segment();
        ComputePool.parallelFor(Math.toIntExact(x.numel()), MIN_CHUNK, (from, to) -> {
            for (int i = from; i < to; i += F.length()) {
                // a masked tail keeps every element on the same formula as the vector body
                VectorMask<Float> m = F.indexInRange(i, to);
                long off = (long) i * Float.BYTES;
                FloatVector v = FloatVector.fromMemorySegment(F, in, off, LE, m);
                FloatVector r = switch (op) {
                    case GELU -> gelu(v);
                    case SILU -> silu(v);
                    case RELU -> v.max(0f); // Math.max semantics: NaN stays NaN
                };
                r.intoMemorySegment(o, off, LE, m);
            }
        });
    }

    static FloatVector gelu(FloatVector x) {
        return VectorMath.erf(x.mul(INV_SQRT2)).add(1f).mul(x).mul(0.5f);
    }

    static FloatVector silu(FloatVector x) {
        return x.div(VectorMath.exp(x.neg()).add(1f));
    }
}
