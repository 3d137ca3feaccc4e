package osprey4j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;

/**
 * Matrix-vector product out[N] = W[N,K] · x[K] (+ bias[N]): one token of decoding through a
 * {@code Linear} layer. It is memory-bound, so the kernel streams every weight exactly once in its stored
 * dtype (F32, BF16 or F16, converted in registers), works on four rows at a time so that four independent
 * FMA chains and four memory streams are in flight, and hands blocks of rows to the compute pool's threads.
 *
 * <p>Q8_0 and Q4_0 weights (K a multiple of 32) are read a block at a time: the block's int8 quants (or its
 * nibbles, masked, shifted and offset by 8) are widened to floats in registers, multiplied with x, and the
 * block's partial sums scaled by its f16 scale into the row's accumulator. x stays F32 (GGML instead rounds
 * x to Q8_0 too), so the result is the dequantised weights' product up to float summation order.
 *
 * <p>Callers normally go through {@link Gemm#linear}, which validates shapes and sends M == 1 here.
 */
public final class MatVec {
    /** Rows per work item (a multiple of ROWS_AT_ONCE). */
    private static final int ROWS_PER_BLOCK = 64;
    private static final int ROWS_AT_ONCE = 4;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Float> F = VectorConvert.F;
    /** Bytes in as many lanes as a float vector has (16 with AVX-512), or null when that is no vector shape. */
    private static final VectorSpecies<Byte> B = VectorConvert.B;
    private static final int QK = 32;
    private static final jdk.incubator.vector.VectorSpecies<Integer> I = VectorConvert.I;
    private static final ValueLayout.OfShort SCALE = ValueLayout.JAVA_SHORT_UNALIGNED;

    private MatVec() {
    }

