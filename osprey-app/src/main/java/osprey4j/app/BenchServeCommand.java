package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import osprey4j.app.serve.LoadTest;
import osprey4j.app.serve.OspreyServer;
import osprey4j.app.serve.ServerConfig;
import osprey4j.core.io.FileTrees;
import osprey4j.core.mask.Mask;
import osprey4j.model.GenerationOptions;
import osprey4j.model.ImageSession;
import osprey4j.model.image.RgbImage;
import osprey4j.service.AskRequest;
import osprey4j.service.OspreyService;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code osprey bench serve}: {@code osprey serve} under load. Starts the server in-process on 127.0.0.1, then
 * (1) the peer: the same question asked through the service without HTTP, cold (encode + ask) and warm (the
 * encoded image reused), (2) the same pair over HTTP with no other load (time to first token of a new image's first
 * question against its second), (3) the load: many clients with mixed requests for a fixed time. Prints
 * throughput, p50/p99 latency and time to first token, statuses (503s counted), errors, and the JVM's heap after
 * GC and resident memory before and after.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Load test of 'osprey serve' on 127.0.0.1: CLIENTS concurrent clients for SECONDS with mixed requests"
                        + " (streamed questions about a shared image, new images asked twice, follow-ups, describe,"
                        + " segment, models/health, refused requests). Prints throughput, p50/p99 latency and time to"
                        + " first token per kind, 503 counts, unexpected errors and memory; exit code 1 when a"
                        + " request failed other than by a counted 503 or the heap after GC grew past the caches'"
                        + " budgets.",
                "Peer, measured in the same run: the question asked in-process through the service (no HTTP, no"
                        + " queue)."})
