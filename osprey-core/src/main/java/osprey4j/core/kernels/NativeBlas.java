package osprey4j.core.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;

/**
 * An optional backend for the compute-bound products of {@link Gemm#linear} and {@link Gemm#matmul} (M of at least
 * {@link #MIN_ROWS} rows: prefill, the vision tower): OpenBLAS's {@code cblas_sgemm}, found on the machine and
 * called through the Foreign Function &amp; Memory API (no JNI, nothing built by osprey4j).
 *
 * <p>Why OpenBLAS: it is the BLAS a Linux machine most often has (Debian's {@code libopenblas0}, a dependency of
 * numpy and PyTorch there), it is free, and its hand-written assembly SGEMM kernels for AVX-512 keep both FMA
 * ports busy from registers, which the Vector API's code for our micro-kernel does not (it reloads and spills;
 * see {@code bench gemm}'s %roof column). It has no BF16 product in Debian's build ({@code cblas_sbgemm} is not
 * exported), so BF16/F16/quantised weights are converted to F32 a slice of rows at a time, never whole.
 *
 * <p>Selection, by the system property {@code osprey.blas}: {@code auto} (the default) uses OpenBLAS when
 * {@code libopenblas.so.0} is found on the library path or in the usual Debian/Ubuntu/Fedora places and
 * exports the symbols used; {@code java} never does; any other value is the path of the library to load
 * (which must then load, or every product fails with that reason). Without the library, and for
 * M below {@link #MIN_ROWS}, the pure-Java {@link Gemm} runs; both give the same product up to F32 summation
 * order.
 */
public final class NativeBlas {
    /** Products with fewer rows than this stay in Java (decoding, small tiles): a call costs microseconds. */
    public static final int MIN_ROWS = 32;
    /** Columns of out (rows of W) per work item at most; a non-F32 W is converted to F32 this many rows at a time. */
    private static final int CONVERT_ROWS = 512;
    /** Columns per work item are a multiple of this (OpenBLAS's AVX-512 SGEMM kernel works in panels of 16). */
    private static final int COLUMN_ALIGN = 64;
    /** Products below this many flops stay in Java (see {@link #handles(int, int, int, DType)}). */
    public static final double MIN_FLOPS = 1 << 25;
    /** Below this many flops a product runs on the calling thread. */
    private static final double SERIAL_FLOPS = 1 << 22;
    /** A thread that is never started: segments it may access are accessible to the pool's threads too. */
    private static final Thread NOT_THE_CALLER = Thread.ofPlatform().unstarted(() -> { });
    /** Work items per thread at least (when N allows), for load balance. */
    private static final int ITEMS_PER_THREAD = 4;
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;
    private static final List<String> DEFAULT_PLACES = List.of(
            "/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
            "/usr/lib64/libopenblas.so.0", "/usr/lib/libopenblas.so.0", "/usr/local/lib/libopenblas.so.0");

    private static final Backend BACKEND = Backend.load(System.getProperty("osprey.blas", "auto"));

    private NativeBlas() {
    }

    /** The loaded library, or empty when products stay in Java. */
    public static Optional<String> library() {
        return Optional.ofNullable(BACKEND.library);
    }

    /** Why no library is used (null when one is). */
    public static String unavailableReason() {
        return BACKEND.reason;
    }

    /**
     * True when a product of this shape and weight type goes to the native library. A library named with
     * {@code -Dosprey.blas=PATH} that did not load fails here, with the reason, rather than running in Java
     * unnoticed.
     */
    static boolean handles(int m, DType wType) {
        if (BACKEND.explicitFailure) {
            throw new IllegalStateException(BACKEND.reason);
        }
        return BACKEND.sgemm != null && m >= MIN_ROWS && wType.isLinearWeightType();
    }

    /**
     * True when a product of this shape goes to the native library: at least {@link #MIN_ROWS} rows and
     * {@link #MIN_FLOPS} flops. Small products (SAM's decoder tokens, a few regions' mask tokens) stay in Java,
     * where a row's result does not depend on how many rows are multiplied with it, so batched prompts give
     * each prompt's own result bit for bit.
     */
    public static boolean handles(int m, int n, int k, DType wType) {
        return handles(m, wType) && 2.0 * m * n * k >= MIN_FLOPS;
    }

