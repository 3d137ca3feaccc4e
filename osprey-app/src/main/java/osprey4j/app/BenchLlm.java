package osprey4j.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.FileTrees;
import osprey4j.core.io.TensorInfo;
import osprey4j.core.kernels.FmaPeak;
import osprey4j.core.kernels.MemoryBandwidth;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.Sampler;
import osprey4j.model.llm.KvCache;
import osprey4j.model.llm.Llama;
import osprey4j.model.llm.LlamaConfig;
import osprey4j.service.QuantizeModel;
import osprey4j.train.export.RandomLlama;

/**
 * What {@code osprey bench decode} and {@code osprey bench prefill} share: the random LLaMA written (or reused)
 * under {@code --work}, its Q8_0/Q4_0 copies made by {@link QuantizeModel}, osprey4j's own decoder ({@link Llama},
 * {@link KvCache}) timed per weight type, and llama.cpp timed on the same weights right after ({@link LlamaCppPeer}).
 */
final class BenchLlm {
    /** Which of llama-bench's two tests: tg (one token per step) or pp (one prompt in one step). */
    enum Mode {
        DECODE("decode", "tg"), PREFILL("prefill", "pp");

        final String command;
        final String llamaBenchTest;

        Mode(String command, String llamaBenchTest) {
            this.command = command;
            this.llamaBenchTest = llamaBenchTest;
        }
    }

    /** Tokens run before the timed decoding steps (the "short prompt"; not timed). */
    static final int DECODE_PROMPT = 4;
    /** Tokens of the untimed prompt that warms prefill up (llama-bench warms pp up with at most 32). */
    static final int PREFILL_WARMUP = 32;
    static final long SEED = 7;

    /** One weight type's figures. */
    record Row(DType type, long weightBytesPerToken, double flopsPerToken, double[] tokensPerSecond,
               JsonNode peer) {
        double median() {
            double[] s = tokensPerSecond.clone();
            Arrays.sort(s);
            int h = s.length / 2;
            return s.length % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2;
        }

        Double peerTokensPerSecond() {
            return peer != null && peer.has("avg_ts") ? peer.get("avg_ts").asDouble() : null;
        }
    }

    private final BenchLlmOptions o;
    private final Mode mode;
    private final int length;
    private final PrintWriter out;
    private final PrintWriter err;

    BenchLlm(BenchLlmOptions options, Mode mode, int length, PrintWriter out, PrintWriter err) {
        this.o = options;
        this.mode = mode;
        this.length = length;
        this.out = out;
        this.err = err;
    }

