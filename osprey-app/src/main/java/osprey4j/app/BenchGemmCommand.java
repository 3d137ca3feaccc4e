package osprey4j.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import osprey4j.core.kernels.FewRows;
import osprey4j.core.kernels.FmaPeak;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.MemoryBandwidth;
import osprey4j.core.kernels.NativeBlas;
import osprey4j.core.kernels.Quantize;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Floats;
import osprey4j.core.tensor.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code osprey bench gemm}: GFLOP/s of {@link Gemm#linear} on the shapes Osprey runs, next to PyTorch's
 * {@code F.linear} on the same machine, thread count and shapes, measured in the same run. One-row products
 * (decoding) are memory-bound, so for them it also prints the fraction of the machine's streaming read
 * bandwidth, measured in the same run by {@link MemoryBandwidth}, and larger ones their fraction of the F32
 * FMA peak ({@link FmaPeak}); where OpenBLAS takes the larger ones ({@link NativeBlas}), the pure-Java kernels
 * are timed as well.
 */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = {
                "Times out[M,N] = x[M,K] · W[N,K]^T (PyTorch's Linear layout; F32 x and out, W in F32/BF16/F16/Q8_0/"
                        + "Q4_0, F32 accumulation) on Osprey's shapes, written MxKxN:",
                "  1100x4096x4096 (LLM prefill) with F32 and BF16 weights, 1x4096x4096 (decoding) with F32, BF16,"
                        + " Q8_0 and Q4_0 weights (the quantised rows have no PyTorch peer);"
                        + " 1024x768x4096 and 16384x192x768 (vision side) with F32 weights.",
                "Prints the median over repetitions after warm-up, in GFLOP/s (2*M*K*N flops). If /usr/bin/python3"
                        + " with torch is present, runs torch.nn.functional.linear on the same shapes with the same"
                        + " thread count and prints its GFLOP/s and the ratio (ours / PyTorch). 1-row products also"
                        + " print the weight-streaming rate as a fraction of the memory bandwidth measured in the"
                        + " same run; the others, their fraction of the F32 FMA peak measured in the same run.",
                "Products of 32 rows and 34 MFLOP or more go to OpenBLAS where the machine has it (-Dosprey.blas=java keeps"
                        + " them in Java, -Dosprey.blas=PATH names the library), and products of 2 to 31 rows with"
                        + " BF16, F16, Q8_0 or Q4_0 weights and as many flops to the few-rows kernel (each weight"
                        + " converted once for all rows); the blocked pure-Java kernel is then timed too, on a line"
                        + " marked (java)."
        })
