package osprey4j.train.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.io.FileTrees;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Floats;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.llm.LlamaConfig;
import osprey4j.train.tokenizer.SentencePieceBpeTrainer;
import osprey4j.train.tokenizer.TrainerOptions;

/**
 * A plain LLaMA with seeded random BF16 weights, written in the Hugging Face layout ({@code config.json} of a
 * {@code LlamaForCausalLM}, one {@code model.safetensors}, a SentencePiece {@code tokenizer.model} of exactly
 * {@code vocab_size} pieces), for benchmarks of the decoder against other runtimes that read that layout.
 *
 * <p>The weights are made tensor by tensor as the writer reaches them ({@link SafetensorsWriter#writeDeferred}),
 * so a 7B model (13.5 GB in BF16) never is in memory as a whole: at most one tensor is (the embedding, 262 MB
 * for LLaMA-7B). Each row comes from its own generator seeded by the seed, the tensor and the row, so the bytes
 * do not depend on the thread count. Linear weights are uniform in +-1/sqrt(fan-in), the embedding in +-1 and
 * norm weights around 1, so activations stay of order 1.
 *
 * <p>The tokenizer is synthetic: {@code <unk> <s> </s>}, the 256 byte pieces, then made-up pieces
 * ({@code ▁a}, {@code ▁b}, ... {@code ▁aa}, ...) with falling scores up to the vocabulary size. It is a valid
 * SentencePiece BPE model (converters such as llama.cpp's read its pieces); the benchmarks feed token ids and
 * never encode text with it.
 */
public final class RandomLlama {
    /** File recording what a directory was generated from, so that a matching one is reused. */
    public static final String STAMP = "osprey-random-llama.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONTROL_AND_BYTES = 3 + 256;

    private RandomLlama() {
    }

    /** LLaMA-7B's dimensions (LLaMA 1 / Vicuna 7B) with {@code layers} decoder layers (32 for the real one). */
    public static LlamaConfig llama7b(int layers) {
        return new LlamaConfig(4096, 11008, layers, 32, 32, 1e-6f, LlamaConfig.DEFAULT_ROPE_THETA, 2048, 32000,
                false, 1, 2);
    }

    /** The {@code config.json} of a Hugging Face {@code LlamaForCausalLM} with these dimensions, BF16. */
    public static ObjectNode configJson(LlamaConfig c) {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("architectures").add("LlamaForCausalLM");
        root.put("model_type", "llama");
        root.put("hidden_act", "silu");
        root.put("hidden_size", c.hiddenSize());
        root.put("intermediate_size", c.intermediateSize());
        root.put("num_hidden_layers", c.numHiddenLayers());
        root.put("num_attention_heads", c.numAttentionHeads());
        root.put("num_key_value_heads", c.numKeyValueHeads());
        root.put("max_position_embeddings", c.maxPositionEmbeddings());
        root.put("rms_norm_eps", c.rmsNormEps());
        root.put("rope_theta", c.ropeTheta());
        root.putNull("rope_scaling");
        root.put("vocab_size", c.vocabSize());
        root.put("tie_word_embeddings", c.tieWordEmbeddings());
        root.put("bos_token_id", c.bosTokenId());
        root.put("eos_token_id", c.eosTokenId());
        root.put("pad_token_id", 0);
        root.put("initializer_range", 0.02);
        root.put("torch_dtype", "bfloat16");
        root.put("use_cache", true);
        root.put("transformers_version", "4.31.0");
        return root;
    }

