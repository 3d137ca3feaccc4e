package osprey4j.core.kernels;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import osprey4j.core.concurrent.ComputePool;

/**
 * The two products the backward pass of a {@code Linear} layer y = x · W^T needs, on F32 heap arrays
 * (row-major, training keeps its parameters and activations on the heap):
 * <ul>
 *   <li>{@link #inputGrad}: dX[M,K] (+)= dY[M,N] · W[N,K]</li>
 *   <li>{@link #weightGrad}: dW[N,K] += dY[M,N]^T · X[M,K]</li>
 * </ul>
 * Large products run on {@link Gemm}'s packed, cache-blocked micro-kernel (or OpenBLAS) with every operand read
 * as stored and the result added in place where it accumulates: dX (+)= dY · W is {@link Gemm#matmul} (W [N,K] is
 * its [K,N]-stored right-hand side), dW += dY^T · X is {@link Gemm#matmulTransposedX} (dY read transposed, X as
 * stored). Small ones (below {@link #GEMM_FMAS} multiply-adds) are computed in place as
 * C[I,K] (+)= op(A)[I,J] · B[J,K] with B read row by row, a register tile of {@link #RI} rows of C by
 * {@link #VK} vectors of columns (one-vector tiles, the last masked when partial, for narrow C): per step j it
 * broadcasts RI values of A and does RI x VK FMAs. Sums are accumulated in F32, as torch's CPU BLAS does.
 */
public final class GemmGrad {
    private static final VectorSpecies<Float> F = VectorConvert.F;
    private static final int L = F.length();
    /** Rows of C per register tile. */
    private static final int RI = 4;
    /** Vectors of columns of C per register tile. */
    private static final int VK = 4;
    private static final int PANEL = VK * L;
    /** Below this many multiply-adds a product runs on the calling thread. */
    private static final long SERIAL_FMAS = 1 << 17;
    /** From this many multiply-adds on (and every side at least {@link #GEMM_MIN_SIDE}) products go to Gemm. */
    static final long GEMM_FMAS = Long.getLong("osprey.gemmgrad.gemm", 1L << 21);
    private static final int GEMM_MIN_SIDE = 16;

    private GemmGrad() {
    }

    /** dX[M,K] = dY[M,N] · W[N,K], or += when {@code accumulate}. */
    public static void inputGrad(float[] dy, float[] w, float[] dx, int m, int n, int k, boolean accumulate) {
        check(dy, (long) m * n, "dY");
        check(w, (long) n * k, "W");
        check(dx, (long) m * k, "dX");
        if (useGemm(m, n, k)) {
            // W [N, K] is the [K, N]-stored right-hand side of Gemm.matmul, which adds into dX when accumulating:
            // no transpose, no temporary.
            Gemm.matmul(segment(dy, m * n), m, n, segment(w, n * k), k, segment(dx, m * k), accumulate);
            return;
        }
        product(dy, false, w, dx, m, n, k, accumulate);
    }

    /** dW[N,K] += dY[M,N]^T · X[M,K]. */
    public static void weightGrad(float[] dy, float[] x, float[] dw, int m, int n, int k) {
        check(dy, (long) m * n, "dY");
        check(x, (long) m * k, "X");
        check(dw, (long) n * k, "dW");
        if (useGemm(m, n, k)) {
            // dY [M, N] is the transposed left-hand side and X [M, K] the [K, N]-stored right-hand side of
            // Gemm.matmulTransposedX, which adds into dW: no transposes, no temporary.
            Gemm.matmulTransposedX(segment(dy, m * n), m, n, segment(x, m * k), k, segment(dw, n * k), true);
            return;
        }
        product(dy, true, x, dw, n, m, k, true);
    }

    /** db[N] += column sums of dY[M,N] (the bias gradient). */
    public static void biasGrad(float[] dy, float[] db, int m, int n) {
        check(dy, (long) m * n, "dY");
        check(db, n, "db");
        for (int r = 0; r < m; r++) {
            addRow(dy, r * n, db, n);
        }
    }

    /** The first {@code size} floats of a as a segment. */
    private static MemorySegment segment(float[] a, int size) {
        return MemorySegment.ofArray(a).asSlice(0, 4L * size);
    }

    private static boolean useGemm(int m, int n, int k) {
        return (long) m * n * k >= GEMM_FMAS && Math.min(m, Math.min(n, k)) >= GEMM_MIN_SIDE;
    }

    private static void addRow(float[] src, int off, float[] dst, int n) {
        int c = 0;
        for (; c < F.loopBound(n); c += L) {
            FloatVector.fromArray(F, dst, c).add(FloatVector.fromArray(F, src, off + c)).intoArray(dst, c);
        }
        for (; c < n; c++) {
            dst[c] += src[off + c];
        }
    }

    private static void check(float[] a, long size, String name) {
        if (a == null || a.length < size) {
            throw new IllegalArgumentException("GemmGrad: " + name + " has " + (a == null ? "no array" : a.length
                    + " elements") + ", needs " + size);
        }
    }

