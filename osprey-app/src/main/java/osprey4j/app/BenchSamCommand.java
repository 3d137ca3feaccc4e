package osprey4j.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.sam.RandomSam;
import osprey4j.model.sam.Sam;
import osprey4j.model.sam.SamImageEncoder;
import osprey4j.model.sam.SamMaskDecoder;
import osprey4j.model.sam.SamPrompt;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code osprey bench sam}: SAM's image encoder on a 1024 x 1024 input and one click (prompt encoder, mask decoder,
 * post-processing to 1024 x 1024) with random weights of the official shapes, next to the official segment-anything
 * code on PyTorch (CPU, F32, same threads) in the same run.
 */
@Command(name = "sam", mixinStandardHelpOptions = true,
        description = {
                "Times SAM (random weights of the official shapes; ViT-B by default) on the CPU: the image encoder on"
                        + " a 1024x1024 input (first run, which includes JIT compilation, and the warm median) and one"
                        + " click after the encode (prompt encoder + mask decoder + upscaling to 1024x1024, multimask;"
                        + " warm median).",
                "Next to it, in the same run and with the same threads, the official segment-anything code on"
                        + " PyTorch (F32, eval, no_grad): --reference DIR names a checkout of"
                        + " facebookresearch/segment-anything (or an installed segment_anything is used). ratio ="
                        + " PyTorch time / osprey time: above 1, osprey is faster."})