    /** Every tensor of the model (Hugging Face names), with its shape, in the order of the state dict. */
    public static Map<String, long[]> tensorShapes(LlamaConfig c) {
        long h = c.hiddenSize();
        long kv = c.kvDim();
        long f = c.intermediateSize();
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            out.put(p + "self_attn.q_proj.weight", new long[] {h, h});
            out.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            out.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            out.put(p + "self_attn.o_proj.weight", new long[] {h, h});
            out.put(p + "mlp.gate_proj.weight", new long[] {f, h});
            out.put(p + "mlp.up_proj.weight", new long[] {f, h});
            out.put(p + "mlp.down_proj.weight", new long[] {h, f});
            out.put(p + "input_layernorm.weight", new long[] {h});
            out.put(p + "post_attention_layernorm.weight", new long[] {h});
        }
        out.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings()) {
            out.put("lm_head.weight", new long[] {c.vocabSize(), h});
        }
        return out;
    }

    /**
     * True when {@code dir} holds a model this class wrote for exactly {@code config} and {@code seed} (its stamp,
     * config and weights file are there): such a directory is complete, since it is renamed into place whole.
     */
    public static boolean matches(Path dir, LlamaConfig config, long seed) {
        Path stamp = dir.resolve(STAMP);
        if (!Files.isRegularFile(stamp) || !Files.isRegularFile(dir.resolve("model.safetensors"))
                || !Files.isRegularFile(dir.resolve("tokenizer.model"))) {
            return false;
        }
        try {
            return Files.readString(stamp).equals(JSON.writeValueAsString(stampJson(config, seed)));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Writes the model into the new directory {@code dir} (built under a temporary sibling name and renamed
     * whole; an existing {@code dir} is replaced only if it is empty).
     */
    public static void write(Path dir, LlamaConfig config, long seed) throws IOException {
        if (config.vocabSize() <= CONTROL_AND_BYTES) {
            throw new IllegalArgumentException("vocab_size must exceed " + CONTROL_AND_BYTES
                    + " (control and byte pieces), got " + config.vocabSize());
        }
        Path out = dir.toAbsolutePath().normalize();
        Files.createDirectories(out.getParent());
        Path tmp = Files.createTempDirectory(out.getParent(), "." + out.getFileName() + ".tmp");
        try {
            Files.writeString(tmp.resolve("config.json"),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(configJson(config)));
            syntheticTokenizer(config.vocabSize()).write(tmp.resolve("tokenizer.model"));
            Map<String, SafetensorsWriter.Deferred> tensors = new LinkedHashMap<>();
            long index = 0;
            for (Map.Entry<String, long[]> e : tensorShapes(config).entrySet()) {
                String name = e.getKey();
                long[] shape = e.getValue();
                long tensorSeed = seed * 1_000_003L + index++;
                // Filled on the compute pool's threads, so in heap memory (the writer's arena is confined to
                // its thread); the array is garbage once written.
                tensors.put(name, new SafetensorsWriter.Deferred(DType.BF16, shape, arena -> {
                    MemorySegment seg = MemorySegment.ofArray(new short[Math.toIntExact(Tensor.numel(shape))]);
                    fill(name, shape, seg, tensorSeed);
                    return Tensor.of(DType.BF16, seg, shape);
                }));
            }
            SafetensorsWriter.writeDeferred(tmp.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            Files.writeString(tmp.resolve(STAMP), JSON.writeValueAsString(stampJson(config, seed)));
            AtomicFiles.publishDirectory(tmp, out);
        } catch (IOException | RuntimeException e) {
            FileTrees.deleteQuietly(tmp);
            throw e;
        }
    }

    /** A tokenizer of exactly {@code vocab} pieces: control pieces, the 256 byte pieces, then made-up ones. */
    public static SentencePieceBpeTrainer.Model syntheticTokenizer(int vocab) {
        if (vocab <= CONTROL_AND_BYTES) {
            throw new IllegalArgumentException("a synthetic tokenizer needs more than " + CONTROL_AND_BYTES
                    + " pieces, got " + vocab);
        }
        List<SentencePieceBpeTrainer.Piece> pieces = new ArrayList<>(vocab);
        pieces.add(new SentencePieceBpeTrainer.Piece("<unk>", 0f, SentencePieceBpeTrainer.Type.UNKNOWN));
        pieces.add(new SentencePieceBpeTrainer.Piece("<s>", 0f, SentencePieceBpeTrainer.Type.CONTROL));
        pieces.add(new SentencePieceBpeTrainer.Piece("</s>", 0f, SentencePieceBpeTrainer.Type.CONTROL));
        for (int b = 0; b < 256; b++) {
            pieces.add(new SentencePieceBpeTrainer.Piece(String.format("<0x%02X>", b), 0f,
                    SentencePieceBpeTrainer.Type.BYTE));
        }
        for (int i = 0; pieces.size() < vocab; i++) {
            pieces.add(new SentencePieceBpeTrainer.Piece("\u2581" + letters(i), -1f - i,
                    SentencePieceBpeTrainer.Type.NORMAL));
        }
        return new SentencePieceBpeTrainer.Model(pieces, TrainerOptions.llama(vocab), 0, 0, 0, vocab - CONTROL_AND_BYTES);
    }

    /** Bijective base 26: 0 a, 25 z, 26 aa, ... */
    private static String letters(int i) {
        StringBuilder sb = new StringBuilder();
        for (int n = i + 1; n > 0; n = (n - 1) / 26) {
            sb.append((char) ('a' + (n - 1) % 26));
        }
        return sb.reverse().toString();
    }

    private static ObjectNode stampJson(LlamaConfig config, long seed) {
        ObjectNode s = JSON.createObjectNode();
        s.put("generator", "osprey4j RandomLlama 1");
        s.put("seed", seed);
        s.set("config", configJson(config));
        return s;
    }

    /** Fills a BF16 tensor row by row, each row from its own generator, on the compute pool. */
    private static void fill(String name, long[] shape, MemorySegment seg, long tensorSeed) {
        boolean norm = name.endsWith("norm.weight");
        int rows = shape.length == 1 ? 1 : (int) shape[0];
        long cols = shape.length == 1 ? shape[0] : shape[1];
        double bound = norm ? 0.25 : name.equals("model.embed_tokens.weight") ? 1.0 : 1.0 / Math.sqrt(cols);
        double offset = norm ? 1.0 : 0.0;
        ComputePool.parallelFor(rows, 16, (from, to) -> {
            for (int r = from; r < to; r++) {
                SplittableRandom rnd = new SplittableRandom(tensorSeed * 0x9E3779B97F4A7C15L + r);
                long base = (long) r * cols;
                for (long c = 0; c < cols; c += 2) {
                    long bits = rnd.nextLong();
                    float a = (float) (offset + bound * ((bits >>> 40) * 0x1p-23 - 1));
                    seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, base + c, Floats.floatToBf16(a));
                    if (c + 1 < cols) {
                        float b = (float) (offset + bound * (((bits >>> 8) & 0xFFFFFF) * 0x1p-23 - 1));
                        seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, base + c + 1, Floats.floatToBf16(b));
                    }
                }
            }
        });
    }
}
