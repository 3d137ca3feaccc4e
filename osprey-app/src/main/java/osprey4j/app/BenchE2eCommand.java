package osprey4j.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.io.FileTrees;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;
import osprey4j.core.prompt.ChatTemplate;
import osprey4j.core.prompt.QuestionPrompt;
import osprey4j.core.tensor.DType;
import osprey4j.model.OspreyTokens;
import osprey4j.model.llm.LlamaConfig;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.service.QuantizeModel;
import osprey4j.train.export.OfficialModelWriter;
import osprey4j.train.export.OspreyShape;
import osprey4j.train.export.RandomWeights;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code osprey bench e2e}: Osprey at 7B dimensions with random weights, end to end through the service path of
 * {@code osprey ask}: time to the first token for a region of a new image, for a second region of the same image,
 * the decoding rate and the peak resident memory, per weight type, each measured in a JVM of its own, next to the
 * official PyTorch code run on the same weights, image, masks and prompt ids.
 */
@Command(name = "e2e", mixinStandardHelpOptions = true,
        description = {
                "Osprey at 7B dimensions with random weights (ConvNeXt-Large CLIP tower, mask extractor, mlp2x_gelu"
                        + " projector, LLaMA-7B: hidden 4096, 32 layers, MLP 11008, vocab 32000; --layers N for"
                        + " fewer), written streamed, tensor by tensor, in the official layout under --work (kept and"
                        + " reused by later runs), and quantised per --types with osprey quantize.",
                "Per type, a fresh JVM loads the model through the service and measures: first region = time to"
                        + " the first token for a question about one region of a new image (image encode + the"
                        + " ~1100-position prefill); next region = the same for a second region of the same image"
                        + " (encoded once, its prompt prefix reused from the session); decode tokens/s after the"
                        + " first token (greedy); peak RSS (VmHWM of that JVM).",
                "With --reference DIR (the official Osprey checkout and its dependencies, built as"
                        + " tools/bench/README.md says), the official PyTorch code runs on the BF16 model directory"
                        + " with the same threads, image, masks and prompt ids, measured the same way."
        })
