package osprey4j.core.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The product of PyTorch's {@code Linear} layer: out[M,N] = x[M,K] · W[N,K]^T (+ bias[N]), with x and out
 * F32 and W in F32, BF16 or F16 (used in place, e.g. memory-mapped from a checkpoint), accumulated in F32.
 *
 * <p>M == 1 (decoding) is memory-bound and goes to {@link MatVec}. Larger M is compute-bound and uses the
 * classic blocked scheme (Goto/BLIS):
 * <ul>
 *   <li>the columns of out (rows of W) are split across the compute pool in whole panels of {@link #NR}
 *       columns; each task owns its columns, so tasks share nothing and never wait for each other;</li>
 *   <li>K is cut into blocks of {@link #KC}; for each block a task packs its rows of W into panels laid out
 *       k-major ([panel][k][NR] floats), converting BF16/F16 to F32 on the way. Only KC x (its columns)
 *       floats are ever expanded, never the whole matrix;</li>
 *   <li>rows of x are taken {@link #MC} at a time and copied into a small F32 block that stays in L2;</li>
 *   <li>a register-blocked micro-kernel computes a {@link #MR} x {@link #NR} tile of out (8 rows x 3 vectors
 *       = 24 vector accumulators) by broadcasting one x value per row and doing three FMAs with the packed
 *       W panel, which is reused from L1/L2 for every row group of the block.</li>
 * </ul>
 * Each task first writes the bias (or zero) into its part of out; every K block then accumulates into it.
 */
public final class Gemm {
    private static final VectorSpecies<Float> F = VectorConvert.F;
    private static final int L = F.length();
    /** Bytes in one float vector. */
    private static final long V = 4L * L;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Rows of out per micro-kernel tile. */
    static final int MR = 8;
    /** Columns of out per micro-kernel tile and per packed panel of W: three vectors. */
    static final int NR = 3 * L;
    /** Depth of a K block: a packed W panel (KC x NR floats, 48 KB with AVX-512) is read from L1/L2. */
    static final int KC = Integer.getInteger("osprey.gemm.kc", 256);
    /** Rows of x per packed block (MC x KC floats stay in L2). */
    static final int MC = Math.max(MR, Integer.getInteger("osprey.gemm.mc", 144) / MR * MR);

    private Gemm() {
    }

    /**
     * out = x · W^T + bias in a new F32 tensor. {@code x} has shape [..., K] (every leading index is a row),
     * {@code w} is [N, K], {@code bias} is null or [N]; the result has shape [..., N].
     */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        requireWeight(w);
        long[] shape = x.shape();
        if (shape.length == 0) {
            throw new IllegalArgumentException("linear: x must have at least one dimension, got a scalar");
        }
        shape[shape.length - 1] = w.dim(0);
        Tensor out = Tensor.zeros(DType.F32, shape);
        linear(x, w, bias, out);
        return out;
    }

    /**
     * out = x · W^T + bias, written into {@code out} (F32, shape [..., N] with the leading dimensions of x,
     * not overlapping x). See {@link #linear(Tensor, Tensor, Tensor)}.
     */
    public static void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        requireWeight(w);
        int n = w.size(0);
        int k = w.size(1);
        if (x.dtype() != DType.F32) {
            throw new IllegalArgumentException("linear: x must be F32, got " + x.dtype());
        }
        if (x.rank() == 0 || x.dim(-1) != k) {
            throw new IllegalArgumentException("linear: x " + Arrays.toString(x.shape())
                    + " does not end in K = " + k + " (weight " + Arrays.toString(w.shape()) + " is [N, K])");
        }
        int m = Math.toIntExact(x.numel() / Math.max(1, k));
        if (k == 0) {
            m = Math.toIntExact(leadingRows(x.shape()));
        }
        if (out.dtype() != DType.F32) {
            throw new IllegalArgumentException("linear: out must be F32, got " + out.dtype());
        }
        long[] expected = x.shape();
        expected[expected.length - 1] = n;
        if (!Arrays.equals(out.shape(), expected)) {
            throw new IllegalArgumentException("linear: out has shape " + Arrays.toString(out.shape())
                    + ", expected " + Arrays.toString(expected) + " for x " + Arrays.toString(x.shape())
                    + " and weight " + Arrays.toString(w.shape()));
        }
        float[] b = null;
        if (bias != null) {
            if (bias.rank() != 1 || bias.dim(0) != n) {
                throw new IllegalArgumentException("linear: bias has shape " + Arrays.toString(bias.shape())
                        + ", expected [" + n + "]");
            }
            if (!bias.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException("linear: bias must be a float tensor, got " + bias.dtype());
            }
            b = bias.toFloatArray();
        }
        if (overlaps(out, x) || overlaps(out, w)) {
            throw new IllegalArgumentException("linear: out must not share memory with x or the weight");
        }
        compute(x.segment(), m, k, w.dtype(), w.segment(), n, b, out.segment());
    }

    private static void requireWeight(Tensor w) {
        if (w.rank() != 2) {
            throw new IllegalArgumentException("linear: weight must be [N, K], got shape "
                    + Arrays.toString(w.shape()));
        }
        DType d = w.dtype();
        if (d != DType.F32 && d != DType.BF16 && d != DType.F16) {
            throw new IllegalArgumentException("linear: weight must be F32, BF16 or F16, got " + d);
        }
    }

    private static long leadingRows(long[] shape) {
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            rows *= shape[i];
        }
        return rows;
    }

    private static boolean overlaps(Tensor a, Tensor b) {
        return a.byteSize() > 0 && b.byteSize() > 0 && a.segment().asOverlappingSlice(b.segment()).isPresent();
    }

    /**
     * The product on raw segments: x is M x K F32, w is N x K of {@code wType}, out is M x N F32, all
     * row-major; bias is null or N floats.
     */
    static void compute(MemorySegment x, int m, int k, DType wType, MemorySegment w, int n, float[] bias,
            MemorySegment out) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    out.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) i * n + j, bias == null ? 0f : bias[j]);
                }
            }
            return;
        }
        if (m == 1) {
            float[] xv = new float[k];
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, xv, 0, k);
            MatVec.compute(wType, w, n, k, xv, bias, out);
            return;
        }
        int panels = (n + NR - 1) / NR;
        Problem p = new Problem(x, m, k, wType, w, n, bias != null ? bias : new float[n], out);
        int threads = ComputePool.threads();
        double flops = 2.0 * m * n * k;
        if (flops < 1 << 18) {
            p.block(0, m, 0, panels);
        } else if (panels >= 2 * threads || panels >= m / MR) {
            ComputePool.parallelFor(panels, 1, (from, to) -> p.block(0, m, from, to));
        } else {
            // Few columns but many rows (e.g. N = 16): split the rows instead, in whole micro-kernel tiles.
            int tiles = (m + MR - 1) / MR;
            ComputePool.parallelFor(tiles, 1, (from, to) -> p.block(from * MR, Math.min(m, to * MR), 0, panels));
        }
    }

    /** One product's operands; {@link #block} computes a rectangle of out. */
    private record Problem(MemorySegment x, int m, int k, DType wType, MemorySegment w, int n, float[] bias,
            MemorySegment out) {

        /** out rows [rowFrom, rowTo) x columns of panels [panelFrom, panelTo). */
        void block(int rowFrom, int rowTo, int panelFrom, int panelTo) {
            int kcMax = Math.min(KC, k);
            int mcMax = Math.min(MC, rowTo - rowFrom);
            float[] packedW = new float[(panelTo - panelFrom) * NR * kcMax];
            float[] packedX = new float[mcMax * kcMax];
            float[] row = new float[kcMax];
            MemorySegment scratch = Arena.ofAuto().allocate(MR * NR * 4L, 64);
            long outRowBytes = (long) n * 4;
            // out starts as the bias (or zero); every K block then accumulates into it, so the micro-kernel has
            // a single path (no first-block branch that the JIT might compile as a trap and later deoptimise).
            int colFrom = panelFrom * NR;
            int cols = Math.min(n, panelTo * NR) - colFrom;
            for (int i = rowFrom; i < rowTo; i++) {
                MemorySegment.copy(bias, colFrom, out, ValueLayout.JAVA_FLOAT_UNALIGNED,
                        ((long) i * n + colFrom) * 4, cols);
            }
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                for (int p = panelFrom; p < panelTo; p++) {
                    packPanel(p, k0, kc, packedW, (p - panelFrom) * NR * kc, row);
                }
                for (int m0 = rowFrom; m0 < rowTo; m0 += MC) {
                    int mc = Math.min(MC, rowTo - m0);
                    for (int r = 0; r < mc; r++) {
                        MemorySegment.copy(x, ValueLayout.JAVA_FLOAT_UNALIGNED, ((long) (m0 + r) * k + k0) * 4,
                                packedX, r * kc, kc);
                    }
                    for (int p = panelFrom; p < panelTo; p++) {
                        int n0 = p * NR;
                        int valid = Math.min(NR, n - n0);
                        int wOff = (p - panelFrom) * NR * kc;
                        for (int r = 0; r < mc; r += MR) {
                            int rows = Math.min(MR, mc - r);
                            long cOff = (long) (m0 + r) * outRowBytes + (long) n0 * 4;
                            if (valid == NR) {
                                tile(rows, packedX, r * kc, kc, packedW, wOff, out, cOff, outRowBytes);
                            } else {
                                // The last panel is narrower than a tile: work on a full-width copy of the tile,
                                // so the kernels only ever do full, unmasked vector accesses.
                                copyTile(out, cOff, outRowBytes, scratch, 0, NR * 4L, rows, valid);
                                tile(rows, packedX, r * kc, kc, packedW, wOff, scratch, 0, NR * 4L);
                                copyTile(scratch, 0, NR * 4L, out, cOff, outRowBytes, rows, valid);
                            }
                        }
                    }
                }
            }
        }

        /** A tile of {@code rows} (at most MR) rows: the 8-row kernel, or the one-row kernel per row. */
        private static void tile(int rows, float[] a, int aOff, int kc, float[] b, int bOff, MemorySegment c,
                long cOff, long cRow) {
            if (rows == MR) {
                kernel8x3(a, aOff, kc, b, bOff, c, cOff, cRow);
            } else {
                for (int i = 0; i < rows; i++) {
                    kernel1x3(a, aOff + i * kc, kc, b, bOff, c, cOff + i * cRow);
                }
            }
        }

        private static void copyTile(MemorySegment src, long srcOff, long srcRow, MemorySegment dst, long dstOff,
                long dstRow, int rows, int cols) {
            for (int i = 0; i < rows; i++) {
                MemorySegment.copy(src, srcOff + i * srcRow, dst, dstOff + i * dstRow, cols * 4L);
            }
        }

        /**
         * Packs rows [p*NR, p*NR + NR) of W, columns [k0, k0 + kc), as dst[off + kk*NR + j] = W[p*NR + j][k0 + kk]
         * in F32; rows past N are zero, so the kernel can always run full width.
         */
        void packPanel(int p, int k0, int kc, float[] dst, int off, float[] row) {
            for (int j = 0; j < NR; j++) {
                int wr = p * NR + j;
                if (wr < n) {
                    VectorConvert.toFloats(wType, w, (long) wr * k + k0, row, 0, kc);
                    for (int kk = 0; kk < kc; kk++) {
                        dst[off + kk * NR + j] = row[kk];
                    }
                } else {
                    for (int kk = 0; kk < kc; kk++) {
                        dst[off + kk * NR + j] = 0f;
                    }
                }
            }
        }
    }

    /**
     * An MR x NR tile of out (8 rows x 3 vectors = 24 accumulators, which with the 3 W vectors and one broadcast
     * use 28 of AVX-512's 32 vector registers): rows of x at a[aOff + i*kc + kk], the W panel at
     * b[bOff + kk*NR + (0..NR)], the tile of out at c[cOff + i*cRow ..] (accumulated into). Each step loads
     * 3 W vectors and 8 x values for 24 FMAs. Written out by hand (no arrays, no loops over accumulators) so that C2 keeps every accumulator in a register.
     */
    private static void kernel8x3(float[] a, int aOff, int kc, float[] b, int bOff, MemorySegment c, long cOff,
            long cRow) {
        FloatVector c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
        FloatVector c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;
        c00 = load(c, cOff); c01 = load(c, cOff + V); c02 = load(c, cOff + 2 * V);
        c10 = load(c, cOff + cRow); c11 = load(c, cOff + cRow + V); c12 = load(c, cOff + cRow + 2 * V);
        c20 = load(c, cOff + 2 * cRow); c21 = load(c, cOff + 2 * cRow + V); c22 = load(c, cOff + 2 * cRow + 2 * V);
        c30 = load(c, cOff + 3 * cRow); c31 = load(c, cOff + 3 * cRow + V); c32 = load(c, cOff + 3 * cRow + 2 * V);
        c40 = load(c, cOff + 4 * cRow); c41 = load(c, cOff + 4 * cRow + V); c42 = load(c, cOff + 4 * cRow + 2 * V);
        c50 = load(c, cOff + 5 * cRow); c51 = load(c, cOff + 5 * cRow + V); c52 = load(c, cOff + 5 * cRow + 2 * V);
        c60 = load(c, cOff + 6 * cRow); c61 = load(c, cOff + 6 * cRow + V); c62 = load(c, cOff + 6 * cRow + 2 * V);
        c70 = load(c, cOff + 7 * cRow); c71 = load(c, cOff + 7 * cRow + V); c72 = load(c, cOff + 7 * cRow + 2 * V);
        int a1 = aOff + 1 * kc;
        int a2 = aOff + 2 * kc;
        int a3 = aOff + 3 * kc;
        int a4 = aOff + 4 * kc;
        int a5 = aOff + 5 * kc;
        int a6 = aOff + 6 * kc;
        int a7 = aOff + 7 * kc;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bOff + kk * NR;
            FloatVector w0 = FloatVector.fromArray(F, b, bi);
            FloatVector w1 = FloatVector.fromArray(F, b, bi + L);
            FloatVector w2 = FloatVector.fromArray(F, b, bi + 2 * L);
            FloatVector x;
            x = FloatVector.broadcast(F, a[aOff + kk]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[a1 + kk]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[a2 + kk]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[a3 + kk]);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
            x = FloatVector.broadcast(F, a[a4 + kk]);
            c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42);
            x = FloatVector.broadcast(F, a[a5 + kk]);
            c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52);
            x = FloatVector.broadcast(F, a[a6 + kk]);
            c60 = x.fma(w0, c60); c61 = x.fma(w1, c61); c62 = x.fma(w2, c62);
            x = FloatVector.broadcast(F, a[a7 + kk]);
            c70 = x.fma(w0, c70); c71 = x.fma(w1, c71); c72 = x.fma(w2, c72);
        }
        store(c00, c, cOff); store(c01, c, cOff + V); store(c02, c, cOff + 2 * V);
        store(c10, c, cOff + cRow); store(c11, c, cOff + cRow + V); store(c12, c, cOff + cRow + 2 * V);
        store(c20, c, cOff + 2 * cRow); store(c21, c, cOff + 2 * cRow + V); store(c22, c, cOff + 2 * cRow + 2 * V);
        store(c30, c, cOff + 3 * cRow); store(c31, c, cOff + 3 * cRow + V); store(c32, c, cOff + 3 * cRow + 2 * V);
        store(c40, c, cOff + 4 * cRow); store(c41, c, cOff + 4 * cRow + V); store(c42, c, cOff + 4 * cRow + 2 * V);
        store(c50, c, cOff + 5 * cRow); store(c51, c, cOff + 5 * cRow + V); store(c52, c, cOff + 5 * cRow + 2 * V);
        store(c60, c, cOff + 6 * cRow); store(c61, c, cOff + 6 * cRow + V); store(c62, c, cOff + 6 * cRow + 2 * V);
        store(c70, c, cOff + 7 * cRow); store(c71, c, cOff + 7 * cRow + V); store(c72, c, cOff + 7 * cRow + 2 * V);
    }

    /** One row of a tile, for the rows left over when the block's row count is not a multiple of MR. */
    private static void kernel1x3(float[] a, int aOff, int kc, float[] b, int bOff, MemorySegment c, long cOff) {
        FloatVector c0 = load(c, cOff);
        FloatVector c1 = load(c, cOff + V);
        FloatVector c2 = load(c, cOff + 2 * V);
        for (int kk = 0; kk < kc; kk++) {
            int bi = bOff + kk * NR;
            FloatVector x = FloatVector.broadcast(F, a[aOff + kk]);
            c0 = x.fma(FloatVector.fromArray(F, b, bi), c0);
            c1 = x.fma(FloatVector.fromArray(F, b, bi + L), c1);
            c2 = x.fma(FloatVector.fromArray(F, b, bi + 2 * L), c2);
        }
        store(c0, c, cOff);
        store(c1, c, cOff + V);
        store(c2, c, cOff + 2 * V);
    }

    private static FloatVector load(MemorySegment c, long off) {
        return FloatVector.fromMemorySegment(F, c, off, LE);
    }

    private static void store(FloatVector v, MemorySegment c, long off) {
        v.intoMemorySegment(c, off, LE);
    }
}