    /**
     * C[I,K] (+)= op(A)[I,J] · B[J,K]; A is stored [I,J] or, when {@code aT}, [J,I].
     */
    static void product(float[] a, boolean aT, float[] b, float[] c, int ni, int nj, int nk, boolean accumulate) {
        if (ni == 0 || nk == 0) {
            return;
        }
        if (!accumulate) {
            java.util.Arrays.fill(c, 0, ni * nk, 0f);
        }
        if (nj == 0) {
            return;
        }
        int panels = (nk + PANEL - 1) / PANEL;
        int blocks = (ni + RI - 1) / RI;
        int items = panels * blocks;
        long fmas = (long) ni * nj * nk;
        int minChunk = fmas < SERIAL_FMAS ? items : Math.max(1, items / (8 * ComputePool.threads()));
        ComputePool.parallelFor(items, minChunk, (from, to) -> {
            for (int item = from; item < to; item++) {
                int k0 = (item / blocks) * PANEL;
                int i0 = (item % blocks) * RI;
                int kEnd = Math.min(nk, k0 + PANEL);
                int rows = Math.min(RI, ni - i0);
                if (rows == RI && kEnd - k0 == PANEL) {
                    tile(a, aT, b, c, i0, k0, ni, nj, nk);
                } else if (rows == RI) {
                    // whole vectors of columns unmasked, only a last partial one masked (masked loads and stores
                    // are left to the Vector API's Java fallback on AVX2; the lanes and sums are the same)
                    int kk = k0;
                    for (; kk + L <= kEnd; kk += L) {
                        narrowTile(a, aT, b, c, i0, kk, ni, nj, nk);
                    }
                    if (kk < kEnd) {
                        narrowTileMasked(a, aT, b, c, i0, kk, ni, nj, nk);
                    }
                } else {
                    for (int i = i0; i < i0 + rows; i++) {
                        int kk = k0;
                        for (; kk + L <= kEnd; kk += L) {
                            rowVector(a, aT, b, c, i, kk, ni, nj, nk);
                        }
                        if (kk < kEnd) {
                            rowVectorMasked(a, aT, b, c, i, kk, ni, nj, nk);
                        }
                    }
                }
            }
        });
    }

