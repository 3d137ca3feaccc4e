package osprey4j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Float weights to the block-quantised types, with the rounding rules of GGML's reference quantisers
 * ({@code quantize_row_q8_0_ref} and {@code quantize_row_q4_0_ref}), so that a weight quantised here has the
 * bytes llama.cpp's converter would give it:
 * <ul>
 *   <li>{@link DType#Q8_0}: {@code amax} the largest magnitude of the block, {@code d = amax / 127} in float,
 *       {@code q[i] = round(x[i] * (1/d))} rounding half away from zero (C's {@code roundf}); the scale is
 *       stored as f16 (nearest-even), but the quants are computed with the float {@code d};</li>
 *   <li>{@link DType#Q4_0}: {@code max} the signed value of largest magnitude (the first one, if several share
 *       it), {@code d = max / -8}, {@code q[i] = min(15, trunc(x[i] * (1/d) + 8.5))}, all in float; so the
 *       largest weight maps exactly to nibble 0 and d is negative when that weight is positive;</li>
 *   <li>an all-zero block gets {@code d = 0} and inverse scale 0, hence quants 0 (Q8_0) or 8 (Q4_0).</li>
 * </ul>
 * Finite inputs only: a NaN or infinite weight is refused (GGML's result for those is undefined behaviour of
 * a float-to-int cast).
 */
public final class Quantize {
    private static final int QK = 32;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private Quantize() {
    }

    /**
     * A new tensor of {@code target} (Q8_0 or Q4_0) with the shape of {@code src} (a floating tensor whose last
     * dimension is a whole number of blocks), quantised row by row.
     */
    public static Tensor quantize(Tensor src, DType target) {
        return quantize(src, target, null);
    }

    /** As {@link #quantize(Tensor, DType)}, the result allocated in {@code arena} (null: an automatic one). */
    public static Tensor quantize(Tensor src, DType target, java.lang.foreign.Arena arena) {
        if (!target.isBlockQuantized()) {
            throw new IllegalArgumentException("quantize: target must be Q8_0 or Q4_0, got " + target);
        }
        DType from = src.dtype();
        if (from != DType.F32 && from != DType.BF16 && from != DType.F16) {
            throw new IllegalArgumentException("quantize: source must be F32, BF16 or F16, got " + from);
        }
        // checks whole-block rows
        Tensor out = arena == null ? Tensor.zeros(target, src.shape()) : Tensor.zeros(arena, target, src.shape());
        long n = src.numel();
        int rowLen = n == 0 ? 0 : Math.toIntExact(src.dim(-1));
        float[] row = new float[rowLen];
        long rows = rowLen == 0 ? 0 : n / rowLen;
        long rowBytes = target.bytesFor(rowLen);
        for (long r = 0; r < rows; r++) {
            VectorConvert.toFloats(from, src.segment(), r * rowLen, row, 0, rowLen);
            quantizeRow(target, row, 0, rowLen, out.segment(), r * rowBytes);
        }
        return out;
    }

    /**
     * Quantises {@code count} floats (a whole number of blocks) from {@code x[offset..]} into blocks of
     * {@code target} written at byte {@code dstOffset} of {@code dst}.
     */
    public static void quantizeRow(DType target, float[] x, int offset, int count, MemorySegment dst, long dstOffset) {
        target.requireWholeBlocks(count);
        int blocks = count / QK;
        for (int b = 0; b < blocks; b++) {
            int base = offset + b * QK;
            long out = dstOffset + (long) b * target.blockBytes();
            switch (target) {
                case Q8_0 -> blockQ8(x, base, dst, out);
                case Q4_0 -> blockQ4(x, base, dst, out);
                default -> throw new IllegalArgumentException("not a block-quantised type: " + target);
            }
        }
    }

    private static void blockQ8(float[] x, int base, MemorySegment dst, long out) {
        float amax = 0f;
        for (int j = 0; j < QK; j++) {
            amax = Math.max(amax, Math.abs(finite(x[base + j])));
        }
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        dst.set(I16, out, Float.floatToFloat16(d));
        for (int j = 0; j < QK; j++) {
            dst.set(ValueLayout.JAVA_BYTE, out + 2 + j, (byte) roundHalfAwayFromZero(x[base + j] * id));
        }
    }

    private static void blockQ4(float[] x, int base, MemorySegment dst, long out) {
        float amax = 0f;
        float max = 0f;
        for (int j = 0; j < QK; j++) {
            float v = finite(x[base + j]);
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8f;
        float id = d != 0f ? 1f / d : 0f;
        dst.set(I16, out, Float.floatToFloat16(d));
        for (int j = 0; j < QK / 2; j++) {
            float x0 = x[base + j] * id;
            float x1 = x[base + QK / 2 + j] * id;
            // (int) truncates toward zero, as C's conversion to int8_t does; the sums are never below 0.
            int q0 = Math.min(15, (int) (x0 + 8.5f));
            int q1 = Math.min(15, (int) (x1 + 8.5f));
            dst.set(ValueLayout.JAVA_BYTE, out + 2 + j, (byte) (q0 | q1 << 4));
        }
    }

    /** C's {@code roundf}: halves away from zero (Math.round would take -2.5 to -2). */
    static int roundHalfAwayFromZero(float v) {
        // In double, |v| + 0.5 is exact for every float below 2^24 in magnitude, so no spurious carry.
        double r = Math.floor(Math.abs((double) v) + 0.5);
        return (int) Math.copySign(r, v);
    }

    private static float finite(float v) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException("quantize: weight " + v + " is not finite");
        }
        return v;
    }
}