    /**
     * out[n] = sum_k W[n,k] x[k] + bias[n] for n in [0, N). {@code w} holds N x K elements of {@code dtype}
     * row-major; {@code x} has K floats; {@code bias} is null or N floats; {@code out} receives N F32 values.
     */
    static void compute(DType dtype, MemorySegment w, int n, int k, float[] x, float[] bias, MemorySegment out) {
        if (n == 0) {
            return;
        }
        float[] xSums = dtype == DType.Q4_0 && B != null ? blockSums(x, k) : null;
        if ((long) n * k < 1L << 16) {
            rows(dtype, w, k, x, xSums, bias, out, 0, n);
            return;
        }
        // Rows in small blocks taken from a shared counter: a thread slowed by another process does fewer.
        int blocks = (n + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
        AtomicInteger next = new AtomicInteger();
        ComputePool.parallelFor(ComputePool.threads(), 1, (from, to) -> {
            for (int b = next.getAndIncrement(); b < blocks; b = next.getAndIncrement()) {
                rows(dtype, w, k, x, xSums, bias, out, b * ROWS_PER_BLOCK, Math.min(n, (b + 1) * ROWS_PER_BLOCK));
            }
        });
    }

    /** Sum of x over each block of 32 (K a multiple of 32): the Q4_0 kernel's offset term, once per product. */
    private static float[] blockSums(float[] x, int k) {
        float[] sums = new float[k / QK];
        for (int b = 0; b < sums.length; b++) {
            float sum = 0f;
            for (int i = b * QK; i < (b + 1) * QK; i++) {
                sum += x[i];
            }
            sums[b] = sum;
        }
        return sums;
    }

    /** Rows [from, to); {@code xSums} holds x's block sums for Q4_0 (see {@link #fourRowsQ4}), else null. */
    private static void rows(DType dtype, MemorySegment w, int k, float[] x, float[] xSums, float[] bias,
            MemorySegment out,
            int from, int to) {
        int row = from;
        for (; row <= to - ROWS_AT_ONCE; row += ROWS_AT_ONCE) {
            switch (dtype) {
                case F32 -> fourRowsF32(w, k, x, row, bias, out);
                case BF16 -> fourRowsBf16(w, k, x, row, bias, out);
                case F16 -> fourRowsF16(w, k, x, row, bias, out);
                case Q8_0, Q4_0 -> {
                    if (B == null) {
                        for (int r = row; r < row + ROWS_AT_ONCE; r++) {
                            oneRowDequantised(dtype, w, k, x, r, bias, out);
                        }
                    } else {
                        if (dtype == DType.Q8_0) {
                            fourRowsQ8(w, k, x, row, bias, out);
                        } else {
                            fourRowsQ4(w, k, x, xSums, row, bias, out);
                        }
                    }
                }
                default -> throw new IllegalArgumentException("no matrix-vector kernel for " + dtype);
            }
        }
        for (; row < to; row++) {
            if (dtype.isBlockQuantized()) {
                oneRowDequantised(dtype, w, k, x, row, bias, out);
            } else {
                oneRow(dtype, w, k, x, row, bias, out);
            }
        }
    }

    /*
     * The quantised kernels are written out per type with the block body inline, no helper methods: a vector
     * passed to or returned from a method C2 does not inline is boxed, and a helper already compiled on its own
     * to more than InlineSmallCode bytes is not inlined (Q4_0 ran 100x slower with helpers). The quants
     * are widened to int lanes first (B2I, a single sign-extending move) and converted to float (I2F); the
     * nibbles are masked and shifted as ints, where x86 has the shifts that bytes lack.
     */

    /*
     * Each of the four rows is a slice of its own, and every access inside the block loop uses the same
     * offset into the four slices: C2 then computes one address per block and checks one bound for the four
     * rows (the slices have the same length), instead of an address and a bounds check per row and load.
     * On the C2 code of the Q8_0 loop that is 80 instructions per block of four rows instead of 122, of which
     * 3 bounds checks instead of 9, and no spilled addresses (docs/decode-kernels.md has the listing). The
     * block's first product starts its partial sum (mul), so no zero vector is copied per row and block.
     */

    /** Four rows of Q8_0: per block and row the quants times x in a vector, then one FMA with the scale. */
    private static void fourRowsQ8(MemorySegment w, int k, float[] x, int row, float[] bias, MemorySegment out) {
        int blocks = k / QK;
        long rowBytes = (long) blocks * 34;
        long r0 = row * rowBytes;
        MemorySegment w0 = w.asSlice(r0, rowBytes);
        MemorySegment w1 = w.asSlice(r0 + rowBytes, rowBytes);
        MemorySegment w2 = w.asSlice(r0 + 2 * rowBytes, rowBytes);
        MemorySegment w3 = w.asSlice(r0 + 3 * rowBytes, rowBytes);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int lanes = F.length();
        for (int b = 0; b < blocks; b++) {
            long base = (long) b * 34;
            long q = base + 2;
            FloatVector xv = FloatVector.fromArray(F, x, b * QK);
            FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(B, w0, q, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(xv);
            FloatVector s1 = ((FloatVector) ByteVector.fromMemorySegment(B, w1, q, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(xv);
            FloatVector s2 = ((FloatVector) ByteVector.fromMemorySegment(B, w2, q, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(xv);
            FloatVector s3 = ((FloatVector) ByteVector.fromMemorySegment(B, w3, q, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(xv);
            for (int p = lanes; p < QK; p += lanes) {
                xv = FloatVector.fromArray(F, x, b * QK + p);
                s0 = ((FloatVector) ByteVector.fromMemorySegment(B, w0, q + p, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(xv, s0);
                s1 = ((FloatVector) ByteVector.fromMemorySegment(B, w1, q + p, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(xv, s1);
                s2 = ((FloatVector) ByteVector.fromMemorySegment(B, w2, q + p, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(xv, s2);
                s3 = ((FloatVector) ByteVector.fromMemorySegment(B, w3, q + p, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(xv, s3);
            }
            a0 = s0.fma(FloatVector.broadcast(F, Float.float16ToFloat(w0.get(SCALE, base))), a0);
            a1 = s1.fma(FloatVector.broadcast(F, Float.float16ToFloat(w1.get(SCALE, base))), a1);
            a2 = s2.fma(FloatVector.broadcast(F, Float.float16ToFloat(w2.get(SCALE, base))), a2);
            a3 = s3.fma(FloatVector.broadcast(F, Float.float16ToFloat(w3.get(SCALE, base))), a3);
        }
        store(out, row, VectorMath.sumLanes(a0), bias);
        store(out, row + 1, VectorMath.sumLanes(a1), bias);
        store(out, row + 2, VectorMath.sumLanes(a2), bias);
        store(out, row + 3, VectorMath.sumLanes(a3), bias);
    }

    /**
     * Four rows of Q4_0: byte j of a block holds weight j (low nibble) and weight j + 16 (high nibble), each
     * stored plus 8. The kernel multiplies x by the stored nibbles and takes the offset off once per block and
     * row as a scalar, d * 8 * sum(x over the block) (the sums come once per product in {@code xSums}): that
     * saves a vector subtraction for every 16 weights of every row.
     */
    private static void fourRowsQ4(MemorySegment w, int k, float[] x, float[] xSums, int row, float[] bias,
            MemorySegment out) {
        int blocks = k / QK;
        long rowBytes = (long) blocks * 18;
        long r0 = row * rowBytes;
        MemorySegment w0 = w.asSlice(r0, rowBytes);
        MemorySegment w1 = w.asSlice(r0 + rowBytes, rowBytes);
        MemorySegment w2 = w.asSlice(r0 + 2 * rowBytes, rowBytes);
        MemorySegment w3 = w.asSlice(r0 + 3 * rowBytes, rowBytes);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        float o0 = 0f;
        float o1 = 0f;
        float o2 = 0f;
        float o3 = 0f;
        int lanes = F.length();
        for (int b = 0; b < blocks; b++) {
            long base = (long) b * 18;
            FloatVector xlo = FloatVector.fromArray(F, x, b * QK);
            FloatVector xhi = FloatVector.fromArray(F, x, b * QK + QK / 2);
            IntVector n0 = (IntVector) ByteVector.fromMemorySegment(B, w0, base + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector n1 = (IntVector) ByteVector.fromMemorySegment(B, w1, base + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector n2 = (IntVector) ByteVector.fromMemorySegment(B, w2, base + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector n3 = (IntVector) ByteVector.fromMemorySegment(B, w3, base + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector s0 = ((FloatVector) n0.and(0x0F).convert(VectorOperators.I2F, 0)).mul(xlo);
            FloatVector s1 = ((FloatVector) n1.and(0x0F).convert(VectorOperators.I2F, 0)).mul(xlo);
            FloatVector s2 = ((FloatVector) n2.and(0x0F).convert(VectorOperators.I2F, 0)).mul(xlo);
            FloatVector s3 = ((FloatVector) n3.and(0x0F).convert(VectorOperators.I2F, 0)).mul(xlo);
            s0 = ((FloatVector) n0.lanewise(VectorOperators.ASHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).fma(xhi, s0);
            s1 = ((FloatVector) n1.lanewise(VectorOperators.ASHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).fma(xhi, s1);
            s2 = ((FloatVector) n2.lanewise(VectorOperators.ASHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).fma(xhi, s2);
            s3 = ((FloatVector) n3.lanewise(VectorOperators.ASHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).fma(xhi, s3);
            for (int p = lanes; p < QK / 2; p += lanes) { // only where a vector has fewer than 16 floats
                xlo = FloatVector.fromArray(F, x, b * QK + p);
                xhi = FloatVector.fromArray(F, x, b * QK + QK / 2 + p);
                long q = base + 2 + p;
                n0 = (IntVector) ByteVector.fromMemorySegment(B, w0, q, LE).convertShape(VectorOperators.B2I, I, 0);
                n1 = (IntVector) ByteVector.fromMemorySegment(B, w1, q, LE).convertShape(VectorOperators.B2I, I, 0);
                n2 = (IntVector) ByteVector.fromMemorySegment(B, w2, q, LE).convertShape(VectorOperators.B2I, I, 0);
                n3 = (IntVector) ByteVector.fromMemorySegment(B, w3, q, LE).convertShape(VectorOperators.B2I, I, 0);
                s0 = ((FloatVector) n0.and(0x0F).convert(VectorOperators.I2F, 0)).fma(xlo, s0);
                s1 = ((FloatVector) n1.and(0x0F).convert(VectorOperators.I2F, 0)).fma(xlo, s1);
                s2 = ((FloatVector) n2.and(0x0F).convert(VectorOperators.I2F, 0)).fma(xlo, s2);
                s3 = ((FloatVector) n3.and(0x0F).convert(VectorOperators.I2F, 0)).fma(xlo, s3);
                s0 = ((FloatVector) n0.lanewise(VectorOperators.ASHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).fma(xhi, s0);
                s1 = ((FloatVector) n1.lanewise(VectorOperators.ASHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).fma(xhi, s1);
                s2 = ((FloatVector) n2.lanewise(VectorOperators.ASHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).fma(xhi, s2);
                s3 = ((FloatVector) n3.lanewise(VectorOperators.ASHR, 4).and(0x0F).convert(VectorOperators.I2F, 0)).fma(xhi, s3);
            }
            float d0 = Float.float16ToFloat(w0.get(SCALE, base));
            float d1 = Float.float16ToFloat(w1.get(SCALE, base));
            float d2 = Float.float16ToFloat(w2.get(SCALE, base));
            float d3 = Float.float16ToFloat(w3.get(SCALE, base));
            a0 = s0.fma(FloatVector.broadcast(F, d0), a0);
            a1 = s1.fma(FloatVector.broadcast(F, d1), a1);
            a2 = s2.fma(FloatVector.broadcast(F, d2), a2);
            a3 = s3.fma(FloatVector.broadcast(F, d3), a3);
            float xs = xSums[b];
            o0 = Math.fma(d0, xs, o0);
            o1 = Math.fma(d1, xs, o1);
            o2 = Math.fma(d2, xs, o2);
            o3 = Math.fma(d3, xs, o3);
        }
        store(out, row, VectorMath.sumLanes(a0) - 8f * o0, bias);
        store(out, row + 1, VectorMath.sumLanes(a1) - 8f * o1, bias);
        store(out, row + 2, VectorMath.sumLanes(a2) - 8f * o2, bias);
        store(out, row + 3, VectorMath.sumLanes(a3) - 8f * o3, bias);
    }

    /** One row of Q8_0/Q4_0: vector blocks where the shape allows, else the dequantised row times x. */
    private static void oneRowDequantised(DType dtype, MemorySegment w, int k, float[] x, int row, float[] bias,
            MemorySegment out) {
        long rowBytes = dtype.bytesFor(k);
        if (B != null) {
            int lanes = F.length();
            FloatVector acc = FloatVector.zero(F);
            boolean q8 = dtype == DType.Q8_0;
            for (int b = 0; b < k / QK; b++) {
                long base = row * rowBytes + (long) b * dtype.blockBytes();
                FloatVector s = FloatVector.zero(F);
                if (q8) {
                    for (int p = 0; p < QK; p += lanes) {
                        s = ((FloatVector) ByteVector.fromMemorySegment(B, w, base + 2 + p, LE)
                                .convertShape(VectorOperators.B2I, I, 0).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.fromArray(F, x, b * QK + p), s);
                    }
                } else {
                    for (int p = 0; p < QK / 2; p += lanes) {
                        IntVector n = (IntVector) ByteVector.fromMemorySegment(B, w, base + 2 + p, LE)
                                .convertShape(VectorOperators.B2I, I, 0);
                        s = ((FloatVector) n.and(0x0F).sub(8).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.fromArray(F, x, b * QK + p), s);
                        s = ((FloatVector) n.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8)
                                .convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, b * QK + QK / 2 + p), s);
                    }
                }
                acc = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(SCALE, base))), acc);
            }
            store(out, row, VectorMath.sumLanes(acc), bias);
            return;
        }
        float[] weights = new float[k];
        VectorConvert.toFloats(dtype, w, (long) row * k, weights, 0, k);
        float sum = 0f;
        for (int i = 0; i < k; i++) {
            sum = Math.fma(weights[i], x[i], sum);
        }
        store(out, row, sum, bias);
    }

    /*
     * The three four-row loops differ only in how a weight vector is loaded. They are written out per dtype
     * (rather than calling VectorConvert.load with a dtype switch inside the loop) so that each inner loop is
     * branch-free and C2 keeps the four accumulators and x in registers.
     */

    private static void fourRowsF32(MemorySegment w, int k, float[] x, int row, float[] bias, MemorySegment out) {
        int lanes = VectorConvert.F.length();
        long r0 = (long) row * k * 4;
        long rowBytes = (long) k * 4;
        FloatVector a0 = FloatVector.zero(VectorConvert.F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (; i <= k - lanes; i += lanes) {
            FloatVector xv = FloatVector.fromArray(VectorConvert.F, x, i);
            long off = r0 + (long) i * 4;
            a0 = FloatVector.fromMemorySegment(VectorConvert.F, w, off, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(VectorConvert.F, w, off + rowBytes,
                    LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(VectorConvert.F, w, off + 2 * rowBytes,
                    LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(VectorConvert.F, w, off + 3 * rowBytes,
                    LE).fma(xv, a3);
        }
        finishFour(DType.F32, w, k, x, row, i, a0, a1, a2, a3, bias, out);
    }

    private static void fourRowsBf16(MemorySegment w, int k, float[] x, int row, float[] bias, MemorySegment out) {
        int lanes = VectorConvert.F.length();
        long r0 = (long) row * k * 2;
        long rowBytes = (long) k * 2;
        FloatVector a0 = FloatVector.zero(VectorConvert.F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (; i <= k - lanes; i += lanes) {
            FloatVector xv = FloatVector.fromArray(VectorConvert.F, x, i);
            long off = r0 + (long) i * 2;
            a0 = VectorConvert.bf16(w, off).fma(xv, a0);
            a1 = VectorConvert.bf16(w, off + rowBytes).fma(xv, a1);
            a2 = VectorConvert.bf16(w, off + 2 * rowBytes).fma(xv, a2);
            a3 = VectorConvert.bf16(w, off + 3 * rowBytes).fma(xv, a3);
        }
        finishFour(DType.BF16, w, k, x, row, i, a0, a1, a2, a3, bias, out);
    }

    private static void fourRowsF16(MemorySegment w, int k, float[] x, int row, float[] bias, MemorySegment out) {
        int lanes = VectorConvert.F.length();
        long r0 = (long) row * k * 2;
        long rowBytes = (long) k * 2;
        FloatVector a0 = FloatVector.zero(VectorConvert.F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (; i <= k - lanes; i += lanes) {
            FloatVector xv = FloatVector.fromArray(VectorConvert.F, x, i);
            long off = r0 + (long) i * 2;
            a0 = VectorConvert.f16(w, off).fma(xv, a0);
            a1 = VectorConvert.f16(w, off + rowBytes).fma(xv, a1);
            a2 = VectorConvert.f16(w, off + 2 * rowBytes).fma(xv, a2);
            a3 = VectorConvert.f16(w, off + 3 * rowBytes).fma(xv, a3);
        }
        finishFour(DType.F16, w, k, x, row, i, a0, a1, a2, a3, bias, out);
    }

    /**
     * Adds the K tail (fewer than a vector of elements) and the bias, and stores four outputs. The tail is
     * scalar on purpose: a masked vector load that reaches past the end of the weights takes the Vector
     * API's slow fallback path, whose profile traps would deoptimise the hot loop that calls this.
     */
    private static void finishFour(DType dtype, MemorySegment w, int k, float[] x, int row, int tailFrom,
            FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] bias, MemorySegment out) {
        float s0 = VectorMath.sumLanes(a0);
        float s1 = VectorMath.sumLanes(a1);
        float s2 = VectorMath.sumLanes(a2);
        float s3 = VectorMath.sumLanes(a3);
        long e = (long) row * k;
        for (int i = tailFrom; i < k; i++) {
            float xi = x[i];
            s0 = Math.fma(VectorConvert.scalar(dtype, w, e + i), xi, s0);
            s1 = Math.fma(VectorConvert.scalar(dtype, w, e + k + i), xi, s1);
            s2 = Math.fma(VectorConvert.scalar(dtype, w, e + 2L * k + i), xi, s2);
            s3 = Math.fma(VectorConvert.scalar(dtype, w, e + 3L * k + i), xi, s3);
        }
        store(out, row, s0, bias);
        store(out, row + 1, s1, bias);
        store(out, row + 2, s2, bias);
        store(out, row + 3, s3, bias);
    }

    private static void oneRow(DType dtype, MemorySegment w, int k, float[] x, int row, float[] bias,
            MemorySegment out) {
        int lanes = VectorConvert.F.length();
        long e = (long) row * k;
        FloatVector acc = FloatVector.zero(VectorConvert.F);
        int i = 0;
        for (; i <= k - lanes; i += lanes) {
            acc = VectorConvert.load(dtype, w, e + i).fma(FloatVector.fromArray(VectorConvert.F, x, i), acc);
        }
        float sum = VectorMath.sumLanes(acc);
        for (; i < k; i++) {
            sum = Math.fma(VectorConvert.scalar(dtype, w, e + i), x[i], sum);
        }
        store(out, row, sum, bias);
    }

    private static void store(MemorySegment out, int row, float sum, float[] bias) {
        out.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, row, bias == null ? sum : sum + bias[row]);
    }
}
