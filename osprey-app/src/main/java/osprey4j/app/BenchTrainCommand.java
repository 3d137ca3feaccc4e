package osprey4j.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.Tensor;
import osprey4j.train.OspreyDims;
import osprey4j.train.Stage;
import osprey4j.train.TrainBench;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code osprey bench train}: one training step (forward, backward, clipping, AdamW over every parameter) of a
 * random model, osprey4j's {@link TrainBench} next to the same step in plain PyTorch on the same threads, run one
 * after the other in the same process tree so both see the same machine.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {
                "Times one training step (forward, backward, gradient clipping, AdamW over every parameter) on one"
                        + " random sample: 'demo' at the demo model's dimensions (LLaMA 3x192, projector, mask"
                        + " extractor with the 112x112 position MLP, 64 image tokens, 2 regions, ~180 positions) and"
                        + " '7b-layer', one LLaMA-7B decoder layer (4096 wide, MLP 11008, 32 heads) over 1100"
                        + " positions with a token-sized head and extractor around it.",
                "If /usr/bin/python3 with torch is present, the same step written in plain torch (F32, autograd,"
                        + " torch.optim.AdamW, same thread count) runs on the same sample sizes first (before ours,"
                        + " so our JIT compiler threads do not share its cores);"
                        + " the ratio is PyTorch time / osprey time (above 1: osprey is faster). Medians exclude"
                        + " the first step (JIT and allocator warm-up)."
        })