final class BenchServeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Osprey checkpoint directory.")
    Path model;

    @Option(names = "--image", paramLabel = "IMG", description = "The image asked about (default: DIR/example/"
            + "scene.png).")
    Path image;

    @Option(names = "--clients", defaultValue = "50", paramLabel = "N", description = "Concurrent clients (default:"
            + " ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--seconds", defaultValue = "60", paramLabel = "S", description = "Duration of the load"
            + " (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--max-tokens", defaultValue = "32", paramLabel = "N", description = "max_tokens of each question"
            + " (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--workers", defaultValue = "2", paramLabel = "N", description = "Server workers (default:"
            + " ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--queue-depth", defaultValue = "16", paramLabel = "N", description = "Server queue depth"
            + " (default: ${DEFAULT-VALUE}).")
    int queueDepth;

    @Option(names = "--image-cache-mb", defaultValue = "256", paramLabel = "MB", description = "Server image cache"
            + " budget (default: ${DEFAULT-VALUE}).")
    long imageCacheMb;

    @Option(names = "--chat-cache-mb", defaultValue = "64", paramLabel = "MB", description = "Server conversation"
            + " cache budget (default: ${DEFAULT-VALUE}).")
    long chatCacheMb;

    @Option(names = "--pairs", defaultValue = "9", paramLabel = "N", description = "Cold/warm pairs for the peer and"
            + " the unloaded HTTP figures (default: ${DEFAULT-VALUE}).")
    int pairs;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Option(names = "--random-llm", split = ",", paramLabel = "H,I,HEADS,LAYERS", description = "Instead of --model's"
            + " weights, serve a random model of these LLaMA dimensions (hidden, intermediate, heads, layers; LLaMA-7B"
            + " is 4096,11008,32,32) with the reference's ConvNeXt-Large tower at 512x512 (1024 image tokens) and"
            + " --model's tokenizer and vocabulary, written BF16 to --random-dir first.")
    int[] randomLlm;

    @Option(names = "--random-dir", paramLabel = "DIR", description = "Where --random-llm writes its model (default:"
            + " a temporary directory, deleted afterwards).")
    Path randomDir;

    @Override
    public Integer call() throws Exception {
        Path img = image != null ? image : model.resolve("example").resolve("scene.png");
        if (!Files.isRegularFile(img)) {
            throw new UsageException("image not found: " + img + " (give --image)");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        byte[] bytes = Files.readAllBytes(img);
        RgbImage rgb = ModelSupport.readImage(img);
        Path served = model;
        boolean deleteServed = false;
        if (randomLlm != null) {
            if (randomLlm.length != 4) {
                throw new UsageException("--random-llm takes hidden,intermediate,heads,layers");
            }
            deleteServed = randomDir == null;
            served = randomDir != null ? randomDir : Files.createTempDirectory("osprey-bench-serve-");
            Files.deleteIfExists(served);
            err.println("osprey bench serve: writing a random model " + java.util.Arrays.toString(randomLlm) + " to "
                    + served);
            err.flush();
            writeRandomModel(served, model.resolve("tokenizer.model"));
        }
        try {
            return run(served, bytes, rgb, out, err);
        } finally {
            if (deleteServed) {
                FileTrees.delete(served);
            }
        }
    }

    private void writeRandomModel(Path dir, Path tokenizer) throws IOException {
        // The vocabulary is the tokenizer's (every sampled id must decode): for the demo's 1000 pieces the LM head
        // is 1000 rows instead of LLaMA's 32000, 2% of a 7B decode step and nothing of a prefill.
        int vocab = osprey4j.model.llm.LlamaConfig.read(model.resolve("config.json")).vocabSize();
        osprey4j.model.llm.LlamaConfig llm = new osprey4j.model.llm.LlamaConfig(randomLlm[0], randomLlm[1],
                randomLlm[3], randomLlm[2], randomLlm[2], 1e-6f, osprey4j.model.llm.LlamaConfig.DEFAULT_ROPE_THETA,
                2048, vocab, false, 1, 2);
        int[] dims = osprey4j.model.vision.RandomConvNext.largeDims();
        osprey4j.train.export.OspreyShape shape = new osprey4j.train.export.OspreyShape(llm,
                osprey4j.model.vision.RandomConvNext.largeDepths(), dims, dims[3] / 2, 1024, 112, 1024, "mlp2x_gelu");
        java.util.Map<String, osprey4j.core.tensor.Tensor> weights = osprey4j.train.export.RandomWeights.of(shape, 7);
        osprey4j.train.TrainingRun.writeModel(dir, shape, weights, tokenizer, osprey4j.core.tensor.DType.BF16, 2048,
                512);
    }

    private int run(Path served, byte[] bytes, RgbImage rgb, PrintWriter out, PrintWriter err) throws Exception {
        ObjectNode report = JSON.createObjectNode();
        try (OspreyService service = ModelSupport.loadService(served, spec.commandLine())) {
            ServerConfig config = ServerConfig.defaults(served.toAbsolutePath().normalize().getFileName().toString())
                    .withPort(0).withQueue(workers, queueDepth).withCaches(imageCacheMb << 20, chatCacheMb << 20)
                    .withLimits(20L << 20, 40, 16, 8000, Math.max(maxTokens, 64));
            try (OspreyServer server = OspreyServer.start(service, null, config)) {
                err.println("osprey bench serve: " + server.uri() + ", peer and unloaded pairs first");
                err.flush();
                Mask region = Mask.fromPredicate(rgb.width(), rgb.height(),
                        (x, y) -> x < rgb.width() / 2 && y < rgb.height() / 2);
                int measured = pairs;
                pairs = 1; // warm-up: the JIT compiles the encode, prefill and HTTP paths once
                peer(service, rgb, region);
                unloaded(server.uri(), bytes, rgb, 99);
                pairs = measured;
                double[][] peer = peer(service, rgb, region);
                double[][] http = unloaded(server.uri(), bytes, rgb, 0);
                ObjectNode p = report.putObject("peer_in_process");
                p.put("ttft_cold_ms", median(peer[0]));
                p.put("ttft_warm_ms", median(peer[1]));
                ObjectNode u = report.putObject("http_unloaded");
                u.put("ttft_first_question_ms", median(http[0]));
                u.put("ttft_second_question_ms", median(http[1]));
                u.put("second_over_first", median(http[1]) / median(http[0]));

                Memory before = Memory.now(true);
                List<Memory> samples = Collections.synchronizedList(new ArrayList<>());
                LoadTest load = new LoadTest(server.uri(), null, bytes, maxTokens);
                err.println("osprey bench serve: " + clients + " clients for " + seconds + " s");
                err.flush();
                LoadTest.Report r = load.run(clients, seconds, () -> samples.add(Memory.now(false)));
                Memory after = Memory.now(true);
                long budget = (imageCacheMb + chatCacheMb) << 20;
                boolean memoryOk = after.heapAfterGc - before.heapAfterGc <= budget + (64L << 20);
                write(report, r, before, after, samples, budget, memoryOk);
                if (json) {
                    out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
                } else {
                    print(out, report, r);
                }
                out.flush();
                return r.unexpected() == 0 && memoryOk ? 0 : 1;
            }
        }
    }

    /** Time to first token through the service: cold (encode, then ask) and warm (the session again). */
    private double[][] peer(OspreyService service, RgbImage rgb, Mask region) {
        double[] cold = new double[pairs];
        double[] warm = new double[pairs];
        AskRequest ask = new AskRequest("peer", List.of(region), "Paint a detailed verbal picture of <region1>.",
                GenerationOptions.greedy(maxTokens));
        for (int i = 0; i < pairs; i++) {
            long t0 = System.nanoTime();
            long[] first = {0};
            ImageSession s = service.encode(rgb);
            service.ask(s, ask, (id, text) -> {
                if (first[0] == 0) {
                    first[0] = System.nanoTime();
                }
            }, null);
            cold[i] = (first[0] - t0) / 1e6;
            long t1 = System.nanoTime();
            long[] second = {0};
            service.ask(s, ask, (id, text) -> {
                if (second[0] == 0) {
                    second[0] = System.nanoTime();
                }
            }, null);
            warm[i] = (second[0] - t1) / 1e6;
        }
        return new double[][] {cold, warm};
    }

    /** Over HTTP with no other load: a new image's first question (as a data URL) and then its second. */
    private double[][] unloaded(URI base, byte[] png, RgbImage rgb, int variant) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        double[] first = new double[pairs];
        double[] second = new double[pairs];
        java.awt.image.BufferedImage bi = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
        for (int i = 0; i < pairs; i++) {
            java.awt.image.BufferedImage copy = new java.awt.image.BufferedImage(bi.getWidth(), bi.getHeight(),
                    java.awt.image.BufferedImage.TYPE_INT_RGB);
            copy.getGraphics().drawImage(bi, 0, 0, null);
            copy.setRGB(i, 1, 0x123456 + i + variant);
            java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
            javax.imageio.ImageIO.write(copy, "png", buf);
            String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(buf.toByteArray());
            first[i] = ttft(http, base, url, rgb);
            second[i] = ttft(http, base, url, rgb);
        }
        return new double[][] {first, second};
    }

    private double ttft(HttpClient http, URI base, String image, RgbImage rgb) throws IOException,
            InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("model", "osprey").put("stream", true).put("temperature", 0)
                .put("max_tokens", maxTokens);
        var content = body.putArray("messages").addObject().put("role", "user").putArray("content");
        content.addObject().put("type", "image_url").putObject("image_url").put("url", image);
        content.addObject().put("type", "text").put("text", "Paint a detailed verbal picture of <region1>.");
        body.putArray("regions").addObject().putArray("box").add(0).add(0).add(rgb.width() / 2).add(rgb.height() / 2);
        long t0 = System.nanoTime();
        HttpResponse<java.util.stream.Stream<String>> resp = http.send(HttpRequest.newBuilder(
                base.resolve("/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofLines());
        double[] at = {Double.NaN};
        resp.body().forEach(line -> {
            if (Double.isNaN(at[0]) && line.startsWith("data: ") && line.contains("\"content\":\"")
                    && !line.contains("\"content\":\"\"")) {
                at[0] = (System.nanoTime() - t0) / 1e6;
            }
        });
        if (resp.statusCode() != 200) {
            throw new IllegalStateException("unloaded question failed: " + resp.statusCode());
        }
        return Double.isNaN(at[0]) ? (System.nanoTime() - t0) / 1e6 : at[0];
    }

    /** The JVM's heap (after a full GC when asked) and the process's resident set. */
    record Memory(long heapAfterGc, long heapUsed, long rss) {
        static Memory now(boolean gc) {
            if (gc) {
                System.gc();
                System.gc();
            }
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            return new Memory(gc ? heap : -1, heap, readRss());
        }

        static long readRss() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            } catch (IOException | RuntimeException e) {
                return -1;
            }
            return -1;
        }
    }

    private void write(ObjectNode report, LoadTest.Report r, Memory before, Memory after, List<Memory> samples,
                       long budget, boolean memoryOk) {
        ObjectNode l = report.putObject("load");
        l.put("clients", r.clients());
        l.put("seconds", r.seconds());
        l.put("requests", r.requests());
        l.put("throughput_per_s", r.throughput());
        ObjectNode st = l.putObject("statuses");
        r.statuses().forEach((code, n) -> st.put(Integer.toString(code), n));
        l.put("unexpected_errors", r.unexpected());
        var samplesOut = l.putArray("unexpected_samples");
        r.unexpectedSamples().forEach(samplesOut::add);
        summary(l.putObject("ttft_shared_image_ms"), r.ttftShared());
        summary(l.putObject("ttft_new_image_first_ms"), r.ttftFirst());
        summary(l.putObject("ttft_new_image_second_ms"), r.ttftSecond());
        ObjectNode kinds = l.putObject("kinds");
        r.kinds().forEach((k, v) -> {
            ObjectNode o = kinds.putObject(k);
            summary(o.putObject("latency_ms"), v.latency());
            ObjectNode s = o.putObject("statuses");
            v.statuses().forEach((code, n) -> s.put(Integer.toString(code), n));
        });
        ObjectNode m = report.putObject("memory");
        m.put("heap_after_gc_before_mb", before.heapAfterGc / 1048576.0);
        m.put("heap_after_gc_after_mb", after.heapAfterGc / 1048576.0);
        m.put("heap_max_sampled_mb", samples.stream().mapToLong(Memory::heapUsed).max().orElse(0) / 1048576.0);
        m.put("rss_before_mb", before.rss / 1048576.0);
        m.put("rss_after_mb", after.rss / 1048576.0);
        m.put("rss_max_sampled_mb", samples.stream().mapToLong(Memory::rss).max().orElse(0) / 1048576.0);
        m.put("cache_budgets_mb", budget / 1048576.0);
        m.put("ok", memoryOk);
    }

    private static void summary(ObjectNode o, LoadTest.Summary s) {
        o.put("count", s.count());
        o.put("p50", s.p50());
        o.put("p99", s.p99());
        o.put("mean", s.mean());
    }

    private static void print(PrintWriter out, ObjectNode report, LoadTest.Report r) {
        var p = report.get("peer_in_process");
        var u = report.get("http_unloaded");
        var l = report.get("load");
        var m = report.get("memory");
        out.printf(Locale.ROOT, "peer (in-process service, no HTTP): TTFT cold %.1f ms (encode + prompt), warm %.1f ms"
                + "%n", p.get("ttft_cold_ms").asDouble(), p.get("ttft_warm_ms").asDouble());
        out.printf(Locale.ROOT, "HTTP, no other load: TTFT first question of a new image %.1f ms, second %.1f ms"
                + " (second/first %.2f)%n", u.get("ttft_first_question_ms").asDouble(),
                u.get("ttft_second_question_ms").asDouble(), u.get("second_over_first").asDouble());
        out.printf(Locale.ROOT, "load: %d clients, %.1f s, %d requests, %.1f requests/s; statuses %s; unexpected"
                + " errors %d%n", r.clients(), r.seconds(), r.requests(), r.throughput(), r.statuses(), r.unexpected());
        r.unexpectedSamples().forEach(s -> out.println("  error: " + s));
        out.printf(Locale.ROOT, "%-18s %8s %10s %10s  %s%n", "kind", "ok", "p50 ms", "p99 ms", "statuses");
        for (Map.Entry<String, LoadTest.Kind> e : r.kinds().entrySet()) {
            LoadTest.Summary s = e.getValue().latency();
            out.printf(Locale.ROOT, "%-18s %8d %10.1f %10.1f  %s%n", e.getKey(), s.count(), s.p50(), s.p99(),
                    e.getValue().statuses());
        }
        out.printf(Locale.ROOT, "TTFT under load: shared image p50 %.1f / p99 %.1f ms; new image first p50 %.1f /"
                + " p99 %.1f ms, second p50 %.1f / p99 %.1f ms%n", r.ttftShared().p50(), r.ttftShared().p99(),
                r.ttftFirst().p50(), r.ttftFirst().p99(), r.ttftSecond().p50(), r.ttftSecond().p99());
        out.printf(Locale.ROOT, "memory: heap after GC %.1f -> %.1f MB (sampled max %.1f MB), RSS %.1f -> %.1f MB"
                + " (sampled max %.1f MB); cache budgets %.0f MB; %s%n", m.get("heap_after_gc_before_mb").asDouble(),
                m.get("heap_after_gc_after_mb").asDouble(), m.get("heap_max_sampled_mb").asDouble(),
                m.get("rss_before_mb").asDouble(), m.get("rss_after_mb").asDouble(),
                m.get("rss_max_sampled_mb").asDouble(), m.get("cache_budgets_mb").asDouble(),
                m.get("ok").asBoolean() ? "no growth past the budgets" : "GREW past the budgets");
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length == 0 ? Double.NaN : s[(s.length - 1) / 2];
    }
}