    /**
     * out[M,N] = x[M,K] · W[N,K]^T + bias through cblas_sgemm. Heap segments (x or out wrapping a Java array)
     * are copied to native memory first: a downcall may only pass native memory without pinning the heap, and
     * the copies cost far less than the product.
     */
    static void linear(MemorySegment x, int m, int k, DType wType, MemorySegment w, int n, float[] bias,
            MemorySegment out) {
        if (BACKEND.sgemm == null) {
            throw new IllegalStateException("no native BLAS: " + BACKEND.reason);
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment nx = x.isNative() ? x : arena.allocate((long) m * k * 4, 64).copyFrom(x);
            MemorySegment nout = out.isNative() ? out : arena.allocate((long) m * n * 4, 64);
            boolean inPlace = wType == DType.F32 && w.isNative();
            // Columns of out in items taken from a shared counter by the pool's threads, each one
            // single-threaded call: a core slowed by another process does fewer items, and between products no
            // library thread is left spinning on a core the Java kernels need next.
            int threads = ComputePool.threads();
            int cols = Math.max(COLUMN_ALIGN, Math.min(CONVERT_ROWS,
                    (n / (ITEMS_PER_THREAD * threads)) / COLUMN_ALIGN * COLUMN_ALIGN));
            int items = (n + cols - 1) / cols;
            AtomicInteger next = new AtomicInteger();
            // Small products, and operands confined to the calling thread, stay on the calling thread.
            boolean serial = 2.0 * m * n * k < SERIAL_FLOPS || !sharable(x) || !sharable(w) || !sharable(out);
            ComputePool.RangeTask task = (from, to) -> {
                // One row of W at a time through the heap: a buffer of cols x k floats (up to 22 MB at LLaMA-7B's
                // MLP) per call made the garbage collector grow the heap by hundreds of MB during a prefill.
                float[] row = inPlace ? null : new float[k];
                try (Arena local = Arena.ofConfined()) {
                    MemorySegment slice = inPlace ? null : local.allocate((long) cols * k * 4, 64);
                    for (int item = next.getAndIncrement(); item < items; item = next.getAndIncrement()) {
                        int n0 = item * cols;
                        int nc = Math.min(cols, n - n0);
                        for (int i = 0; i < m; i++) {
                            long at = ((long) i * n + n0) * 4;
                            if (bias == null) {
                                nout.asSlice(at, (long) nc * 4).fill((byte) 0);
                            } else {
                                MemorySegment.copy(bias, n0, nout, ValueLayout.JAVA_FLOAT_UNALIGNED, at, nc);
                            }
                        }
                        MemorySegment b;
                        if (inPlace) {
                            b = w.asSlice((long) n0 * k * 4, (long) nc * k * 4);
                        } else {
                            for (int r = 0; r < nc; r++) {
                                VectorConvert.toFloats(wType, w, (long) (n0 + r) * k, row, 0, k);
                                MemorySegment.copy(row, 0, slice, ValueLayout.JAVA_FLOAT_UNALIGNED, (long) r * k * 4, k);
                            }
                            b = slice;
                        }
                        sgemm(TRANS, m, nc, k, nx, k, b, k, 1f, nout.asSlice((long) n0 * 4), n);
                    }
                }
            };
            runItems(serial, task, nout, out);
        }
    }

    /**
     * out[M,N] = x[M,K] · w[K,N] (w row-major, torch's {@code x @ w}; all F32) through cblas_sgemm, for
     * {@link Gemm#matmul}. The columns of out are split into items across the pool's threads as in
     * {@link #linear}: an item reads its columns of w in place (leading dimension N), so nothing is converted.
     */
    static void matmul(MemorySegment x, int m, int k, MemorySegment w, int n, MemorySegment out, boolean accumulate) {
        timesKMajor(NO_TRANS, x, m, k, w, n, out, accumulate);
    }

    /**
     * out[M,N] (+)= xT[K,M]^T · w[K,N] (all F32, row-major) through cblas_sgemm with A transposed and beta 0 or 1,
     * for {@link Gemm#matmulTransposedX} (a weight gradient dY^T · X, read as stored). Columns of out in items
     * across the pool's threads as in {@link #matmul}.
     */
    static void transposedATimesB(MemorySegment xT, int k, int m, MemorySegment w, int n, MemorySegment out,
            boolean accumulate) {
        timesKMajor(TRANS, xT, m, k, w, n, out, accumulate);
    }

    /**
     * out[M,N] (+)= op(a) · w[K,N] with op(a) = a[M,K] ({@code NO_TRANS}) or a[K,M]^T ({@code TRANS}): the columns
     * of out in items across the pool's threads, each reading its columns of w in place (leading dimension N);
     * beta 1 when accumulating (heap operands are copied to native memory, out's contents too then).
     */
    private static void timesKMajor(int transA, MemorySegment a, int m, int k, MemorySegment w, int n,
            MemorySegment out, boolean accumulate) {
        if (BACKEND.sgemm == null) {
            throw new IllegalStateException("no native BLAS: " + BACKEND.reason);
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment na = a.isNative() ? a : arena.allocate((long) m * k * 4, 64).copyFrom(a);
            MemorySegment nw = w.isNative() ? w : arena.allocate((long) k * n * 4, 64).copyFrom(w);
            MemorySegment nout = out.isNative() ? out : arena.allocate((long) m * n * 4, 64);
            if (accumulate && nout != out) {
                nout.copyFrom(out.asSlice(0, (long) m * n * 4));
            }
            int lda = transA == TRANS ? m : k;
            float beta = accumulate ? 1f : 0f;   // beta = 0: out's previous contents are not read
            int threads = ComputePool.threads();
            int cols = Math.max(COLUMN_ALIGN, (n / (ITEMS_PER_THREAD * threads)) / COLUMN_ALIGN * COLUMN_ALIGN);
            int items = (n + cols - 1) / cols;
            AtomicInteger next = new AtomicInteger();
            boolean serial = 2.0 * m * n * k < SERIAL_FLOPS || !sharable(a) || !sharable(w) || !sharable(out);
            ComputePool.RangeTask task = (from, to) -> {
                for (int item = next.getAndIncrement(); item < items; item = next.getAndIncrement()) {
                    int n0 = item * cols;
                    int nc = Math.min(cols, n - n0);
                    sgemm(transA, NO_TRANS, m, nc, k, na, lda, nw.asSlice((long) n0 * 4), n, beta,
                            nout.asSlice((long) n0 * 4), n);
                }
            };
            runItems(serial, task, nout, out);
        }
    }