final class BenchTrainCommand implements Callable<Integer> {
    private static final String DEFAULT_PYTHON = "/usr/bin/python3";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--preset", paramLabel = "demo|7b-layer|all", defaultValue = "all",
            description = "what to time (default ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--steps", paramLabel = "N",
            description = "steps per side, the first being warm-up (default: 20 for demo, whose step is short "
                    + "enough that the JIT is still compiling over the first few, 4 for 7b-layer)")
    Integer steps;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Option(names = "--no-peer", description = "Do not run the PyTorch peer.")
    boolean noPeer;

    @Option(names = "--python", hidden = true, paramLabel = "PATH", description = "Python with torch for the peer.")
    String python = DEFAULT_PYTHON;

    /** A named workload. */
    record Preset(String name, OspreyDims dims, int textTokens, int imageSide, int regions, int defaultSteps) {
    }

    static List<Preset> presets(String which) {
        Preset demo = new Preset("demo", new OspreyDims(192, 512, 3, 4, 4, 1000, 1e-6f, 10000, false, 128, 2,
                new int[] {32, 64, 128, 256}, 256, new int[] {256, 256}, 112), 120, 8, 2, 20);
        // One decoder layer at LLaMA-7B's sizes; the embedding, head, projector and extractor are token-sized so the
        // layer is what is timed (1100 positions = 64 image tokens + 1036 text tokens).
        Preset layer = new Preset("7b-layer", new OspreyDims(4096, 11008, 1, 32, 32, 64, 1e-6f, 10000, false, 8, 2,
                new int[] {8, 8, 8, 8}, 16, new int[] {16, 16}, 16), 1036, 8, 2, 4);
        return switch (which) {
            case "demo" -> List.of(demo);
            case "7b-layer" -> List.of(layer);
            case "all" -> List.of(demo, layer);
            default -> throw new UsageException("--preset must be demo, 7b-layer or all, got " + which);
        };
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (steps != null && steps < 2) {
            throw new UsageException("--steps must be at least 2 (the first is warm-up), got " + steps);
        }
        List<Preset> todo = presets(preset);
        ObjectMapper mapper = new ObjectMapper();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int threads = ComputePool.threads();
        ArrayNode rows = mapper.createArrayNode();
        // Every peer first, then ours: a peer run after ours would share the two cores with the JIT compiler
        // threads still compiling our hot code.
        List<TrainBench.Workload> workloads = new java.util.ArrayList<>();
        List<JsonNode> peers = new java.util.ArrayList<>();
        for (Preset p : todo) {
            TrainBench.Workload w = TrainBench.Workload.of(p.dims(), p.textTokens(), p.imageSide(), p.regions());
            workloads.add(w);
            if (noPeer) {
                peers.add(mapper.createObjectNode().put("available", false).put("reason", "not run (--no-peer)"));
            } else {
                err.println("bench train: " + p.name() + " (PyTorch)");
                err.flush();
                peers.add(runPeer(mapper, p, w, threads));
            }
        }
        for (int i = 0; i < todo.size(); i++) {
            Preset p = todo.get(i);
            TrainBench.Workload w = workloads.get(i);
            JsonNode peer = peers.get(i);
            err.println("bench train: " + p.name() + " (osprey4j)");
            err.flush();
            TrainBench.Report ours = TrainBench.run(p.dims(), Stage.FULL, w, stepsOf(p));
            ObjectNode row = rows.addObject();
            row.put("preset", p.name()).put("positions", w.sequence()).put("parameters", ours.parameters())
                    .put("osprey_median_ms", ours.medianMillis());
            ArrayNode st = row.putArray("osprey_step_ms");
            for (double v : ours.stepMillis()) {
                st.add(v);
            }
            row.set("peer", peer);
            if (peer.path("available").asBoolean(false)) {
                row.put("ratio", peer.get("median_ms").asDouble() / ours.medianMillis());
            }
        }
        if (json) {
            ObjectNode o = mapper.createObjectNode();
            o.put("threads", threads);
            o.set("rows", rows);
            out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(o));
        } else {
            out.printf(Locale.ROOT, "training step: forward + backward + clip + AdamW, %d threads%n", threads);
            out.printf(Locale.ROOT, "%-10s %9s %14s %14s %14s %8s%n", "preset", "positions", "parameters",
                    "osprey ms", "PyTorch ms", "ratio");
            for (JsonNode r : rows) {
                JsonNode peer = r.get("peer");
                boolean has = peer.path("available").asBoolean(false);
                out.printf(Locale.ROOT, "%-10s %9d %,14d %14.1f %14s %8s%n", r.get("preset").asText(),
                        r.get("positions").asInt(), r.get("parameters").asLong(), r.get("osprey_median_ms").asDouble(),
                        has ? String.format(Locale.ROOT, "%.1f", peer.get("median_ms").asDouble()) : "-",
                        has ? String.format(Locale.ROOT, "%.2fx", r.get("ratio").asDouble()) : "-");
                if (!has) {
                    out.println("  PyTorch peer: " + peer.path("reason").asText("unavailable"));
                }
            }
            out.println("ratio = PyTorch time / osprey time (above 1: osprey is faster); medians exclude the first step");
        }
        out.flush();
        return 0;
    }

    private int stepsOf(Preset p) {
        return steps != null ? steps : p.defaultSteps();
    }

    /** Runs bench_train_peer.py once for the preset; its one JSON answer, or {"available": false, "reason"}. */
    private JsonNode runPeer(ObjectMapper mapper, Preset p, TrainBench.Workload w, int threads)
            throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of(python))) {
            return mapper.createObjectNode().put("available", false).put("reason", python + " not found");
        }
        String script;
        try (InputStream in = BenchTrainCommand.class.getResourceAsStream("bench_train_peer.py")) {
            if (in == null) {
                throw new IOException("bench_train_peer.py missing from the application's resources");
            }
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        ObjectNode cfg = mapper.createObjectNode();
        cfg.put("threads", threads).put("steps", stepsOf(p));
        OspreyDims d = p.dims();
        ObjectNode dims = cfg.putObject("dims");
        dims.put("hidden", d.hidden()).put("intermediate", d.intermediate()).put("layers", d.layers())
                .put("heads", d.heads()).put("kv_heads", d.kvHeads()).put("vocab", d.vocab())
                .put("rms_eps", d.rmsEps()).put("rope_theta", d.ropeTheta()).put("projector_in", d.projectorIn())
                .put("projector_depth", d.projectorDepth()).put("mask_embed", d.maskEmbed())
                .put("mask_grid", d.maskGrid());
        ArrayNode lc = dims.putArray("level_channels");
        for (int c : d.levelChannels()) {
            lc.add(c);
        }
        ArrayNode ph = dims.putArray("pos_hidden");
        for (int c : d.posHidden()) {
            ph.add(c);
        }
        ObjectNode s = cfg.putObject("sample");
        ArrayNode ids = s.putArray("ids");
        for (int id : w.ids()) {
            ids.add(id);
        }
        ArrayNode labels = s.putArray("labels");
        for (int l : w.labels()) {
            labels.add(l);
        }
        s.put("image_at", w.imageAt());
        ArrayNode maskAt = s.putArray("mask_at");
        for (int a : w.maskAt()) {
            maskAt.add(a);
        }
        ArrayNode sides = s.putArray("level_sides");
        for (int side : w.levelSides()) {
            sides.add(side);
        }
        s.put("mask_side", w.maskSide());
        ArrayNode masks = s.putArray("masks");
        for (Tensor m : w.masks()) {
            for (float v : m.toFloatArray()) {
                masks.add(v);
            }
        }
        Path cfgFile = Files.createTempFile("osprey-bench-train", ".json");
        try {
            Files.writeString(cfgFile, mapper.writeValueAsString(cfg));
            String wrapper = "import sys, json; sys.argv = [sys.argv[0], open(sys.argv[1]).read()]\n" + script;
            ProcessBuilder pb = new ProcessBuilder(python, "-c", wrapper, cfgFile.toString());
            pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
            pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
            Process proc = pb.start();
            // A peer that hangs must not hang the bench: it is stopped after 30 minutes.
            Thread watchdog = Thread.ofVirtual().start(() -> {
                try {
                    if (!proc.waitFor(30, TimeUnit.MINUTES)) {
                        proc.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    proc.destroyForcibly();
                }
            });
            String answer = null;
            try (var r = proc.inputReader(StandardCharsets.UTF_8)) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith("{")) {
                        answer = line;
                    }
                }
            }
            proc.waitFor();
            watchdog.join();
            if (answer == null) {
                return mapper.createObjectNode().put("available", false)
                        .put("reason", python + " gave no answer (exit " + proc.exitValue() + ")");
            }
            return mapper.readTree(answer);
        } finally {
            Files.deleteIfExists(cfgFile);
        }
    }
}