final class BenchGemmCommand implements java.util.concurrent.Callable<Integer> {
    static final String CONVENTION = "MxKxN: x [M,K] F32, W [N,K], out [M,N] = x W^T";
    /** Total weight bytes a 1-row product cycles through, so that it streams from memory, not the L3 cache. */
    private static final long DECODE_WEIGHT_BYTES = 256L << 20;
    private static final String DEFAULT_PYTHON = "/usr/bin/python3";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Option(names = "--quick", description = "Fewer repetitions and a smaller bandwidth buffer (a smoke test).")
    boolean quick;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for both sides (default: the compute pool's, i.e. all cores or -Dosprey.threads).")
    Integer threads;

    @Option(names = "--shapes", hidden = true, split = ",", paramLabel = "MxKxN[:DTYPE]",
            description = "Replace the default shapes (DTYPE f32, bf16 or f16; default f32).")
    List<String> shapes;

    @Option(names = "--no-peer", hidden = true, description = "Do not run the PyTorch peer.")
    boolean noPeer;

    @Option(names = "--python", hidden = true, paramLabel = "PATH", description = "Python with torch for the peer.")
    String python = DEFAULT_PYTHON;

    @Option(names = "--bandwidth-mb", hidden = true, paramLabel = "MB",
            description = "Size of the bandwidth buffer in MiB (default 1024, 256 with --quick).")
    Integer bandwidthMb;

    /** One product to time. */
    record Shape(int m, int k, int n, DType dtype) {
        String label() {
            return m + "x" + k + "x" + n;
        }

        double flops() {
            return 2.0 * m * k * n;
        }

        long weightBytes() {
            return dtype.bytesFor((long) n * k);
        }

        /** Distinct weight matrices cycled through: several for a 1-row product, so caches do not help it. */
        int copies() {
            return m == 1 ? (int) Math.max(1, DECODE_WEIGHT_BYTES / Math.max(1, weightBytes())) : 1;
        }
    }

    /** Our median time and the peer's result (null fields when there is none). */
    record Row(Shape shape, int reps, double medianSeconds, JsonNode peer, double javaMedianSeconds) {
        /** True when the product went to OpenBLAS (and javaMedianSeconds is the pure-Java path's time). */
        boolean nativePath() {
            return !Double.isNaN(javaMedianSeconds);
        }
    }

    @Override
    public Integer call() throws Exception {
        List<Shape> todo = shapes == null ? defaultShapes() : parseShapes(shapes);
        int nThreads = BenchThreads.configure(threads);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int reps = quick ? 2 : 7;

        long bwBytes = (bandwidthMb != null ? bandwidthMb : quick ? 256 : 1024) * (1L << 20);
        if (bwBytes <= 0) {
            throw new UsageException("--bandwidth-mb must be positive");
        }
        if (!json) {
            err.println("measuring memory bandwidth and warming up...");
            err.flush();
        }
        MemoryBandwidth.Result bw = MemoryBandwidth.measure(bwBytes, quick ? 3 : 5);
        FmaPeak.Result peak = FmaPeak.measure(quick ? 2_000_000 : 20_000_000, quick ? 3 : 5);
        warmUp(todo);

        ObjectMapper mapper = new ObjectMapper();
        ObjectNode peerInfo = mapper.createObjectNode();
        List<Row> rows = new ArrayList<>();
        try (TorchPeer peer = noPeer ? null : TorchPeer.start(mapper, python, nThreads, reps, quick, peerInfo)) {
            if (noPeer) {
                peerInfo.put("available", false).put("reason", "not run (--no-peer)");
            }
            for (Shape s : todo) {
                if (!json) {
                    err.println("timing " + s.label() + " " + s.dtype() + "...");
                    err.flush();
                }
                // Ours, then the peer's on the same shape right after, so both see the same machine load.
                double[] times = time(s, reps);
                // PyTorch has no GGML block types: quantised rows have no peer of their own (compare them with
                // the BF16 and F32 rows and with the bandwidth).
                JsonNode peerResult = peer != null && peer.available() && !s.dtype().isBlockQuantized()
                        ? peer.time(s) : null;
                // Where OpenBLAS takes the product, the pure-Java kernels are timed too, in the same run.
                double java = usesNative(s) ? median(time(s, reps, true)) : Double.NaN;
                rows.add(new Row(s, times.length, median(times), peerResult, java));
            }
        }
        if (json) {
            out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(
                    toJson(mapper, nThreads, bw, peak, peerInfo, rows)));
        } else {
            printTable(out, nThreads, bw, peak, peerInfo, rows);
        }
        out.flush();
        return 0;
    }

    static List<Shape> defaultShapes() {
        return List.of(
                new Shape(1100, 4096, 4096, DType.F32),
                new Shape(1100, 4096, 4096, DType.BF16),
                new Shape(1, 4096, 4096, DType.F32),
                new Shape(1, 4096, 4096, DType.BF16),
                new Shape(1, 4096, 4096, DType.Q8_0),
                new Shape(1, 4096, 4096, DType.Q4_0),
                new Shape(1024, 768, 4096, DType.F32),
                new Shape(16384, 192, 768, DType.F32));
    }

    static List<Shape> parseShapes(List<String> specs) {
        List<Shape> result = new ArrayList<>();
        for (String spec : specs) {
            String[] parts = spec.trim().split(":", -1);
            String[] dims = parts[0].split("x", -1);
            if (dims.length != 3 || parts.length > 2) {
                throw new UsageException("bad shape '" + spec + "': expected MxKxN or MxKxN:DTYPE, e.g. 8x64x32:bf16");
            }
            int[] v = new int[3];
            for (int i = 0; i < 3; i++) {
                try {
                    v[i] = Integer.parseInt(dims[i]);
                } catch (NumberFormatException e) {
                    v[i] = -1;
                }
                if (v[i] <= 0) {
                    throw new UsageException("bad shape '" + spec + "': M, K and N must be positive integers");
                }
            }
            DType d = parts.length == 2 ? DType.fromSafetensorsName(parts[1]) : DType.F32;
            if (d == null || !d.isLinearWeightType()) {
                throw new UsageException("bad shape '" + spec + "': weight dtype must be f32, bf16, f16, q8_0 or q4_0");
            }
            if (v[1] % d.blockSize() != 0) {
                throw new UsageException("bad shape '" + spec + "': " + d + " needs K to be a multiple of " + d.blockSize());
            }
            result.add(new Shape(v[0], v[1], v[2], d));
        }
        return result;
    }