    /** A full RI x VK-vector tile of C at (i0, k0). */
    private static void tile(float[] a, boolean aT, float[] b, float[] c, int i0, int k0, int ni, int nj, int nk) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        for (int j = 0; j < nj; j++) {
            float a0, a1, a2, a3;
            if (aT) {
                int o = j * ni + i0;
                a0 = a[o];
                a1 = a[o + 1];
                a2 = a[o + 2];
                a3 = a[o + 3];
            } else {
                int o = i0 * nj + j;
                a0 = a[o];
                a1 = a[o + nj];
                a2 = a[o + 2 * nj];
                a3 = a[o + 3 * nj];
            }
            int bo = j * nk + k0;
            FloatVector b0 = FloatVector.fromArray(F, b, bo);
            FloatVector b1 = FloatVector.fromArray(F, b, bo + L);
            FloatVector b2 = FloatVector.fromArray(F, b, bo + 2 * L);
            FloatVector b3 = FloatVector.fromArray(F, b, bo + 3 * L);
            FloatVector v = FloatVector.broadcast(F, a0);
            c00 = b0.fma(v, c00);
            c01 = b1.fma(v, c01);
            c02 = b2.fma(v, c02);
            c03 = b3.fma(v, c03);
            v = FloatVector.broadcast(F, a1);
            c10 = b0.fma(v, c10);
            c11 = b1.fma(v, c11);
            c12 = b2.fma(v, c12);
            c13 = b3.fma(v, c13);
            v = FloatVector.broadcast(F, a2);
            c20 = b0.fma(v, c20);
            c21 = b1.fma(v, c21);
            c22 = b2.fma(v, c22);
            c23 = b3.fma(v, c23);
            v = FloatVector.broadcast(F, a3);
            c30 = b0.fma(v, c30);
            c31 = b1.fma(v, c31);
            c32 = b2.fma(v, c32);
            c33 = b3.fma(v, c33);
        }
        int o = i0 * nk + k0;
        store(c, o, c00, c01, c02, c03);
        store(c, o + nk, c10, c11, c12, c13);
        store(c, o + 2 * nk, c20, c21, c22, c23);
        store(c, o + 3 * nk, c30, c31, c32, c33);
    }

    private static void store(float[] c, int o, FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3) {
        FloatVector.fromArray(F, c, o).add(v0).intoArray(c, o);
        FloatVector.fromArray(F, c, o + L).add(v1).intoArray(c, o + L);
        FloatVector.fromArray(F, c, o + 2 * L).add(v2).intoArray(c, o + 2 * L);
        FloatVector.fromArray(F, c, o + 3 * L).add(v3).intoArray(c, o + 3 * L);
    }

    /** RI rows of C by one whole vector of columns at kk. */
    private static void narrowTile(float[] a, boolean aT, float[] b, float[] c, int i0, int kk, int ni, int nj, int nk) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int j = 0; j < nj; j++) {
            float a0, a1, a2, a3;
            if (aT) {
                int o = j * ni + i0;
                a0 = a[o];
                a1 = a[o + 1];
                a2 = a[o + 2];
                a3 = a[o + 3];
            } else {
                int o = i0 * nj + j;
                a0 = a[o];
                a1 = a[o + nj];
                a2 = a[o + 2 * nj];
                a3 = a[o + 3 * nj];
            }
            FloatVector bv = FloatVector.fromArray(F, b, j * nk + kk);
            c0 = bv.fma(FloatVector.broadcast(F, a0), c0);
            c1 = bv.fma(FloatVector.broadcast(F, a1), c1);
            c2 = bv.fma(FloatVector.broadcast(F, a2), c2);
            c3 = bv.fma(FloatVector.broadcast(F, a3), c3);
        }
        int o = i0 * nk + kk;
        FloatVector.fromArray(F, c, o).add(c0).intoArray(c, o);
        FloatVector.fromArray(F, c, o + nk).add(c1).intoArray(c, o + nk);
        FloatVector.fromArray(F, c, o + 2 * nk).add(c2).intoArray(c, o + 2 * nk);
        FloatVector.fromArray(F, c, o + 3 * nk).add(c3).intoArray(c, o + 3 * nk);
    }

    /** One row of C, one whole vector of columns at kk: the edges of the tiling. */
    private static void rowVector(float[] a, boolean aT, float[] b, float[] c, int i, int kk, int ni, int nj, int nk) {
        FloatVector acc = FloatVector.zero(F);
        for (int j = 0; j < nj; j++) {
            float av = aT ? a[j * ni + i] : a[i * nj + j];
            acc = FloatVector.fromArray(F, b, j * nk + kk).fma(FloatVector.broadcast(F, av), acc);
        }
        int o = i * nk + kk;
        FloatVector.fromArray(F, c, o).add(acc).intoArray(c, o);
    }

    /** {@link #narrowTile} for the last columns kk .. nk-1, fewer than a vector: masked. */
    private static void narrowTileMasked(float[] a, boolean aT, float[] b, float[] c, int i0, int kk, int ni, int nj,
                                         int nk) {
        VectorMask<Float> mask = F.indexInRange(kk, nk);
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int j = 0; j < nj; j++) {
            float a0, a1, a2, a3;
            if (aT) {
                int o = j * ni + i0;
                a0 = a[o];
                a1 = a[o + 1];
                a2 = a[o + 2];
                a3 = a[o + 3];
            } else {
                int o = i0 * nj + j;
                a0 = a[o];
                a1 = a[o + nj];
                a2 = a[o + 2 * nj];
                a3 = a[o + 3 * nj];
            }
            FloatVector bv = FloatVector.fromArray(F, b, j * nk + kk, mask);
            c0 = bv.fma(FloatVector.broadcast(F, a0), c0);
            c1 = bv.fma(FloatVector.broadcast(F, a1), c1);
            c2 = bv.fma(FloatVector.broadcast(F, a2), c2);
            c3 = bv.fma(FloatVector.broadcast(F, a3), c3);
        }
        int o = i0 * nk + kk;
        FloatVector.fromArray(F, c, o, mask).add(c0).intoArray(c, o, mask);
        FloatVector.fromArray(F, c, o + nk, mask).add(c1).intoArray(c, o + nk, mask);
        FloatVector.fromArray(F, c, o + 2 * nk, mask).add(c2).intoArray(c, o + 2 * nk, mask);
        FloatVector.fromArray(F, c, o + 3 * nk, mask).add(c3).intoArray(c, o + 3 * nk, mask);
    }

    /** {@link #rowVector} for the last columns kk .. nk-1, fewer than a vector: masked. */
    private static void rowVectorMasked(float[] a, boolean aT, float[] b, float[] c, int i, int kk, int ni, int nj,
                                        int nk) {
        VectorMask<Float> mask = F.indexInRange(kk, nk);
        FloatVector acc = FloatVector.zero(F);
        for (int j = 0; j < nj; j++) {
            float av = aT ? a[j * ni + i] : a[i * nj + j];
            acc = FloatVector.fromArray(F, b, j * nk + kk, mask).fma(FloatVector.broadcast(F, av), acc);
        }
        int o = i * nk + kk;
        FloatVector.fromArray(F, c, o, mask).add(acc).intoArray(c, o, mask);
    }

    /** Sum of x[i] * y[i] over n elements from the given offsets (attention's dot products use it too). */
    public static float dot(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            acc = FloatVector.fromArray(F, x, xo + i).fma(FloatVector.fromArray(F, y, yo + i), acc);
        }
        float s = VectorMath.sumLanes(acc);
        for (; i < n; i++) {
            s += x[xo + i] * y[yo + i];
        }
        return s;
    }
}