    int run() throws Exception {
        List<DType> types = parseTypes(o.types);
        LlamaConfig config = config();
        String lengthName = mode == Mode.DECODE ? "--tokens" : "--prompt";
        if (length < 1) {
            throw new UsageException(lengthName + " must be at least 1, got " + length);
        }
        int positions = mode == Mode.DECODE ? DECODE_PROMPT + length : length;
        if (positions > config.maxPositionEmbeddings()) {
            throw new UsageException(lengthName + " " + length + " does not fit in the model's "
                    + config.maxPositionEmbeddings() + " positions");
        }
        if (o.reps < 1) {
            throw new UsageException("--reps must be at least 1, got " + o.reps);
        }
        if (!(o.warmupSeconds >= 0)) {
            throw new UsageException("--warmup-s must not be negative, got " + o.warmupSeconds);
        }
        if (o.bandwidthMb < 1) {
            throw new UsageException("--bandwidth-mb must be positive, got " + o.bandwidthMb);
        }
        if (o.llamaCpp != null && !Files.isDirectory(o.llamaCpp)) {
            throw new UsageException("--llama-cpp " + o.llamaCpp + ": not a directory");
        }
        int threads = BenchThreads.configure(o.threads);

        Path root = o.work.resolve(String.format(Locale.ROOT, "llama-h%d-f%d-a%d-v%d-L%d", config.hiddenSize(),
                config.intermediateSize(), config.numAttentionHeads(), config.vocabSize(), config.numHiddenLayers()));
        Path bf16 = prepareModel(root, config);

        progress("measuring " + (mode == Mode.DECODE ? "memory bandwidth" : "the F32 FMA peak") + "...");
        MemoryBandwidth.Result bw = mode == Mode.DECODE ? MemoryBandwidth.measure((long) o.bandwidthMb << 20, 5) : null;
        FmaPeak.Result peak = mode == Mode.PREFILL ? FmaPeak.measure(20_000_000, 5) : null;

        ObjectMapper mapper = new ObjectMapper();
        LlamaCppPeer peer = o.llamaCpp == null ? null
                : new LlamaCppPeer(o.llamaCpp, o.python, root.resolve("gguf"), bf16, threads, this::progress);
        List<Row> rows = new ArrayList<>();
        for (DType type : types) {
            Path dir = type == DType.BF16 ? bf16 : quantized(root, bf16, type);
            progress("timing osprey4j with " + label(type) + " weights...");
            Row ours = timeOurs(dir, type);
            JsonNode peerResult = null;
            if (peer != null) {
                progress("timing llama.cpp with " + label(type) + " weights...");
                peerResult = peer.bench(type, mode, length, o.reps, mapper);
            }
            rows.add(new Row(type, ours.weightBytesPerToken(), ours.flopsPerToken(), ours.tokensPerSecond(),
                    peerResult));
        }
        ObjectNode peerInfo = peer == null
                ? mapper.createObjectNode().put("available", false).put("reason", "no --llama-cpp")
                : peer.info(mapper);
        ObjectNode json = toJson(mapper, config, threads, bw, peak, peerInfo, rows);
        printTable(config, threads, bw, peak, peerInfo, rows);
        if (o.json != null) {
            Path parent = o.json.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(o.json, mapper.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n");
        }
        out.flush();
        return 0;
    }

    private void progress(String line) {
        err.println(line);
        err.flush();
    }

    static List<DType> parseTypes(List<String> names) {
        LinkedHashSet<DType> types = new LinkedHashSet<>();
        for (String n : names) {
            DType d = switch (n.trim().toLowerCase(Locale.ROOT)) {
                case "bf16" -> DType.BF16;
                case "q8_0" -> DType.Q8_0;
                case "q4_0" -> DType.Q4_0;
                default -> throw new UsageException("--types: unknown type '" + n.trim() + "' (bf16, q8_0 or q4_0)");
            };
            types.add(d);
        }
        if (types.isEmpty()) {
            throw new UsageException("--types: give at least one of bf16, q8_0, q4_0");
        }
        return List.copyOf(types);
    }

    private LlamaConfig config() {
        if (o.layers < 1) {
            throw new UsageException("--layers must be at least 1, got " + o.layers);
        }
        if (o.hidden < 1 || o.heads < 1 || o.intermediate < 1 || o.hidden % o.heads != 0
                || (o.hidden / o.heads) % 2 != 0 || o.hidden % 32 != 0 || o.intermediate % 32 != 0) {
            throw new UsageException("--hidden, --heads, --intermediate: the hidden size must be a multiple of 32 and"
                    + " of the heads with an even head size, and the MLP width a multiple of 32");
        }
        if (o.vocab <= 259) {
            throw new UsageException("--vocab must exceed 259 (control and byte pieces), got " + o.vocab);
        }
        return new LlamaConfig(o.hidden, o.intermediate, o.layers, o.heads, o.heads, 1e-6f,
                LlamaConfig.DEFAULT_ROPE_THETA, 2048, o.vocab, false, 1, 2);
    }

    /** The BF16 model directory, generated unless a matching one is there (then its derived files are kept). */
    private Path prepareModel(Path root, LlamaConfig config) throws IOException {
        Path bf16 = root.resolve("hf-bf16");
        if (RandomLlama.matches(bf16, config, SEED)) {
            progress("reusing the random model in " + bf16);
            return bf16;
        }
        if (Files.exists(root)) {
            if (!Files.exists(bf16.resolve(RandomLlama.STAMP)) && Files.exists(bf16)) {
                throw new UsageException(bf16 + " exists but was not written by osprey bench; remove it or choose"
                        + " another --work");
            }
            FileTrees.delete(root); // an older or different generation: its quantised and GGUF copies go with it
        }
        long bytes = RandomLlama.tensorShapes(config).values().stream()
                .mapToLong(s -> DType.BF16.bytesFor(Tensor.numel(s))).sum();
        progress(String.format(Locale.ROOT, "writing a random LLaMA (%d layers, %.2f GB of BF16 weights) to %s...",
                config.numHiddenLayers(), bytes / 1e9, bf16));
        RandomLlama.write(bf16, config, SEED);
        return bf16;
    }

    /** The osprey4j quantised copy (linear weights and lm_head), made by osprey quantize's code unless there. */
    private Path quantized(Path root, Path bf16, DType type) {
        Path dir = root.resolve("osprey-" + type.name().toLowerCase(Locale.ROOT));
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
            return dir; // QuantizeModel renames its directory into place whole
        }
        progress("quantising to " + label(type) + " (" + dir + ")...");
        QuantizeModel.run(bf16, type, true, dir);
        return dir;
    }

