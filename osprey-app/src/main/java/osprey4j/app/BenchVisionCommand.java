package osprey4j.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.vision.ConvNextTower;
import osprey4j.model.vision.RandomConvNext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code osprey bench vision}: the ConvNeXt-Large vision tower's forward pass on a 512 x 512 image with random
 * weights, the first run of the JVM (which includes JIT compilation) and the warm median, with F16 and F32
 * weights, next to the same network in plain PyTorch on the same machine and thread count, measured in the same
 * run.
 */
@Command(name = "vision", mixinStandardHelpOptions = true,
        description = {
                "Times the ConvNeXt-Large vision tower (dims 192,384,768,1536, depths 3,3,27,3; stem, res2..res5 as"
                        + " Osprey extracts them) on one 512x512 image with random weights, F16 then F32: the first"
                        + " run (the very first of the JVM includes JIT compilation) and the median of the warm runs,"
                        + " with the time per step of the warm runs.",
                "If /usr/bin/python3 with torch is present, runs the same network written in plain torch (F32,"
                        + " eval, no_grad, same thread count) and prints its warm median and the ratio"
                        + " (PyTorch time / osprey time: above 1, osprey is faster)."
        })
final class BenchVisionCommand implements Callable<Integer> {
    private static final String DEFAULT_PYTHON = "/usr/bin/python3";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "3",
            description = "Warm runs per weight dtype after the first (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for both sides (default: the compute pool's, i.e. all cores or -Dosprey.threads).")
    Integer threads;

    @Option(names = "--dtypes", split = ",", paramLabel = "DTYPE", defaultValue = "f16,f16-as-f32,f32",
            description = "Weight dtypes to time, in order: f16, bf16, f32, or f16-as-f32 / bf16-as-f32 (loaded in"
                    + " that dtype, GEMM weights converted to F32 copies at load; default ${DEFAULT-VALUE}).")
    List<String> dtypes;

    @Option(names = "--dims", hidden = true, split = ",", paramLabel = "C", description = "Channels per stage.")
    int[] dims = RandomConvNext.largeDims();

    @Option(names = "--depths", hidden = true, split = ",", paramLabel = "N", description = "Blocks per stage.")
    int[] depths = RandomConvNext.largeDepths();

    @Option(names = "--size", hidden = true, paramLabel = "PX", description = "Image side (default 512).")
    int size = 512;

    @Option(names = "--no-peer", hidden = true, description = "Do not run the PyTorch peer.")
    boolean noPeer;

    @Option(names = "--python", hidden = true, paramLabel = "PATH", description = "Python with torch for the peer.")
    String python = DEFAULT_PYTHON;

    /** Weights in {@code dtype}; with {@code asF32}, the tower's GEMM weights converted to F32 at load. */
    record Variant(DType dtype, boolean asF32) {
        String label() {
            return asF32 ? dtype + ">F32" : dtype.name();
        }
    }

    /** Our figures for one weight variant: seconds for the first run, each warm run, and per step (warm mean). */
    record Result(Variant variant, double buildSeconds, double firstSeconds, double[] firstStepSeconds,
                  double[] warmSeconds, double[] stepSeconds) {
        double median() {
            return BenchVisionCommand.median(warmSeconds);
        }
    }

    @Override
    public Integer call() throws Exception {
        List<Variant> todo = parseDtypes();
        validateShape();
        int nThreads = BenchThreads.configure(threads);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Tensor pixels = randomImage(size);
        List<Result> results = new ArrayList<>();
        for (Variant d : todo) {
            if (!json) {
                err.println("timing the tower with " + d.label() + " weights (1 + " + runs + " runs)...");
                err.flush();
            }
            results.add(time(d, pixels));
        }
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode peer = mapper.createObjectNode();
        if (noPeer) {
            peer.put("available", false).put("reason", "not run (--no-peer)");
        } else {
            if (!json) {
                err.println("running the PyTorch peer (" + python + ")...");
                err.flush();
            }
            runPeer(mapper, nThreads, peer);
        }
        if (json) {
            out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(mapper, nThreads, peer, results)));
        } else {
            printTable(out, nThreads, peer, results);
        }
        out.flush();
        return 0;
    }

    private List<Variant> parseDtypes() {
        List<Variant> out = new ArrayList<>();
        for (String s : dtypes) {
            String name = s.trim().toLowerCase(Locale.ROOT);
            boolean asF32 = name.endsWith("-as-f32");
            DType d;
            try {
                d = DType.fromSafetensorsName(asF32 ? name.substring(0, name.length() - "-as-f32".length()) : name);
            } catch (RuntimeException e) {
                d = null;
            }
            if (d == null || !d.isWeightType()) {
                throw new UsageException("bad --dtypes entry '" + s + "': expected f16, bf16, f32, f16-as-f32 or bf16-as-f32");
            }
            out.add(new Variant(d, asF32));
        }
        return out;
    }

    private void validateShape() {
        if (runs < 1) {
            throw new UsageException("--runs must be at least 1, got " + runs);
        }
        if (dims.length != 4 || depths.length != 4) {
            throw new UsageException("--dims and --depths need 4 values each (one per stage), got " + dims.length
                    + " and " + depths.length);
        }
        for (int i = 0; i < 4; i++) {
            if (dims[i] <= 0 || depths[i] <= 0) {
                throw new UsageException("--dims and --depths must be positive, got " + Arrays.toString(dims) + " and "
                        + Arrays.toString(depths));
            }
        }
        if (size < 32) {
            throw new UsageException("--size must be at least 32 (the tower downsamples 32x), got " + size);
        }
    }


    /** A CLIP-normalised-looking image: uniform values in [-2, 2]. */
    private static Tensor randomImage(int side) {
        SplittableRandom rng = new SplittableRandom(11);
        float[] v = new float[3 * side * side];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (4 * rng.nextDouble() - 2);
        }
        return Tensor.wrap(v, 3, side, side);
    }

    private Result time(Variant variant, Tensor pixels) {
        long t0 = System.nanoTime();
        Checkpoint weights = RandomConvNext.openClip(dims, depths, variant.dtype(), 7);
        ConvNextTower tower = ConvNextTower.load(weights, weights);
        if (variant.asF32()) {
            tower = tower.withF32Weights();
        }
        double build = (System.nanoTime() - t0) / 1e9;
        ConvNextTower.Timings firstSteps = new ConvNextTower.Timings();
        long t1 = System.nanoTime();
        tower.forward(pixels, firstSteps);
        double first = (System.nanoTime() - t1) / 1e9;
        double[] warm = new double[runs];
        ConvNextTower.Timings steps = new ConvNextTower.Timings();
        for (int r = 0; r < runs; r++) {
            long s = System.nanoTime();
            tower.forward(pixels, steps);
            warm[r] = (System.nanoTime() - s) / 1e9;
        }
        ConvNextTower.Op[] ops = ConvNextTower.Op.values();
        double[] perStep = new double[ops.length];
        double[] firstPerStep = new double[ops.length];
        for (int i = 0; i < ops.length; i++) {
            perStep[i] = steps.seconds(ops[i]) / runs;
            firstPerStep[i] = firstSteps.seconds(ops[i]);
        }
        return new Result(variant, build, first, firstPerStep, warm, perStep);
    }

    /** Runs the PyTorch script and records what it reports in {@code peer}. */
    private void runPeer(ObjectMapper mapper, int nThreads, ObjectNode peer) throws IOException, InterruptedException {
        peer.put("python", python);
        if (!Files.isExecutable(Path.of(python))) {
            peer.put("available", false).put("reason", python + " not found");
            return;
        }
        ObjectNode cfg = mapper.createObjectNode();
        cfg.put("threads", nThreads).put("runs", runs).put("size", size);
        ArrayNode d = cfg.putArray("dims");
        Arrays.stream(dims).forEach(d::add);
        ArrayNode n = cfg.putArray("depths");
        Arrays.stream(depths).forEach(n::add);
        ProcessBuilder pb = new ProcessBuilder(python, "-", mapper.writeValueAsString(cfg));
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(nThreads));
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process proc = pb.start();
        try (OutputStream stdin = proc.getOutputStream(); InputStream script = peerScript()) {
            script.transferTo(stdin);
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean header = true;
            while ((line = r.readLine()) != null) {
                JsonNode node;
                try {
                    node = mapper.readTree(line);
                } catch (IOException e) {
                    continue; // not ours (a library printing to stdout)
                }
                if (header) {
                    header = false;
                    peer.put("available", node.path("available").asBoolean(false));
                    if (node.has("torch")) {
                        peer.put("torch_version", node.get("torch").asText());
                        peer.put("threads", node.path("threads").asInt());
                    }
                    if (node.has("reason")) {
                        peer.put("reason", node.get("reason").asText());
                    }
                } else {
                    peer.put("weight_dtype", node.path("dtype").asText("F32"));
                    for (String key : List.of("first_s", "median_s", "runs", "error")) {
                        if (node.has(key)) {
                            peer.set(key, node.get(key));
                        }
                    }
                }
            }
        }
        int code = proc.waitFor();
        if (!peer.has("available")) {
            peer.put("available", false).put("reason", python + " exited with status " + code + " and no output");
        }
    }

    private static InputStream peerScript() throws IOException {
        InputStream in = BenchVisionCommand.class.getResourceAsStream("bench_vision_peer.py");
        if (in == null) {
            throw new IOException("bench_vision_peer.py missing from the application's resources");
        }
        return in;
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int h = s.length / 2;
        return s.length % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2;
    }

    private static double peerMedian(ObjectNode peer) {
        return peer.has("median_s") ? peer.get("median_s").asDouble() : Double.NaN;
    }

    private ObjectNode toJson(ObjectMapper mapper, int nThreads, ObjectNode peer, List<Result> results) {
        ObjectNode root = mapper.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("name", "ConvNeXt (open_clip/timm trunk), random weights");
        Arrays.stream(dims).forEach(model.putArray("dims")::add);
        Arrays.stream(depths).forEach(model.putArray("depths")::add);
        model.put("image_size", size);
        root.put("threads", nThreads);
        root.set("peer", peer);
        ArrayNode list = root.putArray("results");
        ConvNextTower.Op[] ops = ConvNextTower.Op.values();
        for (Result r : results) {
            ObjectNode o = list.addObject();
            o.put("weight_dtype", r.variant().dtype().name());
            o.put("gemm_weights_f32", r.variant().asF32() || r.variant().dtype() == DType.F32);
            o.put("build_s", r.buildSeconds());
            o.put("first_s", r.firstSeconds());
            o.put("median_s", r.median());
            Arrays.stream(r.warmSeconds()).forEach(o.putArray("warm_s")::add);
            ObjectNode st = o.putObject("warm_step_s");
            ObjectNode fst = o.putObject("first_step_s");
            for (int i = 0; i < ops.length; i++) {
                st.put(ops[i].name().toLowerCase(Locale.ROOT), r.stepSeconds()[i]);
                fst.put(ops[i].name().toLowerCase(Locale.ROOT), r.firstStepSeconds()[i]);
            }
            double p = peerMedian(peer);
            if (!Double.isNaN(p)) {
                o.put("ratio", p / r.median());
            }
        }
        return root;
    }

    private void printTable(PrintWriter out, int nThreads, ObjectNode peer, List<Result> results) {
        out.printf(Locale.ROOT, "osprey bench vision: ConvNeXt dims %s, depths %s, on a %dx%d image; random weights;"
                + " %d threads%n", join(dims), join(depths), size, size, nThreads);
        boolean hasPeer = peer.path("available").asBoolean(false);
        double p = peerMedian(peer);
        if (hasPeer && !Double.isNaN(p)) {
            out.printf(Locale.ROOT, "peer: PyTorch %s (%s, %d threads), same network in plain torch, F32 weights,"
                            + " eval + no_grad: first run %.2f s, warm median %.2f s over %d runs%n",
                    peer.path("torch_version").asText(), peer.path("python").asText(), peer.path("threads").asInt(),
                    peer.path("first_s").asDouble(), p, peer.path("runs").asInt());
        } else if (hasPeer) {
            out.printf(Locale.ROOT, "peer: PyTorch %s failed: %s; our figures only%n",
                    peer.path("torch_version").asText(), peer.path("error").asText("no result"));
        } else {
            out.printf(Locale.ROOT, "peer: PyTorch not available (%s); our figures only%n",
                    peer.path("reason").asText("unknown"));
        }
        out.println();
        out.printf(Locale.ROOT, "%-8s %10s %12s %14s %14s %8s%n", "weights", "build s", "first run s", "warm median s",
                "PyTorch warm s", "ratio");
        for (Result r : results) {
            String ps = Double.isNaN(p) ? "-" : String.format(Locale.ROOT, "%.2f", p);
            String ratio = Double.isNaN(p) ? "-" : String.format(Locale.ROOT, "%.2fx", p / r.median());
            out.printf(Locale.ROOT, "%-8s %10.2f %12.2f %14.2f %14s %8s%n", r.variant().label(), r.buildSeconds(),
                    r.firstSeconds(), r.median(), ps, ratio);
        }
        out.println();
        if (!results.isEmpty()) {
            Result first = results.getFirst();
            out.printf(Locale.ROOT, "first run (with JIT) seconds per step, %s:%s%n", first.variant().label(),
                    steps(first.firstStepSeconds()));
        }
        for (Result r : results) {
            out.printf(Locale.ROOT, "warm seconds per step, %s:%s%n", r.variant().label(), steps(r.stepSeconds()));
        }
        out.println();
        out.println("first run: the first forward after building the tower; only the first dtype's first run includes"
                + " JIT compilation. warm: median over " + runs + " runs. ratio = PyTorch warm / osprey warm"
                + " (above 1: osprey faster). The peer runs F32 (PyTorch has no F16 convolutions on the CPU).");
        out.println("F16>F32: F16 weights with the GEMM weights converted to F32 copies at load"
                + " (ConvNextTower.withF32Weights: twice the weight memory, no conversion in the GEMMs).");
    }

    private static String steps(double[] seconds) {
        ConvNextTower.Op[] ops = ConvNextTower.Op.values();
        double total = Arrays.stream(seconds).sum();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ops.length; i++) {
            sb.append(String.format(Locale.ROOT, " %s %.3f (%.0f%%)", ops[i].name().toLowerCase(Locale.ROOT),
                    seconds[i], total > 0 ? 100 * seconds[i] / total : 0));
        }
        return sb.toString();
    }

    private static String join(int[] v) {
        return String.join(",", Arrays.stream(v).mapToObj(Integer::toString).toList());
    }
}
