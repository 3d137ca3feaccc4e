package osprey4j.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import osprey4j.core.tensor.DType;

/**
 * llama.cpp as the peer of {@code osprey bench decode|prefill}: the same Hugging Face weights converted to GGUF by
 * its {@code convert_hf_to_gguf.py} (BF16; run through {@code llama_cpp_convert.py}, which stands in for what
 * Debian's Python lacks), quantised by {@code llama-quantize --pure} (every linear weight and the output head in
 * the type, as osprey's quantised copy has them; the embedding too, of which a token reads one row), and timed by
 * {@code llama-bench -o json} with the same threads, lengths and repetitions. GGUF files are kept in
 * {@code ggufDir} and reused. Failures are reported per type, not thrown.
 */
final class LlamaCppPeer {
    private final Path dir;
    private final String python;
    private final Path ggufDir;
    private final Path hfModel;
    private final int threads;
    private final Consumer<String> progress;
    private String reason;
    private String build;

    LlamaCppPeer(Path dir, String python, Path ggufDir, Path hfModel, int threads, Consumer<String> progress) {
        this.dir = dir.toAbsolutePath().normalize();
        this.python = python;
        this.ggufDir = ggufDir;
        this.hfModel = hfModel;
        this.threads = threads;
        this.progress = progress;
        if (!Files.isRegularFile(this.dir.resolve("convert_hf_to_gguf.py"))) {
            reason = this.dir + " has no convert_hf_to_gguf.py (not a llama.cpp source tree)";
        } else if (!Files.isExecutable(tool("llama-bench")) || !Files.isExecutable(tool("llama-quantize"))) {
            reason = "no " + tool("llama-bench") + " or llama-quantize (build llama.cpp with cmake first)";
        } else if (!Files.isExecutable(Path.of(python))) {
            reason = python + " not found (needed by llama.cpp's converter)";
        }
    }

    private Path tool(String name) {
        return dir.resolve("build").resolve("bin").resolve(name);
    }

    ObjectNode info(ObjectMapper mapper) {
        ObjectNode n = mapper.createObjectNode();
        n.put("available", reason == null);
        n.put("dir", dir.toString());
        if (build != null) {
            n.put("build", build);
        }
        if (reason != null) {
            n.put("reason", reason);
        }
        return n;
    }

    /**
     * llama-bench's result for one type (its JSON object: avg_ts, stddev_ts, samples_ts...), or {"error": ...};
     * null when the peer is not available at all.
     */
    JsonNode bench(DType type, BenchLlm.Mode mode, int length, int reps, ObjectMapper mapper) {
        if (reason != null) {
            return null;
        }
        try {
            Path gguf = gguf(type);
            List<String> cmd = new ArrayList<>(List.of(tool("llama-bench").toString(), "-m", gguf.toString(),
                    "-t", Integer.toString(threads), "-r", Integer.toString(reps), "-o", "json"));
            if (mode == BenchLlm.Mode.DECODE) {
                cmd.addAll(List.of("-p", "0", "-n", Integer.toString(length)));
            } else {
                cmd.addAll(List.of("-p", Integer.toString(length), "-n", "0"));
            }
            String stdout = runTool(cmd, ggufDir.resolve("llama-bench.log"));
            int start = stdout.indexOf('[');
            JsonNode all = mapper.readTree(start < 0 ? stdout : stdout.substring(start));
            if (all == null || !all.isArray() || all.isEmpty() || !all.get(0).has("avg_ts")) {
                return mapper.createObjectNode().put("error", "llama-bench printed no result");
            }
            JsonNode r = all.get(0);
            if (r.has("build_commit")) {
                build = r.get("build_commit").asText() + (r.has("build_number") ? " (" + r.get("build_number").asText()
                        + ")" : "");
            }
            ObjectNode o = mapper.createObjectNode();
            for (String k : new String[] {"avg_ts", "stddev_ts", "samples_ts", "n_prompt", "n_gen", "n_threads",
                    "model_type", "model_size", "model_n_params", "build_commit", "cpu_info"}) {
                if (r.has(k)) {
                    o.set(k, r.get(k));
                }
            }
            o.put("model_file", gguf.toString());
            return o;
        } catch (IOException | RuntimeException e) {
            return mapper.createObjectNode().put("error", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return mapper.createObjectNode().put("error", "interrupted");
        }
    }

    /** The GGUF file of a type, converted or quantised (then renamed into place) unless it is there. */
    private Path gguf(DType type) throws IOException, InterruptedException {
        Files.createDirectories(ggufDir);
        String name = type.name().toLowerCase(Locale.ROOT);
        Path file = ggufDir.resolve(name + ".gguf");
        if (Files.isRegularFile(file)) {
            return file;
        }
        Path tmp = ggufDir.resolve("." + name + ".gguf.tmp");
        Files.deleteIfExists(tmp);
        if (type == DType.BF16) {
            progress.accept("converting to GGUF with llama.cpp's convert_hf_to_gguf.py (" + file + ")...");
            String script;
            try (InputStream in = LlamaCppPeer.class.getResourceAsStream("llama_cpp_convert.py")) {
                if (in == null) {
                    throw new IOException("llama_cpp_convert.py missing from the application's resources");
                }
                script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            runTool(List.of(python, "-c", script, dir.toString(), hfModel.toAbsolutePath().toString(), tmp.toString(),
                    "bf16"), ggufDir.resolve("convert.log"));
        } else {
            Path source = gguf(DType.BF16);
            progress.accept("quantising the GGUF to " + type + " with llama-quantize --pure (" + file + ")...");
            runTool(List.of(tool("llama-quantize").toString(), "--pure", source.toString(), tmp.toString(),
                    type.name(), Integer.toString(threads)), ggufDir.resolve("quantize-" + name + ".log"));
        }
        if (!Files.isRegularFile(tmp)) {
            throw new IOException("no " + tmp + " was written");
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    /** Runs a tool, stderr to {@code log}; returns stdout, or throws with the log's last line on failure. */
    private static String runTool(List<String> cmd, Path log) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(log.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        if (rc != 0) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
            throw new IOException(Path.of(cmd.get(0)).getFileName() + " failed (exit " + rc + "): " + last
                    + " (see " + log + ")");
        }
        return stdout;
    }
}
