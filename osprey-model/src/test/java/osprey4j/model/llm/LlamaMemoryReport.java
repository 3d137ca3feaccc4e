package osprey4j.model.llm;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.Floats;

/**
 * Memory and speed of the decoder on a checkpoint of LLaMA-7B's dimensions (hidden 4096, 32 layers, 32 heads,
 * MLP 11008, vocab 32000; 6.74 G parameters, 13.5 GB of BF16): writes random BF16 weights as two-gigabyte
 * safetensors shards with an index into a temporary directory, opens it with {@code Checkpoints.open} and
 * {@code Llama.load}, runs twelve single-token decode steps (with the heap bytes each allocates) and one step
 * of 64 tokens, and prints the heap in use after a GC and the process's resident memory (VmRSS, split into
 * anonymous and file-backed pages) after loading and after the steps. The directory is deleted at the end.
 * Not a test (it needs 14 GB of disk and minutes); run after test-compile (osprey-core's classes first, so a
 * stale osprey-core jar in ~/.m2 does not shadow them):
 *
 * <pre>
 * ./mvnw -q test-compile -pl osprey-model -am
 * ./mvnw -q dependency:build-classpath -pl osprey-model -Dmdep.outputFile=/tmp/cp.txt
 * java --add-modules jdk.incubator.vector -Xmx2g \
 *      -cp osprey-model/target/test-classes:osprey-model/target/classes:osprey-core/target/classes:$(cat /tmp/cp.txt) \
 *      osprey4j.model.llm.LlamaMemoryReport [parent-dir-for-the-checkpoint]
 * </pre>
 *
 * With {@code -Dosprey.report.keep=DIR} the checkpoint is written to DIR on the first run, reused by later runs
 * and not deleted (remove DIR yourself when done).
 */
public final class LlamaMemoryReport {
    private static final int HIDDEN = 4096;
    private static final int LAYERS = 32;
    private static final int HEADS = 32;
    private static final int INTERMEDIATE = 11008;
    private static final int VOCAB = 32000;
    private static final long SHARD_BYTES = 2L << 30;
    /** Single-token steps timed; the first ones run while the JIT still compiles the kernels. */
    private static final int DECODE_STEPS = 12;
    /** The first decode step counted as settled (JIT done) in the median. */
    private static final int SETTLED_FROM = 4;
    /** Tokens of the prompt-sized step timed after the decode steps. */
    private static final int PREFILL = 64;
    /** A block of random BF16 values, written again and again: the content does not matter, only the size. */
    private static final int PATTERN_BYTES = 1 << 26;

    private LlamaMemoryReport() {
    }