final class BenchE2eCommand implements Callable<Integer> {
    static final long SEED = 20261203L;
    static final String QUESTION = "Can you give me a detailed description of <region1>?";
    private static final String DEFAULT_PYTHON = "/usr/bin/python3";
    private static final int IMAGE_WIDTH = 640;
    private static final int IMAGE_HEIGHT = 480;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "/tmp/osprey-bench-e2e",
            description = "Where the models, the image and the masks go (default ${DEFAULT-VALUE}); models already"
                    + " there from an earlier run of the same shape are reused.")
    Path work;

    @Option(names = "--layers", paramLabel = "N", defaultValue = "32",
            description = "LLM layers, 1 to 32 (default ${DEFAULT-VALUE}, LLaMA-7B's).")
    int layers;

    @Option(names = "--types", split = ",", paramLabel = "TYPE", defaultValue = "bf16,q4_0",
            description = "Weight types to measure, in order: bf16, q8_0, q4_0 (default ${DEFAULT-VALUE}).")
    List<String> types;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "8",
            description = "New tokens of the first question, for the decoding rate (default ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for every side (default: the compute pool's, i.e. all cores or -Dosprey.threads).")
    Integer threads;

    @Option(names = "--reference", paramLabel = "DIR",
            description = "The official code's environment (osprey, tgit, timm, open_clip, hfhub under DIR) to run"
                    + " the reference on the same weights.")
    Path reference;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON to FILE.")
    Path jsonFile;

    @Option(names = "--python", hidden = true, paramLabel = "PATH", description = "Python with torch for the reference.")
    String python = DEFAULT_PYTHON;

    @Option(names = "--peer-script", hidden = true, paramLabel = "FILE",
            description = "The reference's script (default: tools/bench/osprey_e2e_peer.py of this checkout).")
    Path peerScript;

    @Option(names = "--tiny", hidden = true, description = "A tiny shape instead of 7B's (tests).")
    boolean tiny;

    @Option(names = "--head", description = "Quantise lm_head too in the Q8_0/Q4_0 models (osprey quantize --head, as"
            + " llama-quantize --pure and osprey bench decode do); by default it keeps its BF16, as osprey quantize does.")
    boolean head;

    /** One type's figures, as the measuring JVM wrote them. */
    record Measured(String type, Path model, ObjectNode figures) {
        double first() {
            return figures.path("first_region_s").asDouble(Double.NaN);
        }

        double next() {
            return figures.path("next_region_s").asDouble(Double.NaN);
        }

        double decode() {
            return figures.path("decode_tokens_per_s").asDouble(Double.NaN);
        }

        double rssGb() {
            long kb = figures.path("vm_hwm_kb").asLong(-1);
            return kb < 0 ? Double.NaN : kb * 1024.0 / 1e9;
        }
    }

    @Override
    public Integer call() throws Exception {
        List<DType> todo = parseTypes();
        validate();
        int nThreads = BenchThreads.requested(threads);   // for the measuring JVMs and the reference
        Path script = reference == null ? null : findPeerScript();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Files.createDirectories(work);
        OspreyShape shape = shape();

        Path bf16 = work.resolve(modelName("bf16"));
        ensureBf16(shape, bf16, err);
        Map<DType, Path> models = new LinkedHashMap<>();
        for (DType t : todo) {
            models.put(t, t == DType.BF16 ? bf16 : ensureQuantized(shape, bf16, t, err));
        }
        Inputs inputs = writeInputs(work.resolve("inputs"));
        int[] ids = promptIds(bf16);

        List<Measured> measured = new ArrayList<>();
        for (Map.Entry<DType, Path> e : models.entrySet()) {
            err.println("measuring " + label(e.getKey()) + " in a fresh JVM (" + e.getValue() + ")...");
            err.flush();
            measured.add(new Measured(label(e.getKey()), e.getValue(), runChild(e.getValue(), inputs, nThreads)));
        }
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode peer = mapper.createObjectNode();
        if (reference == null) {
            peer.put("available", false).put("reason", "no --reference given");
        } else {
            err.println("running the official PyTorch code on " + bf16 + " (" + python + ")...");
            err.flush();
            runPeer(mapper, script, bf16, inputs, ids, nThreads, peer);
        }
        ObjectNode root = toJson(mapper, shape, nThreads, ids, inputs, measured, peer);
        printTable(out, shape, nThreads, measured, peer, root);
        if (jsonFile != null) {
            Path abs = jsonFile.toAbsolutePath();
            Files.createDirectories(abs.getParent());
            String text = mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
            AtomicFiles.write(abs, tmp -> Files.writeString(tmp, text));
        }
        out.flush();
        return 0;
    }

    private List<DType> parseTypes() {
        List<DType> out = new ArrayList<>();
        for (String s : types) {
            DType d = switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "bf16" -> DType.BF16;
                case "q8_0" -> DType.Q8_0;
                case "q4_0" -> DType.Q4_0;
                default -> throw new UsageException("bad --types entry '" + s + "': expected bf16, q8_0 or q4_0");
            };
            if (out.contains(d)) {
                throw new UsageException("--types names " + s + " twice");
            }
            out.add(d);
        }
        if (out.isEmpty()) {
            throw new UsageException("--types needs at least one type");
        }
        return out;
    }

    private void validate() {
        int max = tiny ? 2 : 32;
        if (layers < 1 || layers > max) {
            throw new UsageException("--layers must be 1 to " + max + ", got " + layers);
        }
        if (tokens < 2) {
            throw new UsageException("--tokens must be at least 2 (the decoding rate is measured after the first),"
                    + " got " + tokens);
        }
        if (reference != null) {
            for (String sub : List.of("osprey", "tgit", "timm", "open_clip", "hfhub")) {
                if (!Files.isDirectory(reference.resolve(sub))) {
                    throw new UsageException("--reference " + reference + " has no " + sub + "/ (build it as"
                            + " tools/bench/README.md says)");
                }
            }
            if (!Files.isExecutable(Path.of(python))) {
                throw new UsageException("--reference needs " + python + " (with torch)");
            }
        }
    }

    /** The peer script: --peer-script, else tools/bench/ of the working directory or of the checkout of this jar. */
    private Path findPeerScript() {
        if (peerScript != null) {
            if (!Files.isRegularFile(peerScript)) {
                throw new UsageException("--peer-script " + peerScript + " not found");
            }
            return peerScript;
        }
        List<Path> candidates = new ArrayList<>();
        candidates.add(Path.of("tools/bench/osprey_e2e_peer.py"));
        try {
            Path jar = Path.of(BenchE2eCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // osprey-app/target/osprey-app.jar (or target/classes) -> the checkout's root
            Path root = jar.getParent() == null ? null : jar.getParent().getParent();
            if (root != null && root.getParent() != null) {
                candidates.add(root.getParent().resolve("tools/bench/osprey_e2e_peer.py"));
            }
        } catch (Exception e) {
            // no code source: only the working directory is tried
        }
        for (Path p : candidates) {
            if (Files.isRegularFile(p)) {
                return p.toAbsolutePath();
            }
        }
        throw new UsageException("--reference: tools/bench/osprey_e2e_peer.py not found (run from the checkout or"
                + " give --peer-script)");
    }

    /** LLaMA-7B (Vicuna-7B) and ConvNeXt-Large as Osprey-7B has them, with {@code layers} LLM layers. */
    OspreyShape shape() {
        if (tiny) {
            LlamaConfig llm = new LlamaConfig(64, 172, layers, 4, 4, 1e-6f, LlamaConfig.DEFAULT_ROPE_THETA, 2048,
                    32000, false, 1, 2);
            return new OspreyShape(llm, new int[] {1, 1, 2, 1}, new int[] {8, 16, 32, 64}, 16, 32, 112, 16,
                    "mlp2x_gelu");
        }
        LlamaConfig llm = new LlamaConfig(4096, 11008, layers, 32, 32, 1e-6f, LlamaConfig.DEFAULT_ROPE_THETA, 4096,
                32000, false, 1, 2);
        return new OspreyShape(llm, new int[] {3, 3, 27, 3}, new int[] {192, 384, 768, 1536}, 768, 1024, 112, 1024,
                "mlp2x_gelu");
    }

    private String modelName(String type) {
        return "osprey-" + (tiny ? "tiny" : "7b") + "-L" + layers + "-" + type;
    }

    private static String label(DType t) {
        return t.name();
    }

    /** What a model directory under --work was made from; a directory with another stamp is made again. */
    private String stamp(OspreyShape shape, String type) {
        return shape + " seed=" + SEED + " type=" + type + "\n";
    }

    private void ensureBf16(OspreyShape shape, Path dir, PrintWriter err) throws IOException {
        Path stampFile = dir.resolve("bench-e2e.stamp");
        if (Files.isRegularFile(stampFile) && Files.readString(stampFile).equals(stamp(shape, "bf16"))) {
            err.println("reusing " + dir);
            return;
        }
        err.println("writing random BF16 weights, tensor by tensor, to " + dir + "...");
        err.flush();
        Path tokenizer = work.resolve("tokenizer.model");
        try (InputStream in = BenchE2eCommand.class.getResourceAsStream("bench_e2e_tokenizer.model")) {
            if (in == null) {
                throw new IOException("bench_e2e_tokenizer.model missing from the application's resources");
            }
            Files.write(tokenizer, in.readAllBytes());
        }
        long t0 = System.nanoTime();
        OfficialModelWriter.writeStreamed(dir, shape, RandomWeights.streamed(shape, SEED),
                OfficialModelWriter.Options.osprey(tokenizer, DType.BF16));
        Files.writeString(stampFile, stamp(shape, "bf16"));
        err.printf(Locale.ROOT, "  written in %.0f s%n", (System.nanoTime() - t0) / 1e9);
    }

    private Path ensureQuantized(OspreyShape shape, Path bf16, DType type, PrintWriter err) throws IOException {
        String name = type.name().toLowerCase(Locale.ROOT) + (head ? "-head" : "");
        Path dir = work.resolve(modelName(name));
        Path stampFile = dir.resolve("bench-e2e.stamp");
        if (Files.isRegularFile(stampFile) && Files.readString(stampFile).equals(stamp(shape, name))) {
            err.println("reusing " + dir);
            return dir;
        }
        FileTrees.delete(dir);
        err.println("quantising to " + type + " (osprey quantize) into " + dir + "...");
        err.flush();
        long t0 = System.nanoTime();
        QuantizeModel.run(bf16, type, head, dir);
        Files.deleteIfExists(dir.resolve("bench-e2e.stamp")); // copied from the source directory
        Files.writeString(stampFile, stamp(shape, name));
        err.printf(Locale.ROOT, "  quantised in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        return dir;
    }

    record Inputs(Path image, Path mask1, Path mask2) {
    }

    /**
     * A 640 x 480 scene (a smooth background with noise, two ellipses of other colours) and the two ellipses' masks:
     * both sides read these files.
     */
    static Inputs writeInputs(Path dir) throws IOException {
        Files.createDirectories(dir);
        int w = IMAGE_WIDTH;
        int h = IMAGE_HEIGHT;
        Mask a = Mask.fromPredicate(w, h, (x, y) -> sq((x - 200) / 120.0) + sq((y - 220) / 90.0) <= 1);
        Mask b = Mask.fromPredicate(w, h, (x, y) -> sq((x - 470) / 100.0) + sq((y - 300) / 130.0) <= 1);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        SplittableRandom rng = new SplittableRandom(3);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = 60 + x * 120 / w + rng.nextInt(20);
                int g = 90 + y * 100 / h + rng.nextInt(20);
                int bl = 140 + rng.nextInt(20);
                if (a.get(x, y)) {
                    r = 220 + rng.nextInt(30);
                    g = 80 + rng.nextInt(20);
                    bl = 40;
                } else if (b.get(x, y)) {
                    r = 40;
                    g = 180 + rng.nextInt(30);
                    bl = 70 + rng.nextInt(20);
                }
                img.setRGB(x, y, (r << 16) | (g << 8) | bl);
            }
        }
        Path image = dir.resolve("image.png");
        Path m1 = dir.resolve("mask1.png");
        Path m2 = dir.resolve("mask2.png");
        ImageIO.write(img, "png", image.toFile());
        MaskPng.write(a, m1);
        MaskPng.write(b, m2);
        return new Inputs(image, m1, m2);
    }

    private static double sq(double v) {
        return v * v;
    }

    /** The prompt's ids as the model makes them (osprey_v1, image preamble, the question; -200 for the image). */
    static int[] promptIds(Path model) {
        Tokenizer tokenizer = OspreyTokens.loadTokenizer(model, Tokenizer.Mode.FAST);
        return OspreyTokens.encodePrompt(tokenizer, QuestionPrompt.of(ChatTemplate.OSPREY_V1, QUESTION, 1).text());
    }

    /** Runs {@link BenchE2eChild} in a fresh JVM with this JVM's java, class path and memory/JIT flags. */
    private ObjectNode runChild(Path model, Inputs inputs, int nThreads) throws IOException, InterruptedException {
        Path result = Files.createTempFile(work, "e2e-", ".json");
        try {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss4m"));
            for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (a.startsWith("-Xmx") || a.startsWith("-Xms") || a.startsWith("-XX:")
                        || a.startsWith("-Dosprey.") && !a.startsWith("-Dosprey.threads=")) {
                    cmd.add(a);
                }
            }
            cmd.add("-Dosprey.threads=" + nThreads);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchE2eChild.class.getName(),
                    model.toString(), inputs.image().toString(), inputs.mask1().toString(), inputs.mask2().toString(),
                    QUESTION, Integer.toString(tokens), result.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.redirectErrorStream(true);
            Process proc = pb.start();
            forwardOutput(proc, "");
            int code = proc.waitFor();
            String text = Files.readString(result);
            if (code != 0 || text.isBlank()) {
                throw new IllegalStateException("the measuring JVM for " + model + " exited with status " + code);
            }
            return (ObjectNode) new ObjectMapper().readTree(text);
        } finally {
            Files.deleteIfExists(result);
        }
    }

    /** Copies a child process's output to stderr line by line, each after {@code prefix} (not the JVM's incubator notice). */
    private void forwardOutput(Process proc, String prefix) throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(proc.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.startsWith("WARNING: Using incubator modules")) {
                    err.println(prefix + line);
                    err.flush();
                }
            }
        }
    }

    private void runPeer(ObjectMapper mapper, Path script, Path model, Inputs inputs, int[] ids, int nThreads,
                         ObjectNode peer) throws IOException, InterruptedException {
        peer.put("python", python);
        Path result = work.resolve("reference-result.json");
        Files.deleteIfExists(result);
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--ref", reference.toString(),
                "--model", model.toString(), "--image", inputs.image().toString(), "--mask1", inputs.mask1().toString(),
                "--mask2", inputs.mask2().toString(), "--input-ids", join(ids), "--tokens", Integer.toString(tokens),
                "--threads", Integer.toString(nThreads), "--work", work.resolve("reference-work").toString(),
                "--out", result.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(nThreads));
        pb.redirectErrorStream(true);
        Process proc = pb.start();
        forwardOutput(proc, "  reference: ");
        int code = proc.waitFor();
        if (code != 0 || !Files.isRegularFile(result)) {
            peer.put("available", false).put("reason", "the reference script exited with status " + code
                    + " (its output is above)");
            return;
        }
        JsonNode node = mapper.readTree(result.toFile());
        peer.put("available", true);
        node.fields().forEachRemaining(e -> peer.set(e.getKey(), e.getValue()));
    }

    private static String join(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            sb.append(i == 0 ? "" : ",").append(ids[i]);
        }
        return sb.toString();
    }

    private static double peerValue(ObjectNode peer, String key) {
        return peer.path("available").asBoolean(false) && peer.has(key) ? peer.get(key).asDouble() : Double.NaN;
    }

    private ObjectNode toJson(ObjectMapper mapper, OspreyShape shape, int nThreads, int[] ids, Inputs inputs,
                              List<Measured> measured, ObjectNode peer) {
        int idCount = ids.length;
        ObjectNode root = mapper.createObjectNode();
        ObjectNode model = root.putObject("model");
        LlamaConfig llm = shape.llm();
        model.put("name", tiny ? "Osprey (tiny test shape), random weights" : "Osprey-7B dimensions, random weights");
        model.put("hidden_size", llm.hiddenSize());
        model.put("layers", llm.numHiddenLayers());
        model.put("intermediate_size", llm.intermediateSize());
        model.put("vocab_size", llm.vocabSize());
        Arrays.stream(shape.convDepths()).forEach(model.putArray("convnext_depths")::add);
        Arrays.stream(shape.convDims()).forEach(model.putArray("convnext_dims")::add);
        model.put("seed", SEED);
        model.put("quantised_lm_head", head);
        root.put("threads", nThreads);
        root.put("tokens", tokens);
        root.put("question", QUESTION);
        root.put("prompt_ids", idCount);
        Arrays.stream(ids).forEach(root.putArray("prompt_id_list")::add);
        root.put("image", inputs.image().toString());
        ArrayNode list = root.putArray("results");
        double refFirst = peerValue(peer, "first_region_s");
        for (Measured m : measured) {
            ObjectNode o = list.addObject();
            o.put("type", m.type());
            o.put("model_dir", m.model().toString());
            o.put("first_region_s", m.first());
            o.put("next_region_s", m.next());
            o.put("next_over_first", m.next() / m.first());
            putNumber(o, "decode_tokens_per_s", m.decode());
            putNumber(o, "peak_rss_gb", m.rssGb());
            if (!Double.isNaN(refFirst)) {
                o.put("first_region_speedup_vs_reference", refFirst / m.first());
            }
            o.set("measured", m.figures());
        }
        root.set("reference", peer);
        ObjectNode goals = root.putObject("goals");
        for (Measured m : measured) {
            ObjectNode g = goals.putObject(m.type());
            if (!Double.isNaN(refFirst)) {
                g.put("first_region_1_5x_faster_than_reference", refFirst / m.first() >= 1.5);
            }
            g.put("next_region_at_most_10pct_of_first", m.next() <= 0.10 * m.first());
            if (m.type().equals("Q4_0") && !Double.isNaN(m.rssGb())) {
                g.put("peak_rss_at_most_5_gb", m.rssGb() <= 5.0);
            }
        }
        return root;
    }

    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }

    private void printTable(PrintWriter out, OspreyShape shape, int nThreads, List<Measured> measured, ObjectNode peer,
                            ObjectNode root) {
        LlamaConfig llm = shape.llm();
        out.printf(Locale.ROOT, "osprey bench e2e: %s, random weights; LLM hidden %d, %d layers, MLP %d, vocab %d;"
                        + " ConvNeXt dims %s; %d threads%n", tiny ? "tiny test shape" : "Osprey-7B dimensions",
                llm.hiddenSize(), llm.numHiddenLayers(), llm.intermediateSize(), llm.vocabSize(),
                Arrays.toString(shape.convDims()), nThreads);
        out.printf(Locale.ROOT, "one 640x480 image, question \"%s\" (%d prompt ids + the image's tokens), greedy, %d"
                + " new tokens for the decoding rate; lm_head of the quantised models: %s%n", QUESTION,
                root.path("prompt_ids").asInt(), tokens, head ? "quantised too (--head)" : "BF16");
        double refFirst = peerValue(peer, "first_region_s");
        out.println();
        out.printf(Locale.ROOT, "%-10s %26s %26s %14s %12s%n", "type", "first region s (ref/ours)",
                "next region s (next/first)", "decode tok/s", "peak RSS GB");
        for (Measured m : measured) {
            String ratio = Double.isNaN(refFirst) ? "" : String.format(Locale.ROOT, " (%.2fx)", refFirst / m.first());
            out.printf(Locale.ROOT, "%-10s %26s %26s %14s %12s%n", m.type(),
                    String.format(Locale.ROOT, "%.2f%s", m.first(), ratio),
                    String.format(Locale.ROOT, "%.2f (%.3f)", m.next(), m.next() / m.first()),
                    fmt(m.decode()), fmt(m.rssGb()));
        }
        if (peer.path("available").asBoolean(false)) {
            double rf = peerValue(peer, "first_region_s");
            double rn = peerValue(peer, "next_region_s");
            out.printf(Locale.ROOT, "%-10s %26s %26s %14s %12s%n", "reference",
                    String.format(Locale.ROOT, "%.2f (1.00x)", rf),
                    String.format(Locale.ROOT, "%.2f (%.3f)", rn, rn / rf),
                    fmt(peerValue(peer, "decode_tokens_per_s")), fmt(peerValue(peer, "peak_rss_gb")));
            out.println();
            out.printf(Locale.ROOT, "reference: the official Osprey code (PyTorch %s, %d threads) on the BF16 model"
                            + " directory: %s%n", peer.path("torch_version").asText("?"),
                    peer.path("threads").asInt(), peer.path("dtypes").asText(""));
        } else {
            out.println();
            out.println("reference: not run (" + peer.path("reason").asText("unknown") + ")");
        }
        StringBuilder gen = new StringBuilder("first answer's ids (greedy):");
        for (Measured m : measured) {
            gen.append(' ').append(m.type()).append(' ').append(m.figures().path("generated_ids"));
        }
        if (peer.path("available").asBoolean(false)) {
            gen.append(" reference ").append(peer.path("generated_ids"));
        }
        out.println(gen);
        out.println("first region: time to the first token of a question about one region of a new image (encode +"
                + " prefill of image, mask and prompt tokens); next region: a second region of the same image (the"
                + " service's encoded image and cached prompt prefix; the reference has no cache and runs it all"
                + " again); decode: tokens/s after the first token; peak RSS: VmHWM of the measuring process (model"
                + " load included).");
        JsonNode goals = root.path("goals");
        StringBuilder g = new StringBuilder("goals:");
        goals.fields().forEachRemaining(e -> e.getValue().fields().forEachRemaining(f ->
                g.append(' ').append(e.getKey()).append(' ').append(f.getKey()).append('=')
                        .append(f.getValue().asBoolean() ? "met" : "NOT met").append(';')));
        out.println(g);
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }
}