    /**
     * Runs the items of a product: on the calling thread when {@code serial}, else on the pool's threads; then
     * copies the native result to {@code out} where out was on the heap.
     */
    private static void runItems(boolean serial, ComputePool.RangeTask task, MemorySegment nout, MemorySegment out) {
        if (serial) {
            task.run(0, 1);
        } else {
            ComputePool.parallelFor(ComputePool.threads(), 1, task);
        }
        if (nout != out) {
            out.asSlice(0, nout.byteSize()).copyFrom(nout);
        }
    }

    /** True when threads other than the caller may read the segment (it is not from a confined arena). */
    static boolean sharable(MemorySegment s) {
        return s.isAccessibleBy(NOT_THE_CALLER);
    }

    /**
     * C[M,N] = A[M,K] · op(B) + beta · C (row-major, leading dimensions lda, ldb, ldc), where op(B) is B[N,K]^T
     * for {@code transB = TRANS} and B[K,N] for {@code NO_TRANS}.
     */
    private static void sgemm(int transB, int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb,
            float beta, MemorySegment c, int ldc) {
        sgemm(NO_TRANS, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }

    /** As above, with op(A) = A[K,M]^T for {@code transA = TRANS}. */
    private static void sgemm(int transA, int transB, int m, int n, int k, MemorySegment a, int lda, MemorySegment b,
            int ldb, float beta, MemorySegment c, int ldc) {
        try {
            BACKEND.sgemm.invokeExact(ROW_MAJOR, transA, transB, m, n, k, 1f, a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    /** The library and its entry points, or the reason there are none. */
    private record Backend(String library, MethodHandle sgemm, String reason, boolean explicitFailure) {
        static Backend load(String setting) {
            if (setting.equals("java")) {
                return new Backend(null, null, "disabled (-Dosprey.blas=java)", false);
            }
            List<String> candidates = new ArrayList<>();
            if (setting.equals("auto")) {
                candidates.add("libopenblas.so.0");
                candidates.addAll(DEFAULT_PLACES);
            } else {
                candidates.add(setting);
            }
            List<String> failures = new ArrayList<>();
            for (String candidate : candidates) {
                boolean isPath = candidate.contains("/");
                if (isPath && !Files.isRegularFile(Path.of(candidate))) {
                    failures.add(candidate + ": no such file");
                    continue;
                }
                try {
                    SymbolLookup lookup = SymbolLookup.libraryLookup(candidate, Arena.global());
                    Linker linker = Linker.nativeLinker();
                    MemorySegment sgemm = lookup.find("cblas_sgemm").orElse(null);
                    MemorySegment threads = lookup.find("openblas_set_num_threads").orElse(null);
                    if (sgemm == null || threads == null) {
                        failures.add(candidate + ": not OpenBLAS (no cblas_sgemm/openblas_set_num_threads)");
                        continue;
                    }
                    ValueLayout.OfInt i = ValueLayout.JAVA_INT;
                    ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT;
                    MethodHandle gemm = linker.downcallHandle(sgemm, FunctionDescriptor.ofVoid(i, i, i, i, i, i, f,
                            ValueLayout.ADDRESS, i, ValueLayout.ADDRESS, i, f, ValueLayout.ADDRESS, i));
                    // One library thread: the compute pool's threads each make single-threaded calls on their
                    // share of the columns (OpenBLAS's own threads would spin for a while after every call).
                    linker.downcallHandle(threads, FunctionDescriptor.ofVoid(i)).invokeExact(1);
                    return new Backend(candidate, gemm, null, false);
                } catch (Throwable e) {
                    failures.add(candidate + ": " + e.getMessage());
                }
            }
            String reason = setting.equals("auto") ? "no OpenBLAS found (" + String.join("; ", failures) + ")"
                    : String.join("; ", failures);
            if (!setting.equals("auto")) {
                // An explicit library that does not load is a configuration error, reported on first use.
                return new Backend(null, null, "-Dosprey.blas=" + setting + ": " + reason, true);
            }
            return new Backend(null, null, reason, false);
        }
    }
}