    public static void main(String[] args) throws IOException {
        String keep = System.getProperty("osprey.report.keep");
        Path dir;
        if (keep != null) {
            dir = Files.createDirectories(Path.of(keep));
        } else {
            Path parent = Path.of(args.length > 0 ? args[0] : System.getProperty("java.io.tmpdir"));
            dir = Files.createTempDirectory(parent, "llama7b-bf16-");
        }
        try {
            long bytes;
            if (keep != null && Files.exists(dir.resolve("model.safetensors.index.json"))) {
                bytes = entries().stream().mapToLong(Entry::bytes).sum();
                System.out.printf("reusing the %.2f GB of BF16 weights kept in %s%n", bytes / 1e9, dir);
            } else {
                long t0 = System.nanoTime();
                bytes = writeCheckpoint(dir);
                System.out.printf("wrote %.2f GB of BF16 weights to %s in %.1f s%n", bytes / 1e9, dir,
                        (System.nanoTime() - t0) / 1e9);
            }
            print("before loading");
            try (Checkpoint ckpt = Checkpoints.open(dir)) {
                long t1 = System.nanoTime();
                Llama llama = Llama.load(ckpt, LlamaConfig.read(dir.resolve("config.json")));
                System.out.printf("Checkpoints.open + Llama.load: %.3f s%n", (System.nanoTime() - t1) / 1e9);
                print("after loading");
                try (KvCache cache = llama.newCache(PREFILL + DECODE_STEPS)) {
                    System.out.printf("KV cache for %d tokens: %.1f MiB (F32, %d KiB per token)%n", cache.capacity(),
                            cache.byteSize() / 1048576.0, cache.byteSize() / cache.capacity() / 1024);
                    int token = 1;
                    double[] seconds = new double[DECODE_STEPS];
                    for (int step = 0; step < DECODE_STEPS; step++) {
                        long allocated = allocatedBytes();
                        long t2 = System.nanoTime();
                        float[] logits = llama.forward(llama.embed(new int[] {token}), cache);
                        double s = (System.nanoTime() - t2) / 1e9;
                        seconds[step] = s;
                        token = argmax(logits);
                        System.out.printf("decode step %d (position %d): %.2f s, %.1f GB/s of weights read, "
                                + "%.1f MiB allocated on the heap%s%n", step, cache.length() - 1, s, bytes / 1e9 / s,
                                (allocatedBytes() - allocated) / 1048576.0,
                                step == 0 ? " (first step: page faults and JIT compilation included)" : "");
                    }
                    double[] settled = java.util.Arrays.copyOfRange(seconds, SETTLED_FROM, DECODE_STEPS);
                    java.util.Arrays.sort(settled);
                    double median = (settled[(settled.length - 1) / 2] + settled[settled.length / 2]) / 2;
                    System.out.printf("median of decode steps %d-%d: %.0f ms per token, %.1f GB/s of weights read%n",
                            SETTLED_FROM, DECODE_STEPS - 1, median * 1e3, bytes / 1e9 / median);
                    print("after the decode steps");
                    int[] ids = new int[PREFILL];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = 100 + 37 * i % 31000;
                    }
                    long t3 = System.nanoTime();
                    llama.forward(llama.embed(ids), cache);
                    double s = (System.nanoTime() - t3) / 1e9;
                    // every weight but the embedding and the output head (applied to the last token only) is used per token
                    double flops = 2.0 * PREFILL * (bytes / 2 - 2L * VOCAB * HIDDEN);
                    System.out.printf("prefill of %d tokens after them: %.1f s, %.1f GFLOP/s in the projections%n",
                            PREFILL, s, flops / s / 1e9);
                    print("after the prefill");
                }
            }
        } finally {
            if (keep == null) {
                deleteRecursively(dir);
            }
        }
    }

    /** Bytes allocated on the heap so far by all threads (the compute pool's included). */
    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getTotalThreadAllocatedBytes();
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static void print(String when) {
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        Map<String, String> status = procStatus();
        System.out.printf("%-24s heap used after GC %.1f MiB; VmRSS %s (RssAnon %s, RssFile %s)%n", when + ":",
                heap / 1048576.0, status.get("VmRSS"), status.get("RssAnon"), status.get("RssFile"));
    }

    private static Map<String, String> procStatus() {
        Map<String, String> out = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    out.put(line.substring(0, colon), line.substring(colon + 1).trim());
                }
            }
        } catch (IOException e) {
            out.put("VmRSS", "unknown (" + e.getMessage() + ")");
        }
        return out;
    }

    private record Entry(String name, long[] shape) {
        long bytes() {
            long n = 2;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** The Hugging Face key list of LlamaForCausalLM at 7B dimensions, in the order the model uses them. */
    private static List<Entry> entries() {
        List<Entry> e = new ArrayList<>();
        e.add(new Entry("model.embed_tokens.weight", new long[] {VOCAB, HIDDEN}));
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            e.add(new Entry(p + "input_layernorm.weight", new long[] {HIDDEN}));
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "o_proj"}) {
                e.add(new Entry(p + "self_attn." + proj + ".weight", new long[] {HIDDEN, HIDDEN}));
            }
            e.add(new Entry(p + "post_attention_layernorm.weight", new long[] {HIDDEN}));
            e.add(new Entry(p + "mlp.gate_proj.weight", new long[] {INTERMEDIATE, HIDDEN}));
            e.add(new Entry(p + "mlp.up_proj.weight", new long[] {INTERMEDIATE, HIDDEN}));
            e.add(new Entry(p + "mlp.down_proj.weight", new long[] {HIDDEN, INTERMEDIATE}));
        }
        e.add(new Entry("model.norm.weight", new long[] {HIDDEN}));
        e.add(new Entry("lm_head.weight", new long[] {VOCAB, HIDDEN}));
        return e;
    }

    /** Writes config.json, the shards and model.safetensors.index.json; returns the bytes of weights. */
    private static long writeCheckpoint(Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": %d,
                 "intermediate_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                 "num_key_value_heads": %d, "rms_norm_eps": 1e-05, "max_position_embeddings": 4096,
                 "vocab_size": %d, "tie_word_embeddings": false, "rope_scaling": null, "torch_dtype": "bfloat16",
                 "bos_token_id": 1, "eos_token_id": 2}
                """.formatted(HIDDEN, INTERMEDIATE, LAYERS, HEADS, HEADS, VOCAB));
        List<List<Entry>> shards = new ArrayList<>();
        List<Entry> current = new ArrayList<>();
        long currentBytes = 0;
        for (Entry e : entries()) {
            if (currentBytes + e.bytes() > SHARD_BYTES && !current.isEmpty()) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(e);
            currentBytes += e.bytes();
        }
        shards.add(current);

        ByteBuffer pattern = randomBf16(PATTERN_BYTES, 0.02f);
        ByteBuffer ones = ByteBuffer.allocateDirect(HIDDEN * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < HIDDEN; i++) {
            ones.putShort(Floats.floatToBf16(1f));
        }
        StringBuilder weightMap = new StringBuilder();
        long total = 0;
        for (int s = 0; s < shards.size(); s++) {
            String file = "model-%05d-of-%05d.safetensors".formatted(s + 1, shards.size());
            StringBuilder header = new StringBuilder("{");
            long offset = 0;
            for (Entry e : shards.get(s)) {
                header.append(header.length() > 1 ? "," : "").append('"').append(e.name)
                        .append("\":{\"dtype\":\"BF16\",\"shape\":").append(java.util.Arrays.toString(e.shape))
                        .append(",\"data_offsets\":[").append(offset).append(',').append(offset + e.bytes()).append("]}");
                offset += e.bytes();
                weightMap.append(weightMap.isEmpty() ? "" : ",\n").append("  \"").append(e.name).append("\": \"")
                        .append(file).append('"');
            }
            header.append('}');
            while (header.length() % 8 != 0) {
                header.append(' ');
            }
            byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
            try (FileChannel ch = FileChannel.open(dir.resolve(file), StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, json.length));
                writeFully(ch, ByteBuffer.wrap(json));
                for (Entry e : shards.get(s)) {
                    if (e.shape.length == 1) {
                        writeFully(ch, ones.duplicate().clear());
                        continue;
                    }
                    for (long left = e.bytes(); left > 0; ) {
                        int n = (int) Math.min(left, PATTERN_BYTES);
                        writeFully(ch, pattern.duplicate().clear().limit(n));
                        left -= n;
                    }
                }
            }
            total += offset;
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\n \"metadata\": {\"total_size\": " + total
                + "},\n \"weight_map\": {\n" + weightMap + "\n }\n}\n");
        return total;
    }

    /** BF16 values uniform in [-scale, scale] from a xorshift generator. */
    private static ByteBuffer randomBf16(int bytes, float scale) {
        ByteBuffer b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long x = 0x9E3779B97F4A7C15L;
        while (b.hasRemaining()) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            float u = (x >>> 40) / (float) (1 << 24) * 2f - 1f;
            b.putShort(Floats.floatToBf16(u * scale));
        }
        return b.flip();
    }

    private static void writeFully(FileChannel ch, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            ch.write(buffer);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