    /** Loads the model in {@code dir} and times it: tokens/s per repetition after an untimed warm-up. */
    private Row timeOurs(Path dir, DType type) {
        LlamaConfig config = LlamaConfig.read(dir.resolve("config.json"));
        try (Checkpoint ck = Checkpoints.open(dir)) {
            Llama llama = Llama.load(ck, config);
            long bytes = 0;
            for (TensorInfo t : ck.tensors()) {
                // Per token the decoder reads every weight once, but of the embedding only the token's row.
                bytes += t.name().equals("model.embed_tokens.weight") ? t.byteSize() / config.vocabSize() : t.byteSize();
            }
            SplittableRandom rnd = new SplittableRandom(SEED);
            int[] ids = new int[mode == Mode.DECODE ? DECODE_PROMPT : length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 3 + rnd.nextInt(config.vocabSize() - 3);
            }
            ids[0] = config.bosTokenId();
            double[] tps = new double[o.reps];
            int capacity = mode == Mode.DECODE ? DECODE_PROMPT + length : Math.max(length, PREFILL_WARMUP);
            try (KvCache cache = llama.newCache(capacity)) {
                if (mode == Mode.DECODE) {
                    Tensor prompt = llama.embed(ids);
                    // Warm-up: reads every weight once and gets the kernels compiled by C2.
                    long warmEnd = System.nanoTime() + (long) (o.warmupSeconds * 1e9);
                    do {
                        decodeRun(llama, cache, prompt, Math.min(2, length));
                    } while (System.nanoTime() < warmEnd);
                    for (int r = 0; r < o.reps; r++) {
                        tps[r] = length / decodeRun(llama, cache, prompt, length);
                    }
                } else {
                    int[] warm = Arrays.copyOf(ids, Math.min(PREFILL_WARMUP, ids.length));
                    long warmEnd = System.nanoTime() + (long) (o.warmupSeconds * 1e9);
                    do {
                        cache.truncate(0);
                        llama.forward(llama.embed(warm), cache);
                    } while (System.nanoTime() < warmEnd);
                    for (int r = 0; r < o.reps; r++) {
                        cache.truncate(0);
                        long t0 = System.nanoTime();
                        llama.forward(llama.embed(ids), cache);
                        tps[r] = length / ((System.nanoTime() - t0) / 1e9);
                    }
                }
            }
            return new Row(type, bytes, flopsPerToken(config, ck), tps, null);
        }
    }