    /** Gets the kernels compiled by the JIT on small products of every path the shapes use. */
    private static void warmUp(List<Shape> todo) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        for (DType d : todo.stream().map(Shape::dtype).distinct().toList()) {
            try (Arena arena = Arena.ofShared()) {
                Tensor x = random(arena, DType.F32, 1, 64, 384);
                Tensor w = random(arena, d, 1, 200, 384);
                Tensor out = Tensor.zeros(arena, DType.F32, 64, 200);
                Tensor x1 = x.slice(0, 1);
                Tensor out1 = out.slice(0, 1);
                for (int i = 0; i < 300 && System.nanoTime() < end; i++) {
                    Gemm.linear(x, w, null, out);
                    for (int j = 0; j < 10; j++) {
                        Gemm.linear(x1, w, null, out1);
                    }
                }
            }
        }
    }

    /** Seconds per product for {@code reps} timed runs after two untimed ones. */
    private double[] time(Shape s, int reps) {
        return time(s, reps, false);
    }

    /**
     * Seconds per product for {@code reps} timed runs after two untimed ones; {@code javaOnly} keeps the product
     * on the pure-Java kernels where it would go to OpenBLAS.
     */
    private double[] time(Shape s, int reps, boolean javaOnly) {
        try (Arena arena = Arena.ofShared()) {
            Tensor x = random(arena, DType.F32, 2, s.m(), s.k());
            Tensor[] ws = new Tensor[s.copies()];
            ws[0] = random(arena, s.dtype(), 3, s.n(), s.k());
            for (int i = 1; i < ws.length; i++) {
                ws[i] = Tensor.zeros(arena, s.dtype(), s.n(), s.k());
                MemorySegment.copy(ws[0].segment(), 0, ws[i].segment(), 0, ws[0].byteSize());
            }
            Tensor out = Tensor.zeros(arena, DType.F32, s.m(), s.n());
            int warm = s.m() == 1 ? Math.max(2, ws.length) : 2;
            for (int i = 0; i < warm; i++) {
                product(x, ws[i % ws.length], out, javaOnly);
            }
            double[] t = new double[reps];
            for (int r = 0; r < reps; r++) {
                Tensor w = ws[r % ws.length];
                long t0 = System.nanoTime();
                product(x, w, out, javaOnly);
                t[r] = (System.nanoTime() - t0) / 1e9;
            }
            return t;
        }
    }

    /** True when Gemm sends this shape to OpenBLAS or to FewRows, not to the blocked pure-Java kernel. */
    private static boolean usesNative(Shape s) {
        return NativeBlas.handles(s.m(), s.n(), s.k(), s.dtype()) || FewRows.handles(s.m(), s.n(), s.k(), s.dtype());
    }

    private static void product(Tensor x, Tensor w, Tensor out, boolean javaOnly) {
        if (javaOnly) {
            Gemm.linearInJava(x, w, null, out);
        } else {
            Gemm.linear(x, w, null, out);
        }
    }

    /** A tensor of uniform values in [-1, 1), rounded (or quantised) to {@code dtype}, filled row by row. */
    private static Tensor random(Arena arena, DType dtype, long seed, int rows, int cols) {
        Tensor t = Tensor.zeros(arena, dtype, rows, cols);
        if (dtype.isBlockQuantized()) {
            SplittableRandom rnd = new SplittableRandom(seed);
            float[] row = new float[cols];
            long rowBytes = dtype.bytesFor(cols);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    row[c] = (float) (rnd.nextDouble() * 2 - 1);
                }
                Quantize.quantizeRow(dtype, row, 0, cols, t.segment(), r * rowBytes);
            }
            return t;
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        MemorySegment seg = t.segment();
        long n = (long) rows * cols;
        for (long i = 0; i < n; i++) {
            float v = (float) (rnd.nextDouble() * 2 - 1);
            switch (dtype) {
                case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
                case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.floatToBf16(v));
                case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.floatToF16(v));
                default -> throw new IllegalArgumentException("bench weights are F32, BF16 or F16");
            }
        }
        return t;
    }

    /**
     * The PyTorch script as a child process that times one shape per request (see bench_gemm_peer.py).
     * {@link #start} fills {@code info} with what it found; {@link #available()} is false when there is no
     * Python or no torch, and the bench then prints its own figures only.
     */
    static final class TorchPeer implements AutoCloseable {
        private final ObjectMapper mapper;
        private final Process process;
        private final BufferedReader answers;
        private final PrintWriter requests;
        private boolean available;

        private TorchPeer(ObjectMapper mapper, Process process) {
            this.mapper = mapper;
            this.process = process;
            this.answers = process == null ? null
                    : new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.requests = process == null ? null
                    : new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        static TorchPeer start(ObjectMapper mapper, String python, int threads, int reps, boolean quick,
                ObjectNode info) throws IOException {
            info.put("python", python);
            if (!Files.isExecutable(Path.of(python))) {
                info.put("available", false).put("reason", python + " not found");
                return new TorchPeer(mapper, null);
            }
            String script;
            try (InputStream in = BenchGemmCommand.class.getResourceAsStream("bench_gemm_peer.py")) {
                if (in == null) {
                    throw new IOException("bench_gemm_peer.py missing from the application's resources");
                }
                script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            ObjectNode cfg = mapper.createObjectNode();
            cfg.put("threads", threads).put("reps", reps).put("budget_s", quick ? 0.0 : 10.0);
            ProcessBuilder pb = new ProcessBuilder(python, "-c", script, mapper.writeValueAsString(cfg));
            // torch's own pool and the BLAS it calls (OpenBLAS reads these at load time) get the same count.
            pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
            pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
            TorchPeer peer = new TorchPeer(mapper, pb.start());
            JsonNode hello = peer.readAnswer();
            if (hello == null) {
                info.put("available", false).put("reason", python + " gave no answer");
                return peer;
            }
            peer.available = hello.path("available").asBoolean(false);
            info.put("available", peer.available);
            if (hello.has("torch")) {
                info.put("torch_version", hello.get("torch").asText()).put("threads", hello.path("threads").asInt());
            }
            if (hello.has("reason")) {
                info.put("reason", hello.get("reason").asText());
            }
            return peer;
        }

        boolean available() {
            return available;
        }

        /** The peer's answer for one shape ({"median_s", "reps", "variant", "alt"} or {"error"}), or null. */
        JsonNode time(Shape s) throws IOException {
            ObjectNode req = mapper.createObjectNode();
            req.put("m", s.m()).put("k", s.k()).put("n", s.n()).put("dtype", s.dtype().name())
                    .put("copies", s.copies());
            requests.println(mapper.writeValueAsString(req));
            return readAnswer();
        }

        /** The next JSON object line, skipping anything else a library may print; null at end of output. */
        private JsonNode readAnswer() throws IOException {
            String line;
            while ((line = answers.readLine()) != null) {
                try {
                    JsonNode node = mapper.readTree(line);
                    if (node != null && node.isObject()) {
                        return node;
                    }
                } catch (IOException e) {
                    // not one of ours
                }
            }
            return null;
        }

        /** Ends the child: closing its stdin ends its loop. */
        @Override
        public void close() {
            if (process == null) {
                return;
            }
            requests.close();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int h = s.length / 2;
        return s.length % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2;
    }

    private static double gflops(Shape s, double seconds) {
        return s.flops() / seconds / 1e9;
    }

    private static String peerColumns(Shape s, JsonNode p, double ourSeconds) {
        double ps = p.get("median_s").asDouble();
        return String.format(Locale.ROOT, "%11.2f %9.1f %7s  %s", ps * 1e3, gflops(s, ps),
                String.format(Locale.ROOT, "%.2fx", ps / ourSeconds),
                p.path("variant").asText() + " (" + p.path("reps").asInt() + " reps)");
    }

    private static String peerColumns(String note) {
        return String.format(Locale.ROOT, "%11s %9s %7s  %s", "-", "-", "-", note);
    }

    private static ObjectNode toJson(ObjectMapper mapper, int nThreads, MemoryBandwidth.Result bw,
            FmaPeak.Result peak, ObjectNode peerInfo, List<Row> rows) {
        ObjectNode root = mapper.createObjectNode();
        root.put("convention", CONVENTION);
        root.put("threads", nThreads);
        ObjectNode b = root.putObject("memory_bandwidth");
        b.put("bytes", bw.bytes()).put("median_gbps", bw.medianGBps()).put("best_gbps", bw.bestGBps());
        root.putObject("native_blas").put("library", NativeBlas.library().orElse(null))
                .put("reason", NativeBlas.unavailableReason()).put("min_rows", NativeBlas.MIN_ROWS)
                .put("min_flops", NativeBlas.MIN_FLOPS);
        root.putObject("f32_fma_peak").put("median_gflops", peak.medianGflops()).put("best_gflops", peak.bestGflops());
        root.set("peer", peerInfo);
        ArrayNode results = root.putArray("results");
        for (Row row : rows) {
            Shape s = row.shape();
            ObjectNode r = results.addObject();
            r.put("shape", s.label()).put("m", s.m()).put("k", s.k()).put("n", s.n());
            r.put("weight_dtype", s.dtype().name()).put("reps", row.reps());
            r.put("median_ms", row.medianSeconds() * 1e3).put("gflops", gflops(s, row.medianSeconds()));
            r.put("backend", row.nativePath() ? "openblas" : "java");
            if (row.nativePath()) {
                r.putObject("java").put("median_ms", row.javaMedianSeconds() * 1e3)
                        .put("gflops", gflops(s, row.javaMedianSeconds()))
                        .put("fma_peak_fraction", gflops(s, row.javaMedianSeconds()) / peak.medianGflops());
            }
            if (s.m() == 1) {
                double gbps = s.weightBytes() / row.medianSeconds() / 1e9;
                r.put("weight_gbps", gbps).put("bandwidth_fraction", gbps / bw.medianGBps());
                r.put("weight_copies", s.copies());
            } else {
                r.put("fma_peak_fraction", gflops(s, row.medianSeconds()) / peak.medianGflops());
            }
            JsonNode p = row.peer();
            if (p != null && p.has("median_s")) {
                r.set("peer", peerJson(mapper, s, p, row.medianSeconds()));
                r.put("ratio", p.get("median_s").asDouble() / row.medianSeconds());
                if (p.has("alt")) {
                    r.set("peer_alt", peerJson(mapper, s, p.get("alt"), row.medianSeconds()));
                }
            } else if (p != null && p.has("error")) {
                r.putObject("peer").put("error", p.get("error").asText());
            }
        }
        return root;
    }

    /** The peer's figures for one shape: time, GFLOP/s, repetitions, what it ran, and our ratio to it. */
    private static ObjectNode peerJson(ObjectMapper mapper, Shape s, JsonNode p, double ourSeconds) {
        double ps = p.get("median_s").asDouble();
        ObjectNode pr = mapper.createObjectNode();
        pr.put("median_ms", ps * 1e3).put("gflops", gflops(s, ps)).put("reps", p.path("reps").asInt());
        pr.put("variant", p.path("variant").asText()).put("ratio", ps / ourSeconds);
        return pr;
    }

    private static void printTable(PrintWriter out, int nThreads, MemoryBandwidth.Result bw, FmaPeak.Result peak,
            ObjectNode peerInfo, List<Row> rows) {
        out.printf(Locale.ROOT, "osprey bench gemm: %s; F32 accumulation; threads: %d%n", CONVENTION, nThreads);
        out.printf(Locale.ROOT, "memory bandwidth (streaming read of %d MiB, threads: %d): %.1f GB/s median, "
                + "%.1f best%n", bw.bytes() >> 20, nThreads, bw.medianGBps(), bw.bestGBps());
        out.printf(Locale.ROOT, "F32 FMA peak (register-only FMA chains, threads: %d): %.1f GFLOP/s median, %.1f best%n",
                peak.threads(), peak.medianGflops(), peak.bestGflops());
        out.printf(Locale.ROOT, "products of %d rows and %.0f MFLOP or more: %s%n", NativeBlas.MIN_ROWS,
                NativeBlas.MIN_FLOPS / 1e6, NativeBlas.library()
                .map(l -> "OpenBLAS (" + l + ", through the FFM API), with the pure-Java kernels timed on the line"
                        + " below (java)")
                .orElse("pure-Java kernels (" + NativeBlas.unavailableReason() + ")"));
        out.printf(Locale.ROOT, "products of 2 to %d rows with BF16/F16/Q8_0/Q4_0 weights and as many flops: the"
                + " few-rows kernel (each weight converted once for all rows), the blocked kernel on the line below"
                + " (java)%n", NativeBlas.MIN_ROWS - 1);
        boolean peer = peerInfo.path("available").asBoolean(false);
        if (peer) {
            out.printf(Locale.ROOT, "peer: PyTorch %s (%s, threads: %d), torch.nn.functional.linear; F32 products"
                    + " with M > 1 also through oneDNN (second line)%n",
                    peerInfo.path("torch_version").asText(), peerInfo.path("python").asText(),
                    peerInfo.path("threads").asInt());
        } else {
            out.printf(Locale.ROOT, "peer: PyTorch not available (%s); our figures only%n",
                    peerInfo.path("reason").asText("unknown"));
        }
        out.println();
        out.printf(Locale.ROOT, "%-16s %-5s %10s %9s %7s %6s %11s %9s %7s  %s%n", "shape MxKxN", "W", "osprey ms",
                "GFLOP/s", "GB/s", "%roof", "PyTorch ms", "GFLOP/s", "ratio", "PyTorch call");
        for (Row row : rows) {
            Shape s = row.shape();
            double ms = row.medianSeconds() * 1e3;
            String gbs = "";
            String frac = "";
            if (s.m() == 1) {
                double gbps = s.weightBytes() / row.medianSeconds() / 1e9;
                gbs = String.format(Locale.ROOT, "%.1f", gbps);
                frac = String.format(Locale.ROOT, "%.0f%%", 100 * gbps / bw.medianGBps());
            } else {
                frac = String.format(Locale.ROOT, "%.0f%%", 100 * gflops(s, row.medianSeconds()) / peak.medianGflops());
            }
            JsonNode p = row.peer();
            String failed = p != null && p.has("error") ? "failed: " + p.get("error").asText() : "";
            out.printf(Locale.ROOT, "%-16s %-5s %10.2f %9.1f %7s %6s %s%n", s.label(), s.dtype(), ms,
                    gflops(s, row.medianSeconds()), gbs, frac,
                    p != null && p.has("median_s") ? peerColumns(s, p, row.medianSeconds()) : peerColumns(failed));
            if (p != null && p.has("alt")) {
                out.printf(Locale.ROOT, "%-16s %-5s %10s %9s %7s %6s %s%n", "", "", "", "", "", "",
                        peerColumns(s, p.get("alt"), row.medianSeconds()));
            }
            if (row.nativePath()) {
                double js = row.javaMedianSeconds();
                out.printf(Locale.ROOT, "%-16s %-5s %10.2f %9.1f %7s %6s %s%n", "  (java)", s.dtype(), js * 1e3,
                        gflops(s, js), "", String.format(Locale.ROOT, "%.0f%%", 100 * gflops(s, js) / peak.medianGflops()),
                        p != null && p.has("median_s") ? peerColumns(s, p, js) : peerColumns(""));
            }
        }
        out.println();
        out.println("medians over " + (rows.isEmpty() ? 0 : rows.get(0).reps()) + " repetitions after warm-up;"
                + " ratio = osprey GFLOP/s / PyTorch GFLOP/s (above 1: osprey faster).");
        out.println("1-row products cycle through enough weight copies (" + (DECODE_WEIGHT_BYTES >> 20)
                + " MiB) to stream from memory; GB/s counts weight bytes; %roof is, for them, of the median bandwidth"
                + " above, and for the other products of the median F32 FMA peak above.");
        if (peer) {
            out.println("PyTorch BF16/F16 rows use activations in the weight dtype (F.linear needs matching dtypes),"
                    + " so PyTorch does less conversion work and may use native bf16 instructions.");
        }
    }
}
