package osprey4j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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
 *   <li>a register-blocked micro-kernel computes a {@link #MR} x {@link #NR} tile of out (6 rows x 2 vectors
 *       = 12 vector accumulators) by broadcasting one x value per row and doing two FMAs with the packed
 *       W panel, which is reused from L1 for every row group of the block.</li>
 * </ul>
 * The first K block starts from the bias (or zero), the following ones accumulate into out.
 */
public final class Gemm {
    private static final VectorSpecies<Float> F = VectorConvert.F;
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Rows of out per micro-kernel tile. */
    static final int MR = 6;
    /** Columns of out per micro-kernel tile and per packed panel of W: two vectors. */
    static final int NR = 2 * L;
    /** Depth of a K block: a packed W panel (KC x NR floats, 32 KB with AVX-512) is read from L1/L2. */
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
        // Bias padded to whole panels so the micro-kernel can load it as full vectors.
        int panels = (n + NR - 1) / NR;
        float[] biasPadded = new float[panels * NR];
        if (bias != null) {
            System.arraycopy(bias, 0, biasPadded, 0, n);
        }
        Problem p = new Problem(x, m, k, wType, w, n, biasPadded, out);
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
            long outRowBytes = (long) n * 4;
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                boolean first = k0 == 0;
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
                        int r = 0;
                        for (; r + MR <= mc; r += MR) {
                            long cOff = (long) (m0 + r) * outRowBytes + (long) n0 * 4;
                            kernel6x2(packedX, r * kc, kc, packedW, wOff, out, cOff, outRowBytes, valid, first,
                                    bias, n0);
                        }
                        for (; r < mc; r++) {
                            long cOff = (long) (m0 + r) * outRowBytes + (long) n0 * 4;
                            kernel1x2(packedX, r * kc, kc, packedW, wOff, out, cOff, valid, first, bias, n0);
                        }
                    }
                }
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
     * A 6 x NR tile of out: rows of x at a[aOff + i*kc + kk], the W panel at b[bOff + kk*NR + (0..NR)].
     * {@code valid} columns of the tile exist in out; the rest are computed on zero padding and not stored.
     */
    private static void kernel6x2(float[] a, int aOff, int kc, float[] b, int bOff, MemorySegment c, long cOff,
            long cRow, int valid, boolean first, float[] bias, int n0) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        VectorMask<Float> m0 = F.indexInRange(0, valid);
        VectorMask<Float> m1 = F.indexInRange(L, valid);
        if (first) {
            FloatVector b0 = FloatVector.fromArray(F, bias, n0);
            FloatVector b1 = FloatVector.fromArray(F, bias, n0 + L);
            c00 = b0; c10 = b0; c20 = b0; c30 = b0; c40 = b0; c50 = b0;
            c01 = b1; c11 = b1; c21 = b1; c31 = b1; c41 = b1; c51 = b1;
        } else if (valid == NR) {
            c00 = load(c, cOff); c01 = load(c, cOff + 4L * L);
            c10 = load(c, cOff + cRow); c11 = load(c, cOff + cRow + 4L * L);
            c20 = load(c, cOff + 2 * cRow); c21 = load(c, cOff + 2 * cRow + 4L * L);
            c30 = load(c, cOff + 3 * cRow); c31 = load(c, cOff + 3 * cRow + 4L * L);
            c40 = load(c, cOff + 4 * cRow); c41 = load(c, cOff + 4 * cRow + 4L * L);
            c50 = load(c, cOff + 5 * cRow); c51 = load(c, cOff + 5 * cRow + 4L * L);
        } else {
            c00 = load(c, cOff, m0); c01 = load(c, cOff + 4L * L, m1);
            c10 = load(c, cOff + cRow, m0); c11 = load(c, cOff + cRow + 4L * L, m1);
            c20 = load(c, cOff + 2 * cRow, m0); c21 = load(c, cOff + 2 * cRow + 4L * L, m1);
            c30 = load(c, cOff + 3 * cRow, m0); c31 = load(c, cOff + 3 * cRow + 4L * L, m1);
            c40 = load(c, cOff + 4 * cRow, m0); c41 = load(c, cOff + 4 * cRow + 4L * L, m1);
            c50 = load(c, cOff + 5 * cRow, m0); c51 = load(c, cOff + 5 * cRow + 4L * L, m1);
        }
        int a1 = aOff + kc;
        int a2 = aOff + 2 * kc;
        int a3 = aOff + 3 * kc;
        int a4 = aOff + 4 * kc;
        int a5 = aOff + 5 * kc;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bOff + kk * NR;
            FloatVector w0 = FloatVector.fromArray(F, b, bi);
            FloatVector w1 = FloatVector.fromArray(F, b, bi + L);
            FloatVector x;
            x = FloatVector.broadcast(F, a[aOff + kk]);
            c00 = x.fma(w0, c00);
            c01 = x.fma(w1, c01);
            x = FloatVector.broadcast(F, a[a1 + kk]);
            c10 = x.fma(w0, c10);
            c11 = x.fma(w1, c11);
            x = FloatVector.broadcast(F, a[a2 + kk]);
            c20 = x.fma(w0, c20);
            c21 = x.fma(w1, c21);
            x = FloatVector.broadcast(F, a[a3 + kk]);
            c30 = x.fma(w0, c30);
            c31 = x.fma(w1, c31);
            x = FloatVector.broadcast(F, a[a4 + kk]);
            c40 = x.fma(w0, c40);
            c41 = x.fma(w1, c41);
            x = FloatVector.broadcast(F, a[a5 + kk]);
            c50 = x.fma(w0, c50);
            c51 = x.fma(w1, c51);
        }
        if (valid == NR) {
            store(c00, c, cOff); store(c01, c, cOff + 4L * L);
            store(c10, c, cOff + cRow); store(c11, c, cOff + cRow + 4L * L);
            store(c20, c, cOff + 2 * cRow); store(c21, c, cOff + 2 * cRow + 4L * L);
            store(c30, c, cOff + 3 * cRow); store(c31, c, cOff + 3 * cRow + 4L * L);
            store(c40, c, cOff + 4 * cRow); store(c41, c, cOff + 4 * cRow + 4L * L);
            store(c50, c, cOff + 5 * cRow); store(c51, c, cOff + 5 * cRow + 4L * L);
        } else {
            store(c00, c, cOff, m0); store(c01, c, cOff + 4L * L, m1);
            store(c10, c, cOff + cRow, m0); store(c11, c, cOff + cRow + 4L * L, m1);
            store(c20, c, cOff + 2 * cRow, m0); store(c21, c, cOff + 2 * cRow + 4L * L, m1);
            store(c30, c, cOff + 3 * cRow, m0); store(c31, c, cOff + 3 * cRow + 4L * L, m1);
            store(c40, c, cOff + 4 * cRow, m0); store(c41, c, cOff + 4 * cRow + 4L * L, m1);
            store(c50, c, cOff + 5 * cRow, m0); store(c51, c, cOff + 5 * cRow + 4L * L, m1);
        }
    }

    /** One row of a tile, for the rows left over when the block's row count is not a multiple of MR. */
    private static void kernel1x2(float[] a, int aOff, int kc, float[] b, int bOff, MemorySegment c, long cOff,
            int valid, boolean first, float[] bias, int n0) {
        VectorMask<Float> m0 = F.indexInRange(0, valid);
        VectorMask<Float> m1 = F.indexInRange(L, valid);
        FloatVector c0;
        FloatVector c1;
        if (first) {
            c0 = FloatVector.fromArray(F, bias, n0);
            c1 = FloatVector.fromArray(F, bias, n0 + L);
        } else {
            c0 = load(c, cOff, m0);
            c1 = load(c, cOff + 4L * L, m1);
        }
        for (int kk = 0; kk < kc; kk++) {
            int bi = bOff + kk * NR;
            FloatVector x = FloatVector.broadcast(F, a[aOff + kk]);
            c0 = x.fma(FloatVector.fromArray(F, b, bi), c0);
            c1 = x.fma(FloatVector.fromArray(F, b, bi + L), c1);
        }
        store(c0, c, cOff, m0);
        store(c1, c, cOff + 4L * L, m1);
    }

    private static FloatVector load(MemorySegment c, long off) {
        return FloatVector.fromMemorySegment(F, c, off, LE);
    }

    private static FloatVector load(MemorySegment c, long off, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(F, c, off, LE, m);
    }

    private static void store(FloatVector v, MemorySegment c, long off) {
        v.intoMemorySegment(c, off, LE);
    }

    private static void store(FloatVector v, MemorySegment c, long off, VectorMask<Float> m) {
        v.intoMemorySegment(c, off, LE, m);
    }
}