    /** Runs the prompt (untimed) then {@code steps} greedy single-token steps; returns their seconds. */
    private static double decodeRun(Llama llama, KvCache cache, Tensor prompt, int steps) {
        cache.truncate(0);
        float[] logits = llama.forward(prompt, cache);
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            logits = llama.forward(llama.embed(new int[] {Sampler.argmax(logits)}), cache);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * FLOPs per prompt token: 2 per linear weight (lm_head counted, though prefill runs it for the last token only;
     * llama-bench's pp does the same) plus attention's scores and weighted sum over the prompt's mean context.
     */
    private double flopsPerToken(LlamaConfig config, Checkpoint ck) {
        double linear = 0;
        for (TensorInfo t : ck.tensors()) {
            if (Llama.isLinearWeightKey(t.name(), false)) {
                linear += Tensor.numel(t.shape());
            }
        }
        double meanContext = mode == Mode.PREFILL ? (length + 1) / 2.0 : DECODE_PROMPT + (length + 1) / 2.0;
        return 2 * linear + 4.0 * config.numHiddenLayers() * config.hiddenSize() * meanContext;
    }

    static String label(DType d) {
        return d.name();
    }

    private ObjectNode toJson(ObjectMapper mapper, LlamaConfig c, int threads, MemoryBandwidth.Result bw,
            FmaPeak.Result peak, ObjectNode peerInfo, List<Row> rows) {
        ObjectNode root = mapper.createObjectNode();
        root.put("benchmark", mode.command);
        ObjectNode model = root.putObject("model");
        model.put("hidden_size", c.hiddenSize()).put("intermediate_size", c.intermediateSize())
                .put("num_hidden_layers", c.numHiddenLayers()).put("num_attention_heads", c.numAttentionHeads())
                .put("vocab_size", c.vocabSize()).put("weights", "random, seed " + SEED);
        root.put("threads", threads).put("reps", o.reps).put("warmup_seconds", o.warmupSeconds);
        if (mode == Mode.DECODE) {
            root.put("prompt_tokens", DECODE_PROMPT).put("generated_tokens", length);
        } else {
            root.put("prompt_tokens", length);
        }
        if (bw != null) {
            root.putObject("memory_bandwidth").put("bytes", bw.bytes()).put("median_gbps", bw.medianGBps())
                    .put("best_gbps", bw.bestGBps());
        }
        if (peak != null) {
            root.putObject("f32_fma_peak").put("median_gflops", peak.medianGflops()).put("best_gflops", peak.bestGflops());
        }
        root.set("peer", peerInfo);
        ArrayNode results = root.putArray("results");
        for (Row row : rows) {
            ObjectNode r = results.addObject();
            r.put("type", label(row.type()));
            r.put("weight_bytes_per_token", row.weightBytesPerToken());
            ObjectNode ours = r.putObject("osprey");
            ours.put("tokens_per_second", row.median());
            ArrayNode samples = ours.putArray("samples_tokens_per_second");
            Arrays.stream(row.tokensPerSecond()).forEach(samples::add);
            if (bw != null) {
                double gbps = row.weightBytesPerToken() * row.median() / 1e9;
                r.put("weight_gbps", gbps).put("roofline_fraction", gbps / bw.medianGBps());
            }
            if (peak != null) {
                double gflops = row.flopsPerToken() * row.median() / 1e9;
                r.put("gflops", gflops).put("fma_peak_fraction", gflops / peak.medianGflops());
            }
            JsonNode p = row.peer();
            if (p != null) {
                r.set("llama_cpp", p);
                Double pt = row.peerTokensPerSecond();
                if (pt != null) {
                    r.put("ratio", row.median() / pt);
                }
            }
        }
        return root;
    }

    private void printTable(LlamaConfig c, int threads, MemoryBandwidth.Result bw, FmaPeak.Result peak,
            ObjectNode peerInfo, List<Row> rows) {
        String what = mode == Mode.DECODE
                ? String.format(Locale.ROOT, "%d generated tokens after a %d-token prompt (llama-bench tg%d)", length,
                DECODE_PROMPT, length)
                : String.format(Locale.ROOT, "a %d-token prompt in one step (llama-bench pp%d)", length, length);
        out.printf(Locale.ROOT, "osprey bench %s: LLaMA (hidden %d, %d layers, %d heads, MLP %d, vocab %d), random"
                + " weights; %s; threads: %d; %d reps%n", mode.command, c.hiddenSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.intermediateSize(), c.vocabSize(), what, threads, o.reps);
        if (bw != null) {
            out.printf(Locale.ROOT, "memory bandwidth (streaming read of %d MiB, threads: %d): %.1f GB/s median, %.1f"
                    + " best%n", bw.bytes() >> 20, threads, bw.medianGBps(), bw.bestGBps());
        }
        if (peak != null) {
            out.printf(Locale.ROOT, "F32 FMA peak (threads: %d): %.1f GFLOP/s median, %.1f best%n", peak.threads(),
                    peak.medianGflops(), peak.bestGflops());
        }
        if (peerInfo.path("available").asBoolean(false)) {
            out.printf(Locale.ROOT, "peer: llama.cpp build %s (%s), llama-bench %s%d, -t %d, -r %d; same weights converted"
                    + " by its convert_hf_to_gguf.py, quantised by llama-quantize --pure%n",
                    peerInfo.path("build").asText("?"), peerInfo.path("dir").asText(), mode.llamaBenchTest, length,
                    threads, o.reps);
        } else {
            out.printf(Locale.ROOT, "peer: llama.cpp not run (%s); our figures only%n",
                    peerInfo.path("reason").asText("unknown"));
        }
        out.println();
        String roofHead = mode == Mode.DECODE ? "%roof" : "%FMA";
        out.printf(Locale.ROOT, "%-6s %10s %13s %8s %7s %16s %7s%n", "type", "GB/token", "osprey tok/s",
                mode == Mode.DECODE ? "GB/s" : "GFLOP/s", roofHead, "llama.cpp tok/s", "ratio");
        for (Row row : rows) {
            double tps = row.median();
            String rate;
            String frac;
            if (bw != null) {
                double gbps = row.weightBytesPerToken() * tps / 1e9;
                rate = String.format(Locale.ROOT, "%.1f", gbps);
                frac = String.format(Locale.ROOT, "%.0f%%", 100 * gbps / bw.medianGBps());
            } else {
                double gflops = row.flopsPerToken() * tps / 1e9;
                rate = String.format(Locale.ROOT, "%.1f", gflops);
                frac = String.format(Locale.ROOT, "%.0f%%", 100 * gflops / peak.medianGflops());
            }
            Double pt = row.peerTokensPerSecond();
            String peerCol = pt != null ? String.format(Locale.ROOT, "%.2f", pt)
                    : row.peer() != null ? "failed" : "-";
            String ratio = pt != null ? String.format(Locale.ROOT, "%.2fx", tps / pt) : "-";
            out.printf(Locale.ROOT, "%-6s %10.3f %13.2f %8s %7s %16s %7s%n", label(row.type()),
                    row.weightBytesPerToken() / 1e9, tps, rate, frac, peerCol, ratio);
            if (row.peer() != null && row.peer().has("error")) {
                out.printf(Locale.ROOT, "       llama.cpp %s: %s%n", label(row.type()), row.peer().get("error").asText());
            }
        }
        out.println();
        out.println("osprey tok/s: median over the reps after an untimed warm-up (" + o.warmupSeconds + " s at least); llama.cpp tok/s: llama-bench's"
                + " avg_ts; ratio = osprey / llama.cpp (above 1: osprey faster).");
        if (mode == Mode.DECODE) {
            out.println("GB/token: weight bytes read per generated token (every weight, one embedding row); %roof = that"
                    + " rate over the median memory bandwidth above.");
        } else {
            out.println("GFLOP/s: 2 per linear weight and token plus attention; %FMA = of the F32 FMA peak above.");
        }
    }
}
