package osprey4j.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import osprey4j.core.concurrent.ComputePool;

/**
 * The two products the backward pass of a {@code Linear} layer y = x · W^T needs, on F32 heap arrays
 * (row-major, training keeps its parameters and activations on the heap):
 * <ul>
 *   <li>{@link #inputGrad}: dX[M,K] (+)= dY[M,N] · W[N,K]</li>
 *   <li>{@link #weightGrad}: dW[N,K] += dY[M,N]^T · X[M,K]</li>
 * </ul>
 * Both are C[I,K] (+)= op(A)[I,J] · B[J,K] with B read row by row, which suits a register tile of
 * {@link #RI} rows of C by {@link #VK} vectors of columns: per step j it broadcasts RI values of A and does
 * RI x VK FMAs with VK vectors of B's row j. Work items are (panel of columns, block of rows), panel-major,
 * so the items a thread takes in a row share the panel of B (J x VK vectors) in cache. C is read and written
 * once per item; the whole J sum is accumulated in registers (F32, as torch's CPU BLAS does).
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

    private GemmGrad() {
    }

    /** dX[M,K] = dY[M,N] · W[N,K], or += when {@code accumulate}. */
    public static void inputGrad(float[] dy, float[] w, float[] dx, int m, int n, int k, boolean accumulate) {
        check(dy, (long) m * n, "dY");
        check(w, (long) n * k, "W");
        check(dx, (long) m * k, "dX");
        product(dy, false, w, dx, m, n, k, accumulate);
    }

    /** dW[N,K] += dY[M,N]^T · X[M,K]. */
    public static void weightGrad(float[] dy, float[] x, float[] dw, int m, int n, int k) {
        check(dy, (long) m * n, "dY");
        check(x, (long) m * k, "X");
        check(dw, (long) n * k, "dW");
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
                } else {
                    for (int i = i0; i < i0 + rows; i++) {
                        for (int kk = k0; kk < kEnd; kk += L) {
                            rowVector(a, aT, b, c, i, kk, ni, nj, nk);
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

    /** One row of C, one (possibly partial) vector of columns at kk: the edges of the tiling. */
    private static void rowVector(float[] a, boolean aT, float[] b, float[] c, int i, int kk, int ni, int nj, int nk) {
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
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += x[xo + i] * y[yo + i];
        }
        return s;
    }
}
