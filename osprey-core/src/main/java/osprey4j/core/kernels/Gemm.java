package osprey4j.core.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The product of PyTorch's {@code Linear} layer: out[M,N] = x[M,K] · W[N,K]^T (+ bias[N]), with x and out
 * F32 and W in F32, BF16, F16, Q8_0 or Q4_0 (used in place, e.g. memory-mapped from a checkpoint), accumulated
 * in F32. Block-quantised weights are dequantised (exactly, d * q in float) into the packed F32 panels.
 *
 * <p>M == 1 (decoding) is memory-bound and goes to {@link MatVec}. Larger M is compute-bound and uses the
 * classic blocked scheme (Goto/BLIS), adapted to a shared pool of few cores:
 * <ul>
 *   <li>x is packed once into F32 groups of {@link #MR} rows per K block, k-major within a group, so that
 *       the micro-kernel reads the MR values of a step from one sequential stream (activations, so a copy
 *       is cheap next to the product);</li>
 *   <li>out is cut into work items of whole tiles, {@link #PANELS_PER_ITEM} panels of {@link #NR} columns
 *       wide (and, for narrow W, a share of the rows). Threads take items from a shared counter, so a core
 *       slowed by another process simply does fewer items;</li>
 *   <li>for each K block of {@link #KC}, an item packs its rows of W into panels laid out k-major
 *       ([panel][k][NR] floats), converting BF16/F16 (and dequantising Q8_0/Q4_0) to F32 on the way: at most KC x NR x PANELS_PER_ITEM
 *       floats per thread are ever expanded, never the whole matrix;</li>
 *   <li>a register-blocked micro-kernel computes an MR x NR tile of out (8 rows x 3 vectors = 24 vector
 *       accumulators) by broadcasting one x value per row and doing three FMAs with the packed W panel.</li>
 * </ul>
 * An item first writes the bias (or zero) into its part of out; every K block then accumulates into it.
 *
 * <p>Where the machine has OpenBLAS, products of at least {@link NativeBlas#MIN_ROWS} rows go to it instead
 * ({@link NativeBlas}; {@code -Dosprey.blas=java} keeps them here).
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
    /**
     * Depth of a K block. Each K block loads and stores every tile of out once, and on this class of machine
     * those stores (lines of out not in cache, each needing a read for ownership) cost more than streaming a
     * deeper W block from L3, so the blocks are deep: a tile's x values (MR x KC floats, 128 KB) stay in L2
     * while the item's packed W (KC x NR x PANELS_PER_ITEM floats, 3 MB) streams past. Measured on the
     * 2-core Zen 4 development machine: KC = 4096 about 1.5-2x faster than 256 for 1100x4096x4096.
     */
    static final int KC = Integer.getInteger("osprey.gemm.kc", 4096);
    /** Panels of W per work item at most (each x tile is reused across them). */
    static final int PANELS_PER_ITEM = Integer.getInteger("osprey.gemm.panels", 4);
    /** Work items per thread at least (when the shape allows), for load balance. */
    private static final int ITEMS_PER_THREAD = 8;
    /** Largest W (in floats, 16 MB) that a product packs once for all its items instead of once per item. */
    private static final long MAX_SHARED_W = 4L << 20;
    /** Floats of packed x at most per chunk of rows (256 MB). */
    private static final long MAX_PACKED_X = 1L << 26;
    /** Below this many flops a product runs on the calling thread. */
    private static final double SERIAL_FLOPS = 1 << 18;

    /** Per calling thread: the copy of x for one-row products (see {@link #compute}), grown as needed. */
    private static final ThreadLocal<float[]> X_ROW = ThreadLocal.withInitial(() -> new float[0]);
    /** Set on the calling thread by {@link #linearInJava}. */
    private static final ThreadLocal<Boolean> JAVA_ONLY = new ThreadLocal<>();
    /** Set on the calling thread by {@link #withSmallProductsNative}. */
    private static final ThreadLocal<Boolean> SMALL_NATIVE = new ThreadLocal<>();

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
        int m = Math.toIntExact(leadingRows(x.shape()));
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

    /**
     * {@link #linear(Tensor, Tensor, Tensor, Tensor)} always on the blocked pure-Java kernels, even where products
     * of many rows would go to OpenBLAS (or those of a few rows to {@link FewRows}): for benchmarks that time both
     * paths in the same run, and tests of the blocked path.
     */
    public static void linearInJava(Tensor x, Tensor w, Tensor bias, Tensor out) {
        inJava(() -> linear(x, w, bias, out));
    }

    /**
     * out = x · w for a right-hand side stored the other way round from {@link #linear}'s weight: x [M, K], w
     * [K, N] row-major (torch's {@code x @ w}), both F32, out [M, N] F32 (not overlapping either). The same blocked
     * product: only the packing of w's panels differs (rows of w are already k-major, so a panel is copied, not
     * transposed), and every output element is the same sum in the same order as the Java {@code linear} gives
     * for {@code w}'s transpose. Products that {@link NativeBlas#handles} go to OpenBLAS where the machine has it
     * (SAM's token-to-image attention: the image rows change with every prompt, so they are packed on every call,
     * which OpenBLAS does several times faster than this path).
     */
    public static void matmul(Tensor x, Tensor w, Tensor out) {
        KernelChecks.requireF32(x, "x");
        KernelChecks.requireF32(w, "w");
        KernelChecks.requireF32(out, "out");
        KernelChecks.requireRank(x, 2, "x");
        KernelChecks.requireRank(w, 2, "w");
        KernelChecks.requireRank(out, 2, "out");
        int m = x.size(0), k = x.size(1), n = w.size(1);
        if (w.dim(0) != k || out.dim(0) != m || out.dim(1) != n) {
            throw new IllegalArgumentException("matmul: x " + Arrays.toString(x.shape()) + " times w "
                    + Arrays.toString(w.shape()) + " does not give out " + Arrays.toString(out.shape()));
        }
        if (overlaps(out, x) || overlaps(out, w)) {
            throw new IllegalArgumentException("matmul: out must not share memory with x or w");
        }
        matmul(x.segment(), m, k, w.segment(), n, out.segment(), false);
    }

    /**
     * {@link #matmul(Tensor, Tensor, Tensor)} on raw segments (x [M,K], w [K,N], out [M,N], F32 row-major), out
     * overwritten or, when {@code accumulate}, added to (a linear layer's input gradient dX (+)= dY · W).
     */
    static void matmul(MemorySegment x, int m, int k, MemorySegment w, int n, MemorySegment out, boolean accumulate) {
        if (emptyProduct(m, n, k, out, accumulate)) {
            return;
        }
        if (toNative(m, n, k, DType.F32)) {
            NativeBlas.matmul(x, m, k, w, n, out, accumulate);
            return;
        }
        int chunkRows = (int) Math.max(MR, Math.min(m, (MAX_PACKED_X / Math.max(1, k)) / MR * MR));
        for (int m0 = 0; m0 < m; m0 += chunkRows) {
            int rows = Math.min(chunkRows, m - m0);
            new Problem(x.asSlice((long) m0 * k * 4, (long) rows * k * 4), false, rows, k, DType.F32, w, n,
                    new float[n], out.asSlice((long) m0 * n * 4, (long) rows * n * 4), true, accumulate).run();
        }
    }

    /**
     * out[M,N] (+)= xT^T · w for a left-hand side given transposed: xT [K, M] and w [K, N], both row-major F32, out
     * [M, N] F32 (not overlapping either), overwritten or, when {@code accumulate}, added to. This is a linear
     * layer's weight gradient dW += dY^T · X (xT = dY, w = X) with neither operand transposed in memory: OpenBLAS
     * reads xT transposed where {@link NativeBlas#handles} the shape; the Java path packs x's row groups straight
     * from xT's rows (each step's MR values of a group are adjacent there) and reads w's rows as {@link #matmul}
     * does.
     */
    static void matmulTransposedX(MemorySegment xT, int k, int m, MemorySegment w, int n, MemorySegment out,
            boolean accumulate) {
        if (emptyProduct(m, n, k, out, accumulate)) {
            return;
        }
        if (toNative(m, n, k, DType.F32)) {
            NativeBlas.transposedATimesB(xT, k, m, w, n, out, accumulate);
            return;
        }
        transposedXBlocked(xT, k, m, w, n, out, accumulate, MAX_PACKED_X);
    }

    /** The Java path of {@link #matmulTransposedX}, packing at most {@code maxPackedX} floats of x at once. */
    static void transposedXBlocked(MemorySegment xT, int k, int m, MemorySegment w, int n, MemorySegment out,
            boolean accumulate, long maxPackedX) {
        // In slices of the reduction (rows of xT and w alike), so the packed copy of x stays bounded; each slice
        // after the first adds to out.
        int kChunk = (int) Math.max(1, Math.min(k, maxPackedX / (m + MR)));
        for (int k0 = 0; k0 < k; k0 += kChunk) {
            int kc = Math.min(kChunk, k - k0);
            new Problem(xT.asSlice((long) k0 * m * 4, (long) kc * m * 4), true, m, kc, DType.F32,
                    w.asSlice((long) k0 * n * 4, (long) kc * n * 4), n, new float[n], out, true,
                    accumulate || k0 > 0).run();
        }
    }

    /**
     * True when out[M,N] (+)= a [M,K] times b [K,N] has nothing to multiply (an empty side); out is then zeroed
     * unless accumulating (K = 0: every sum is empty).
     */
    private static boolean emptyProduct(int m, int n, int k, MemorySegment out, boolean accumulate) {
        if (m == 0 || n == 0) {
            return true;
        }
        if (k == 0) {
            if (!accumulate) {
                out.asSlice(0, (long) m * n * 4).fill((byte) 0);
            }
            return true;
        }
        return false;
    }

    /** Work run by {@link #withSmallProductsNative}. */
    @FunctionalInterface
    public interface Work<T, E extends Exception> {
        T run() throws E;
    }

    /**
     * Runs {@code work} with products of {@link NativeBlas#MIN_ROWS} rows or more on OpenBLAS (where the machine has
     * it) however few their flops, on the calling thread only. For training: a ConvNeXt tower's per-image
     * layers are products of ~1000 rows with K or N of 32 to 256, too few flops for the usual threshold, and the
     * blocked Java kernel spends most of such a product packing and storing; OpenBLAS does them about twice as
     * fast. Inference keeps the threshold, so a prompt's small products give the same result alone or batched.
     */
    public static <T, E extends Exception> T withSmallProductsNative(Work<T, E> work) throws E {
        Boolean before = SMALL_NATIVE.get();
        SMALL_NATIVE.set(Boolean.TRUE);
        try {
            return work.run();
        } finally {
            if (before == null) {
                SMALL_NATIVE.remove();
            }
        }
    }

    /** Whether a product of this shape goes to {@link NativeBlas} on this thread. */
    private static boolean toNative(int m, int n, int k, DType wType) {
        if (JAVA_ONLY.get() != null) {
            return false;
        }
        return SMALL_NATIVE.get() != null ? NativeBlas.handles(m, wType) : NativeBlas.handles(m, n, k, wType);
    }

    /** Runs {@code product} with every product on the pure-Java kernels (tests of the Java path of callers). */
    static void inJava(Runnable product) {
        JAVA_ONLY.set(Boolean.TRUE);
        try {
            product.run();
        } finally {
            JAVA_ONLY.remove();
        }
    }

    private static void requireWeight(Tensor w) {
        if (w.rank() != 2) {
            throw new IllegalArgumentException("linear: weight must be [N, K], got shape "
                    + Arrays.toString(w.shape()));
        }
        DType d = w.dtype();
        if (!d.isLinearWeightType()) {
            throw new IllegalArgumentException("linear: weight must be " + DType.linearWeightTypeNames() + ", got " + d);
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
            // x goes to MatVec as a float[] (its loads from an array are the fastest), copied into a buffer
            // the calling thread keeps: decoding makes hundreds of these products per token, and a new array
            // each time would be garbage on every call. The thread waits for the product, so one buffer suffices.
            float[] xv = X_ROW.get();
            if (xv.length < k) {
                xv = new float[k];
                X_ROW.set(xv);
            }
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, xv, 0, k);
            MatVec.compute(wType, w, n, k, xv, bias, out);
            return;
        }
        if (JAVA_ONLY.get() == null && FewRows.handles(m, n, k, wType)) {
            FewRows.compute(x, m, k, wType, w, n, bias, out);
            return;
        }
        if (toNative(m, n, k, wType)) {
            NativeBlas.linear(x, m, k, wType, w, n, bias, out);
            return;
        }
        blocked(x, m, k, wType, w, n, bias, out, MAX_PACKED_X);
    }

    /** The blocked product for M > 1, in chunks of rows whose packed x has at most {@code maxPackedX} floats. */
    static void blocked(MemorySegment x, int m, int k, DType wType, MemorySegment w, int n, float[] bias,
            MemorySegment out, long maxPackedX) {
        // Rows in chunks, so the packed copy of x stays bounded (and int-indexable) for any M x K.
        int chunkRows = (int) Math.max(MR, Math.min(m, (maxPackedX / Math.max(1, k)) / MR * MR));
        for (int m0 = 0; m0 < m; m0 += chunkRows) {
            int rows = Math.min(chunkRows, m - m0);
            new Problem(x.asSlice((long) m0 * k * 4, (long) rows * k * 4), rows, k, wType, w, n,
                    bias != null ? bias : new float[n], out.asSlice((long) m0 * n * 4, (long) rows * n * 4), false).run();
        }
    }

    /**
     * One product (or a chunk of its rows). x is packed once, whole, and shared read-only; the output is then
     * cut into rectangles of whole tiles ("items") that the pool's threads take one after another from a
     * shared counter. Many small items rather than one big range per thread keep both cores busy to the end
     * even when another process takes one of them for a while.
     */
    private static final class Problem {
        private final MemorySegment x;
        /** x is given transposed, [K, M] row-major (see {@link #matmulTransposedX}). */
        private final boolean transposedX;
        /** out is added to instead of starting from the bias. */
        private final boolean accumulate;
        private final int m;
        private final int k;
        private final DType wType;
        private final MemorySegment w;
        private final int n;
        private final float[] bias;
        private final MemorySegment out;
        private final int panels;
        /** w is [K, N] row-major (F32), not [N, K]. */
        private final boolean kMajorW;
        /** x packed per K block and per group of MR rows, k-major in the group: see {@link #packRowGroup}. */
        private final float[] packedX;
        private final int mPadded;
        private final int panelsPerItem;
        private final int rowsPerItem;
        private final int colItems;
        private final int items;
        /**
         * W packed once for all items ([K block][panel][kc][NR], block k0 at k0 * panels * NR), or null when each
         * item packs its own panels. Used when the rows are cut into several items (a narrow W, as in the demo
         * model's 192-wide layers), which would otherwise each pack the same panels again, and W is small.
         */
        private final float[] sharedW;
        private final AtomicInteger nextItem = new AtomicInteger();

        Problem(MemorySegment x, int m, int k, DType wType, MemorySegment w, int n, float[] bias,
                MemorySegment out, boolean kMajorW) {
            this(x, false, m, k, wType, w, n, bias, out, kMajorW, false);
        }

        Problem(MemorySegment x, boolean transposedX, int m, int k, DType wType, MemorySegment w, int n,
                float[] bias, MemorySegment out, boolean kMajorW, boolean accumulate) {
            this.kMajorW = kMajorW;
            this.x = x;
            this.transposedX = transposedX;
            this.accumulate = accumulate;
            this.m = m;
            this.k = k;
            this.wType = wType;
            this.w = w;
            this.n = n;
            this.bias = bias;
            this.out = out;
            this.panels = (n + NR - 1) / NR;
            this.mPadded = (m + MR - 1) / MR * MR;
            this.packedX = new float[mPadded * k];
            int wanted = ITEMS_PER_THREAD * ComputePool.threads();
            // Items are PANELS_PER_ITEM panels wide (each x tile is reused across them from L1); when that
            // gives too few items, the rows are cut too, in whole tiles.
            this.panelsPerItem = Math.min(PANELS_PER_ITEM, panels);
            this.colItems = (panels + panelsPerItem - 1) / panelsPerItem;
            int rowItems = Math.max(1, Math.min(mPadded / MR, (wanted + colItems - 1) / colItems));
            this.rowsPerItem = (mPadded / MR + rowItems - 1) / rowItems * MR;
            this.items = colItems * ((m + rowsPerItem - 1) / rowsPerItem);
            boolean rowsShareW = (m + rowsPerItem - 1) / rowsPerItem > 1;
            // (A [K, N] right-hand side packs its rows per item: packRowPanels reads each row once for all panels.)
            this.sharedW = rowsShareW && !kMajorW && (long) panels * NR * k <= MAX_SHARED_W
                    ? new float[panels * NR * k] : null;
        }

        void run() {
            int groups = mPadded / MR;
            boolean small = 2.0 * m * n * k < SERIAL_FLOPS;
            if (small) {
                if (transposedX) {
                    packTransposedRows(0, k);
                } else {
                    packRowGroups(0, groups);
                }
                if (sharedW != null) {
                    packSharedPanels(0, panels);
                }
                work();
            } else {
                if (transposedX) {
                    ComputePool.parallelFor(k, 64, this::packTransposedRows);
                } else {
                    ComputePool.parallelFor(groups, 1, this::packRowGroups);
                }
                if (sharedW != null) {
                    ComputePool.parallelFor(panels, 1, this::packSharedPanels);
                }
                ComputePool.parallelFor(ComputePool.threads(), 1, (from, to) -> work());
            }
        }

        /** Packs panels [p0, p1) of W into {@link #sharedW}, every K block. */
        private void packSharedPanels(int p0, int p1) {
            float[] row = new float[Math.min(KC, k)];
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                for (int p = p0; p < p1; p++) {
                    packPanel(p, k0, kc, sharedW, k0 * panels * NR + p * NR * kc, row);
                }
            }
        }

        /** Takes items until none is left. */
        private void work() {
            int kcMax = Math.min(KC, k);
            float[] packedW = sharedW != null ? sharedW : new float[panelsPerItem * NR * kcMax];
            float[] row = new float[kcMax];
            float[] kRow = kMajorW ? new float[panelsPerItem * NR] : null;
            MemorySegment scratch = Arena.ofAuto().allocate(MR * NR * 4L, 64);
            for (int item = nextItem.getAndIncrement(); item < items; item = nextItem.getAndIncrement()) {
                int p0 = (item % colItems) * panelsPerItem;
                int p1 = Math.min(panels, p0 + panelsPerItem);
                int r0 = (item / colItems) * rowsPerItem;
                int r1 = Math.min(m, r0 + rowsPerItem);
                item(r0, r1, p0, p1, packedW, row, kRow, scratch);
            }
        }

        /** out rows [r0, r1) x the columns of panels [p0, p1); r0 is a multiple of MR. */
        private void item(int r0, int r1, int p0, int p1, float[] packedW, float[] row, float[] kRow,
                MemorySegment scratch) {
            long outRowBytes = (long) n * 4;
            // out starts as the bias (or zero), or as it is when accumulating; every K block then accumulates into
            // it, so the micro-kernel has a single path (no first-block branch that the JIT might compile as a trap
            // and later deoptimise).
            int colFrom = p0 * NR;
            int cols = Math.min(n, p1 * NR) - colFrom;
            for (int i = r0; i < r1 && !accumulate; i++) {
                MemorySegment.copy(bias, colFrom, out, ValueLayout.JAVA_FLOAT_UNALIGNED,
                        ((long) i * n + colFrom) * 4, cols);
            }
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                // Panel p of this K block in packedW: the item's own copy, or W packed once for all items.
                int wBase = sharedW != null ? k0 * panels * NR + p0 * NR * kc : 0;
                if (sharedW == null && kMajorW) {
                    packRowPanels(p0, p1, k0, kc, packedW, kRow);
                } else if (sharedW == null) {
                    for (int p = p0; p < p1; p++) {
                        packPanel(p, k0, kc, packedW, (p - p0) * NR * kc, row);
                    }
                }
                // Row tiles outer, panels inner: the tile's x values stay in cache while the item's packed W
                // streams by, and consecutive tiles of out lie side by side in memory.
                int xBlock = mPadded * k0;
                for (int r = r0; r < r1; r += MR) {
                    int rows = Math.min(MR, r1 - r);
                    int aOff = xBlock + r * kc;
                    for (int p = p0; p < p1; p++) {
                        int n0 = p * NR;
                        int valid = Math.min(NR, n - n0);
                        int wOff = wBase + (p - p0) * NR * kc;
                        long cOff = (long) r * outRowBytes + (long) n0 * 4;
                        if (valid == NR) {
                            tile(rows, packedX, aOff, kc, packedW, wOff, out, cOff, outRowBytes);
                        } else {
                            // The last panel is narrower than a tile: work on a full-width copy of the tile,
                            // so the kernels only ever do full, unmasked vector accesses.
                            copyTile(out, cOff, outRowBytes, scratch, 0, NR * 4L, rows, valid);
                            tile(rows, packedX, aOff, kc, packedW, wOff, scratch, 0, NR * 4L);
                            copyTile(scratch, 0, NR * 4L, out, cOff, outRowBytes, rows, valid);
                        }
                    }
                }
            }
        }

        /**
         * Packs row groups [g0, g1) of x (MR rows each) for every K block: block k0 starts at mPadded*k0, and
         * in it group g is k-major, packedX[mPadded*k0 + g*MR*kc + kk*MR + i] = x[g*MR + i][k0 + kk]. The
         * micro-kernel thus reads its MR values per step from one sequential stream. Rows past M are zero.
         */
        private void packRowGroups(int g0, int g1) {
            float[] row = new float[k];
            for (int g = g0; g < g1; g++) {
                for (int i = 0; i < MR; i++) {
                    int xr = g * MR + i;
                    if (xr < m) {
                        MemorySegment.copy(x, ValueLayout.JAVA_FLOAT_UNALIGNED, (long) xr * k * 4, row, 0, k);
                    } else {
                        java.util.Arrays.fill(row, 0f);
                    }
                    for (int k0 = 0; k0 < k; k0 += KC) {
                        int kc = Math.min(KC, k - k0);
                        int base = mPadded * k0 + g * MR * kc + i;
                        for (int kk = 0; kk < kc; kk++) {
                            packedX[base + kk * MR] = row[k0 + kk];
                        }
                    }
                }
            }
        }

        /**
         * Packs rows [kk0, kk1) of a transposed x ([K, M], {@link #transposedX}) into the layout of
         * {@link #packRowGroups}: row kk of xT holds, side by side, the kk-th values of every row of x, so each is
         * read once (one bulk copy) and its groups of MR values are copied whole. Rows past M stay zero (packedX
         * is new).
         */
        private void packTransposedRows(int kk0, int kk1) {
            float[] row = new float[m];
            for (int kk = kk0; kk < kk1; kk++) {
                MemorySegment.copy(x, ValueLayout.JAVA_FLOAT_UNALIGNED, (long) kk * m * 4, row, 0, m);
                int k0 = kk / KC * KC;
                int kc = Math.min(KC, k - k0);
                int base = mPadded * k0 + (kk - k0) * MR;
                for (int i0 = 0; i0 < m; i0 += MR) {
                    System.arraycopy(row, i0, packedX, base + i0 * kc, Math.min(MR, m - i0));
                }
            }
        }

        /**
         * For a [K, N] right-hand side: packs panels [p0, p1) for columns [k0, k0 + kc) as {@link #packPanel} lays
         * them out. Row k of w holds the panels' columns side by side, so each row is read once (one bulk copy)
         * and split into the panels; columns past N are zero.
         */
        private void packRowPanels(int p0, int p1, int k0, int kc, float[] dst, float[] kRow) {
            int c0 = p0 * NR, cols = Math.min(n, p1 * NR) - c0, width = (p1 - p0) * NR;
            java.util.Arrays.fill(kRow, cols, width, 0f);
            for (int kk = 0; kk < kc; kk++) {
                MemorySegment.copy(w, ValueLayout.JAVA_FLOAT_UNALIGNED, ((long) (k0 + kk) * n + c0) * 4, kRow, 0, cols);
                for (int p = p0; p < p1; p++) {
                    System.arraycopy(kRow, (p - p0) * NR, dst, (p - p0) * NR * kc + kk * NR, NR);
                }
            }
        }

        /**
         * Packs rows [p*NR, p*NR + NR) of W, columns [k0, k0 + kc), as dst[off + kk*NR + j] = W[p*NR + j][k0 + kk]
         * in F32; rows past N are zero, so the kernel can always run full width.
         */
        private void packPanel(int p, int k0, int kc, float[] dst, int off, float[] row) {
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

        /** A tile of {@code rows} (at most MR) rows: the 8-row kernel, or the one-row kernel per row. */
        private static void tile(int rows, float[] a, int aOff, int kc, float[] b, int bOff, MemorySegment c,
                long cOff, long cRow) {
            if (rows == MR) {
                kernel8x3(a, aOff, kc, b, bOff, c, cOff, cRow);
            } else {
                for (int i = 0; i < rows; i++) {
                    kernel1x3(a, aOff + i, kc, b, bOff, c, cOff + i * cRow);
                }
            }
        }

        private static void copyTile(MemorySegment src, long srcOff, long srcRow, MemorySegment dst, long dstOff,
                long dstRow, int rows, int cols) {
            for (int i = 0; i < rows; i++) {
                MemorySegment.copy(src, srcOff + i * srcRow, dst, dstOff + i * dstRow, cols * 4L);
            }
        }
    }

    /**
     * An MR x NR tile of out (8 rows x 3 vectors = 24 accumulators, which with the 3 W vectors and one broadcast
     * use 28 of AVX-512's 32 vector registers): x values at a[aOff + kk*MR + i] (see packRowGroups), the W panel at
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
        for (int kk = 0; kk < kc; kk++) {
            int bi = bOff + kk * NR;
            int ai = aOff + kk * MR;
            FloatVector w0 = FloatVector.fromArray(F, b, bi);
            FloatVector w1 = FloatVector.fromArray(F, b, bi + L);
            FloatVector w2 = FloatVector.fromArray(F, b, bi + 2 * L);
            FloatVector x;
            x = FloatVector.broadcast(F, a[ai]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02);
            x = FloatVector.broadcast(F, a[ai + 1]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12);
            x = FloatVector.broadcast(F, a[ai + 2]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22);
            x = FloatVector.broadcast(F, a[ai + 3]);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32);
            x = FloatVector.broadcast(F, a[ai + 4]);
            c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42);
            x = FloatVector.broadcast(F, a[ai + 5]);
            c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52);
            x = FloatVector.broadcast(F, a[ai + 6]);
            c60 = x.fma(w0, c60); c61 = x.fma(w1, c61); c62 = x.fma(w2, c62);
            x = FloatVector.broadcast(F, a[ai + 7]);
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

    /**
     * One row of a tile (its x values at a[aOff + kk*MR]), for the rows left over when the block's row count
     * is not a multiple of MR.
     */
    private static void kernel1x3(float[] a, int aOff, int kc, float[] b, int bOff, MemorySegment c, long cOff) {
        FloatVector c0 = load(c, cOff);
        FloatVector c1 = load(c, cOff + V);
        FloatVector c2 = load(c, cOff + 2 * V);
        for (int kk = 0; kk < kc; kk++) {
            int bi = bOff + kk * NR;
            FloatVector x = FloatVector.broadcast(F, a[aOff + kk * MR]);
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