final class BenchSamCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME", defaultValue = "vit_b",
            description = "vit_b, vit_l or vit_h (default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--dtype", paramLabel = "DTYPE", defaultValue = "f32",
            description = "Weight dtype: f32 (the official checkpoints'), f16 or bf16 (default ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "3", description = "Warm encoder runs after the first"
            + " (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--clicks", paramLabel = "N", defaultValue = "10", description = "Warm clicks after the first"
            + " (default ${DEFAULT-VALUE}).")
    int clicks;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for both sides (default: the compute pool's, i.e. all cores or -Dosprey.threads).")
    Integer threads;

    @Option(names = "--reference", paramLabel = "DIR", description = "A checkout of facebookresearch/segment-anything"
            + " for the PyTorch peer.")
    Path reference;

    @Option(names = "--python", paramLabel = "PATH", defaultValue = "/usr/bin/python3",
            description = "Python with torch for the peer (default ${DEFAULT-VALUE}).")
    String python;

    @Option(names = "--no-peer", description = "Do not run the PyTorch peer.")
    boolean noPeer;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        RandomSam.Shape shape;
        try {
            shape = RandomSam.Shape.of(model);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--model " + model + ": expected vit_b, vit_l or vit_h");
        }
        DType d = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> throw new UsageException("--dtype " + dtype + ": expected f32, f16 or bf16");
        };
        if (runs < 1 || clicks < 1) {
            throw new UsageException("--runs and --clicks must be at least 1");
        }
        if (reference != null && !Files.isDirectory(reference.resolve("segment_anything"))) {
            throw new UsageException("--reference " + reference + ": no segment_anything package in it (expected a"
                    + " checkout of facebookresearch/segment-anything)");
        }
        int nThreads = BenchThreads.configure(threads);
        PrintWriter err = spec.commandLine().getErr();
        if (!json) {
            err.println("timing SAM " + model + " with random " + d + " weights (1 + " + runs + " encodes, 1 + " + clicks
                    + " clicks)...");
            err.flush();
        }
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode ours = mapper.createObjectNode();
        try (Checkpoint weights = RandomSam.checkpoint(shape, d, 7)) {
            Sam sam = Sam.load(weights, SamMaskDecoder.DEFAULT_HEADS);
            int size = sam.imageSize();
            Tensor pixels = randomPixels(size);
            SamImageEncoder.Timings warmSteps = new SamImageEncoder.Timings();
            long t0 = System.nanoTime();
            Tensor features = sam.imageEncoder().forward(pixels);
            double first = (System.nanoTime() - t0) / 1e9;
            double[] warm = new double[runs];
            for (int r = 0; r < runs; r++) {
                long s = System.nanoTime();
                features = sam.imageEncoder().forward(pixels, warmSteps);
                warm[r] = (System.nanoTime() - s) / 1e9;
            }
            Sam.Embedding emb = new Sam.Embedding(osprey4j.core.kernels.ChannelLayout.toChannelsLast(features), size,
                    size, size, size);
            double[] click = new double[clicks + 1];
            for (int r = 0; r <= clicks; r++) {
                long s = System.nanoTime();
                sam.predict(emb, SamPrompt.click(size / 2.0, size / 2.0, 1), true);
                click[r] = (System.nanoTime() - s) / 1e6;
            }
            ours.put("encoder_first_s", first);
            ours.put("encoder_median_s", BenchVisionCommand.median(warm));
            ours.put("click_first_ms", click[0]);
            ours.put("click_median_ms", BenchVisionCommand.median(Arrays.copyOfRange(click, 1, click.length)));
            ObjectNode steps = ours.putObject("encoder_warm_step_s");
            for (SamImageEncoder.Op op : SamImageEncoder.Op.values()) {
                steps.put(op.name().toLowerCase(Locale.ROOT), warmSteps.seconds(op) / runs);
            }
        }
        ObjectNode peer = mapper.createObjectNode();
        if (noPeer) {
            peer.put("available", false).put("reason", "not run (--no-peer)");
        } else {
            if (!json) {
                err.printf(Locale.ROOT, "osprey: encoder first run %.2f s, warm median %.2f s; one click %.1f ms."
                                + " Running the official code on PyTorch (%s)...%n", ours.get("encoder_first_s").asDouble(),
                        ours.get("encoder_median_s").asDouble(), ours.get("click_median_ms").asDouble(), python);
                err.flush();
            }
            runPeer(mapper, nThreads, peer);
        }
        ObjectNode root = mapper.createObjectNode();
        root.put("model", model).put("weights", d.name()).put("threads", nThreads);
        root.set("osprey", ours);
        root.set("peer", peer);
        if (peer.has("encoder_median_s")) {
            root.put("encoder_ratio", peer.get("encoder_median_s").asDouble() / ours.get("encoder_median_s").asDouble());
            root.put("click_ratio", peer.get("click_median_ms").asDouble() / ours.get("click_median_ms").asDouble());
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } else {
            printTable(out, root);
        }
        out.flush();
        return 0;
    }


    private static Tensor randomPixels(int size) {
        SplittableRandom rng = new SplittableRandom(11);
        float[] v = new float[3 * size * size];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (4 * rng.nextDouble() - 2);
        }
        return Tensor.wrap(v, 3, size, size);
    }

    private void runPeer(ObjectMapper mapper, int nThreads, ObjectNode peer) throws IOException, InterruptedException {
        peer.put("python", python);
        if (!Files.isExecutable(Path.of(python))) {
            peer.put("available", false).put("reason", python + " not found");
            return;
        }
        ObjectNode cfg = mapper.createObjectNode();
        cfg.put("threads", nThreads).put("runs", runs).put("clicks", clicks).put("model", model)
                .put("source", reference == null ? "" : reference.toAbsolutePath().toString());
        ProcessBuilder pb = new ProcessBuilder(python, "-", mapper.writeValueAsString(cfg));
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(nThreads));
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process proc = pb.start();
        try (OutputStream stdin = proc.getOutputStream();
             InputStream script = BenchSamCommand.class.getResourceAsStream("bench_sam_peer.py")) {
            if (script == null) {
                throw new IOException("bench_sam_peer.py missing from the application's resources");
            }
            script.transferTo(stdin);
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                JsonNode node;
                try {
                    node = mapper.readTree(line);
                } catch (IOException e) {
                    continue;
                }
                if (!node.isObject()) {
                    continue;
                }
                node.fields().forEachRemaining(e -> peer.set(e.getKey(), e.getValue()));
            }
        }
        int code = proc.waitFor();
        if (!peer.has("available")) {
            peer.put("available", false).put("reason", python + " exited with status " + code + " and no output");
        }
    }

    private static void printTable(PrintWriter out, ObjectNode root) {
        JsonNode ours = root.get("osprey"), peer = root.get("peer");
        out.printf(Locale.ROOT, "osprey bench sam: %s, random %s weights, 1024x1024 input, %d threads%n",
                root.get("model").asText(), root.get("weights").asText(), root.get("threads").asInt());
        boolean hasPeer = peer.has("encoder_median_s");
        if (hasPeer) {
            out.printf(Locale.ROOT, "peer: official segment-anything on PyTorch %s (%d threads), F32, eval + no_grad%n",
                    peer.path("torch").asText(), peer.path("threads").asInt());
        } else {
            out.printf(Locale.ROOT, "peer: not available (%s); our figures only%n",
                    peer.has("error") ? peer.get("error").asText() : peer.path("reason").asText("unknown"));
        }
        out.println();
        out.printf(Locale.ROOT, "%-26s %12s %12s %8s%n", "", "osprey", "PyTorch", "ratio");
        out.printf(Locale.ROOT, "%-26s %12.2f %12s %8s%n", "encoder first run s", ours.get("encoder_first_s").asDouble(),
                hasPeer ? String.format(Locale.ROOT, "%.2f", peer.get("encoder_first_s").asDouble()) : "-", "");
        out.printf(Locale.ROOT, "%-26s %12.2f %12s %8s%n", "encoder warm median s", ours.get("encoder_median_s").asDouble(),
                hasPeer ? String.format(Locale.ROOT, "%.2f", peer.get("encoder_median_s").asDouble()) : "-",
                hasPeer ? String.format(Locale.ROOT, "%.2fx", root.get("encoder_ratio").asDouble()) : "-");
        out.printf(Locale.ROOT, "%-26s %12.1f %12s %8s%n", "one click warm median ms", ours.get("click_median_ms").asDouble(),
                hasPeer ? String.format(Locale.ROOT, "%.1f", peer.get("click_median_ms").asDouble()) : "-",
                hasPeer ? String.format(Locale.ROOT, "%.2fx", root.get("click_ratio").asDouble()) : "-");
        out.println();
        StringBuilder sb = new StringBuilder();
        double total = 0;
        for (var it = ours.get("encoder_warm_step_s").fields(); it.hasNext(); ) {
            total += it.next().getValue().asDouble();
        }
        for (var it = ours.get("encoder_warm_step_s").fields(); it.hasNext(); ) {
            var e = it.next();
            sb.append(String.format(Locale.ROOT, " %s %.3f (%.0f%%)", e.getKey(), e.getValue().asDouble(),
                    total > 0 ? 100 * e.getValue().asDouble() / total : 0));
        }
        out.println("encoder warm seconds per step:" + sb);
        out.println("ratio = PyTorch / osprey (above 1: osprey faster). A click: prompt encoder, mask decoder and"
                + " upscaling of the three masks to 1024x1024.");
    }
}
