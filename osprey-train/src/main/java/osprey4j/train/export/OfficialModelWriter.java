package osprey4j.train.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.io.FileTrees;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.llm.LlamaConfig;

/**
 * Writes a trained Osprey as a model directory in the official layout, the one {@code save_pretrained} gives
 * and {@code Osprey.load} (and the reference's loader) read:
 *
 * <pre>
 * config.json                         LLaMA keys + the multimodal keys, as OspreyLlamaForCausalLM writes them
 * generation_config.json
 * model.safetensors                   every Osprey weight (LLM, vision tower copy, projector, mask extractor)
 * open_clip_pytorch_model.bin         the tower as open_clip's CLIP file (visual.*), named by mm_vision_tower, in
 *                                     torch.save format: the reference reads it with torch.load
 * tokenizer.model, tokenizer_config.json, special_tokens_map.json, added_tokens.json
 * </pre>
 *
 * <p><b>The gamma quirk.</b> transformers 4.31 renames every key containing {@code gamma} while loading, so the
 * reference never reads the ConvNeXt layer-scale gammas from the Osprey weights: they come from the CLIP file
 * ({@code mm_vision_tower}). The CLIP file is therefore written from the same tensors as the tower copy, gammas
 * included, and both files agree.
 *
 * <p>The directory appears whole or not at all: it is written as a hidden sibling and renamed into place (an
 * existing directory at the target is moved aside first and removed after the rename).
 */
public final class OfficialModelWriter {
    /** The CLIP file's name inside the directory; {@code mm_vision_tower} names it relative to the directory. */
    public static final String CLIP_FILE = "open_clip_pytorch_model.bin";
    public static final String WEIGHTS_FILE = "model.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Python's {@code json.dumps(indent=2)}, which transformers uses: {@code "key": value}, arrays one item a line. */
    private static final DefaultPrettyPrinter PYTHON_STYLE = pythonStyle();

    /**
     * What goes into the directory besides the weights.
     *
     * @param tokenizerModel the SentencePiece {@code tokenizer.model} the LLM was trained with
     * @param addedTokens    tokens added after the SentencePiece vocabulary, in id order ({@code <mask>},
     *                       {@code <pos>} for Osprey); their ids follow the SentencePiece pieces
     * @param modelMaxLength {@code model_max_length} of the tokenizer (2048 in the reference's training)
     * @param dtype          F32 or BF16: the stored dtype of every floating tensor and {@code torch_dtype}
     */
    public record Options(Path tokenizerModel, List<String> addedTokens, int modelMaxLength, DType dtype) {
        public Options {
            Objects.requireNonNull(tokenizerModel, "tokenizerModel");
            addedTokens = List.copyOf(addedTokens);
            if (dtype != DType.F32 && dtype != DType.BF16) {
                throw new IllegalArgumentException("the model can be written in F32 or BF16, not " + dtype);
            }
            if (modelMaxLength <= 0) {
                throw new IllegalArgumentException("model_max_length must be positive");
            }
        }

        /** Osprey's: {@code <mask>} and {@code <pos>}, 2048 positions. */
        public static Options osprey(Path tokenizerModel, DType dtype) {
            return new Options(tokenizerModel, List.of("<mask>", "<pos>"), 2048, dtype);
        }
    }

    private OfficialModelWriter() {
    }

    /**
     * Writes the model directory {@code target}.
     *
     * @param weights F32 tensors named as in the reference's state dict, exactly those of
     *                {@link OspreyShape#ospreyTensors()} (the rotary {@code inv_freq} buffers may be given or are
     *                computed)
     * @throws IllegalArgumentException naming the first missing, unexpected, wrongly shaped or non-F32 tensor
     */
    public static void write(Path target, OspreyShape shape, Map<String, Tensor> weights, Options options) {
        Objects.requireNonNull(target, "target");
        checkTokenizer(options);
        Map<String, long[]> expected = shape.ospreyTensors();
        check(weights, expected);
        Map<String, Tensor> osprey = new LinkedHashMap<>();
        for (String name : expected.keySet()) {
            osprey.put(name, stored(weights.get(name), options.dtype()));
        }
        addRotaryBuffers(shape.llm(), osprey);
        Map<String, Tensor> clip = new LinkedHashMap<>();
        for (String name : shape.clipTensors().keySet()) {
            clip.put(name, osprey.get(OspreyShape.TOWER_PREFIX + name));
        }
        Map<String, SafetensorsWriter.Deferred> deferred = new LinkedHashMap<>();
        osprey.forEach((name, t) -> deferred.put(name, new SafetensorsWriter.Deferred(t.dtype(), t.shape(), arena -> t)));
        writeDirectory(target, shape, options, deferred, clip);
    }

    /**
     * As {@link #write}, but each LLM weight is made only when the safetensors writer reaches it and dropped once it
     * is written, so a model far larger than memory (7B: 14 GB in BF16) can be written: at most one tensor (in F32
     * and in the stored dtype) and the vision tower (which goes to both files) are in memory at a time. Given the
     * same values, the directory is byte for byte what {@link #write} writes.
     *
     * @param weights for exactly the names of {@link OspreyShape#ospreyTensors()}, a function making that F32 tensor
     *                in the given arena (e.g. {@link RandomWeights#streamed}); each is called once
     * @throws IllegalArgumentException naming the first missing or unexpected name, or a tensor made with another
     *                                  shape or dtype
     */
    public static void writeStreamed(Path target, OspreyShape shape, Map<String, Function<Arena, Tensor>> weights,
                                     Options options) {
        Objects.requireNonNull(target, "target");
        checkTokenizer(options);
        Map<String, long[]> expected = shape.ospreyTensors();
        for (String name : expected.keySet()) {
            if (!weights.containsKey(name)) {
                throw new IllegalArgumentException("missing tensor '" + name + "' (shape "
                        + Arrays.toString(expected.get(name)) + ")");
            }
        }
        for (String name : weights.keySet()) {
            if (!expected.containsKey(name)) {
                throw new IllegalArgumentException("unexpected tensor '" + name + "': not part of this model's shape");
            }
        }
        DType dtype = options.dtype();
        // The tower goes to both files: made once, kept in its stored dtype until both are written.
        Map<String, Tensor> clip = new LinkedHashMap<>();
        for (String name : shape.clipTensors().keySet()) {
            String key = OspreyShape.TOWER_PREFIX + name;
            Tensor f32 = made(key, expected.get(key), weights.get(key).apply(Arena.ofAuto()));
            clip.put(name, stored(f32, dtype));
        }
        Map<String, Tensor> buffers = new LinkedHashMap<>();
        addRotaryBuffers(shape.llm(), buffers, expected.keySet());
        Map<String, SafetensorsWriter.Deferred> deferred = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            String name = e.getKey();
            long[] dims = e.getValue();
            if (name.startsWith(OspreyShape.TOWER_PREFIX)) {
                Tensor t = clip.get(name.substring(OspreyShape.TOWER_PREFIX.length()));
                deferred.put(name, new SafetensorsWriter.Deferred(dtype, dims, arena -> t));
            } else {
                Function<Arena, Tensor> make = weights.get(name);
                deferred.put(name, new SafetensorsWriter.Deferred(dtype, dims,
                        arena -> stored(made(name, dims, make.apply(arena)), dtype, arena)));
            }
        }
        buffers.forEach((name, t) -> deferred.put(name, new SafetensorsWriter.Deferred(t.dtype(), t.shape(), a -> t)));
        writeDirectory(target, shape, options, deferred, clip);
    }

    private static Tensor made(String name, long[] expected, Tensor t) {
        if (!Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(expected));
        }
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + t.dtype() + ", expected F32");
        }
        return t;
    }

    private static void checkTokenizer(Options options) {
        if (!Files.isRegularFile(options.tokenizerModel())) {
            throw new IllegalArgumentException("tokenizer model not found: " + options.tokenizerModel());
        }
    }

    private static void writeDirectory(Path target, OspreyShape shape, Options options,
                                       Map<String, SafetensorsWriter.Deferred> osprey, Map<String, Tensor> clip) {
        int spVocab = shape.llm().vocabSize();
        Path abs = target.toAbsolutePath();
        try {
            Files.createDirectories(abs.getParent());
            Path tmp = AtomicFiles.temporarySibling(abs);
            try {
                Files.createDirectory(tmp);
                writeJson(tmp.resolve("config.json"), config(shape, options.dtype()));
                writeJson(tmp.resolve("generation_config.json"), generationConfig(shape.llm()));
                SafetensorsWriter.writeDeferred(tmp.resolve(WEIGHTS_FILE), osprey, Map.of("format", "pt"));
                TorchSaveWriter.write(tmp.resolve(CLIP_FILE), clip);
                Files.copy(options.tokenizerModel(), tmp.resolve("tokenizer.model"));
                writeTokenizerFiles(tmp, options, spVocab);
                replace(tmp, abs);
            } finally {
                FileTrees.delete(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot write the model directory (" + e.getMessage() + ")", e);
        }
    }

    private static void check(Map<String, Tensor> weights, Map<String, long[]> expected) {
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            Tensor t = weights.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("missing tensor '" + e.getKey() + "' (shape "
                        + Arrays.toString(e.getValue()) + ")");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + ", expected " + Arrays.toString(e.getValue()));
            }
            if (t.dtype() != DType.F32) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "' is " + t.dtype() + ", expected F32");
            }
        }
        for (String name : weights.keySet()) {
            if (!expected.containsKey(name) && !name.endsWith(".self_attn.rotary_emb.inv_freq")) {
                throw new IllegalArgumentException("unexpected tensor '" + name + "': not part of this model's shape");
            }
        }
    }

    private static Tensor stored(Tensor f32, DType dtype) {
        return dtype == DType.F32 ? f32 : f32.to(dtype);
    }

    /** {@link #stored(Tensor, DType)} allocating the converted copy in {@code arena}; the same rounding. */
    private static Tensor stored(Tensor f32, DType dtype, Arena arena) {
        if (dtype == DType.F32) {
            return f32;
        }
        Tensor out = Tensor.zeros(arena, dtype, f32.shape());
        long n = f32.numel();
        for (long i = 0; i < n; i++) {
            out.setFloat(i, f32.getFloat(i));
        }
        return out;
    }

    /**
     * transformers 4.31 keeps each layer's rotary {@code inv_freq} as a persistent buffer, so
     * {@code save_pretrained} writes it: {@code 1 / theta^(2i/d)} in float32, computed as torch does
     * ({@code arange(0, d, 2).float() / d} then {@code base ** x} in float32).
     */
    private static void addRotaryBuffers(LlamaConfig llm, Map<String, Tensor> out) {
        Map<String, Tensor> withBuffers = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : out.entrySet()) {
            withBuffers.put(e.getKey(), e.getValue());
            addRotaryBuffers(llm, withBuffers, java.util.List.of(e.getKey()));
        }
        out.clear();
        out.putAll(withBuffers);
    }

    /** Puts into {@code out} the rotary buffer of each layer whose {@code o_proj} weight is among {@code names}. */
    private static void addRotaryBuffers(LlamaConfig llm, Map<String, Tensor> out, java.util.Collection<String> names) {
        int d = llm.headDim();
        float[] inv = new float[d / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / d;
            inv[i] = 1.0f / (float) Math.pow((float) llm.ropeTheta(), exponent);
        }
        for (String name : names) {
            if (name.startsWith("model.layers.") && name.endsWith(".self_attn.o_proj.weight")) {
                String layer = name.substring(0, name.length() - "o_proj.weight".length());
                out.put(layer + "rotary_emb.inv_freq", Tensor.copyOf(inv, inv.length));
            }
        }
    }

    /** {@code config.json} with the keys and values OspreyLlamaForCausalLM.save_pretrained writes. */
    static ObjectNode config(OspreyShape shape, DType dtype) {
        LlamaConfig llm = shape.llm();
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("OspreyLlamaForCausalLM");
        c.put("bos_token_id", llm.bosTokenId());
        c.put("eos_token_id", llm.eosTokenId());
        c.put("freeze_mm_mlp_adapter", false);
        c.put("hidden_act", "silu");
        c.put("hidden_size", llm.hiddenSize());
        c.put("image_aspect_ratio", "pad");
        c.putNull("image_grid_pinpoints");
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", llm.intermediateSize());
        c.put("max_position_embeddings", llm.maxPositionEmbeddings());
        c.put("mm_hidden_size", shape.mmHiddenSize());
        c.put("mm_projector_type", shape.projectorType());
        c.put("mm_use_im_patch_token", false);
        c.put("mm_use_im_start_end", false);
        c.put("mm_vision_select_layer", -2);
        c.put("mm_vision_tower", CLIP_FILE);
        c.put("model_type", "osprey");
        c.put("num_attention_heads", llm.numAttentionHeads());
        c.put("num_hidden_layers", llm.numHiddenLayers());
        c.put("num_key_value_heads", llm.numKeyValueHeads());
        c.put("pad_token_id", 0);
        c.put("pretraining_tp", 1);
        c.put("rms_norm_eps", (double) llm.rmsNormEps());
        if (llm.ropeTheta() != LlamaConfig.DEFAULT_ROPE_THETA) {
            c.put("rope_theta", llm.ropeTheta());
        }
        c.putNull("rope_scaling");
        c.put("tie_word_embeddings", llm.tieWordEmbeddings());
        c.put("torch_dtype", dtype == DType.BF16 ? "bfloat16" : "float32");
        c.put("transformers_version", "4.31.0");
        c.put("tune_mm_mlp_adapter", false);
        c.put("use_cache", true);
        c.put("use_mm_proj", true);
        c.put("vocab_size", llm.vocabSize());
        return c;
    }

    private static ObjectNode generationConfig(LlamaConfig llm) {
        ObjectNode g = JSON.createObjectNode();
        g.put("_from_model_config", true);
        g.put("bos_token_id", llm.bosTokenId());
        g.put("eos_token_id", llm.eosTokenId());
        g.put("pad_token_id", 0);
        g.put("transformers_version", "4.31.0");
        return g;
    }

    /** The slow LlamaTokenizer's files as transformers 4.31's {@code save_pretrained} writes them. */
    private static void writeTokenizerFiles(Path dir, Options options, int spVocab) throws IOException {
        ObjectNode added = JSON.createObjectNode();
        for (int i = 0; i < options.addedTokens().size(); i++) {
            added.put(options.addedTokens().get(i), spVocab + i);
        }
        writeJson(dir.resolve("added_tokens.json"), added);

        ObjectNode special = JSON.createObjectNode();
        special.set("bos_token", token("<s>", false));
        special.set("eos_token", token("</s>", false));
        special.set("unk_token", token("<unk>", false));
        writeJson(dir.resolve("special_tokens_map.json"), special);

        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("add_bos_token", true);
        cfg.put("add_eos_token", false);
        cfg.set("bos_token", token("<s>", true));
        cfg.put("clean_up_tokenization_spaces", false);
        cfg.set("eos_token", token("</s>", true));
        cfg.put("legacy", true);
        cfg.put("model_max_length", options.modelMaxLength());
        cfg.putNull("pad_token");
        cfg.put("padding_side", "right");
        cfg.putObject("sp_model_kwargs");
        cfg.put("tokenizer_class", "LlamaTokenizer");
        cfg.set("unk_token", token("<unk>", true));
        writeJson(dir.resolve("tokenizer_config.json"), cfg);
    }

    private static DefaultPrettyPrinter pythonStyle() {
        Separators separators = Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("").withArrayEmptySeparator("");
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter().withSeparators(separators);
        printer.indentObjectsWith(indenter);
        printer.indentArraysWith(indenter);
        return printer;
    }

    private static ObjectNode token(String content, boolean typed) {
        ObjectNode t = JSON.createObjectNode();
        if (typed) {
            t.put("__type", "AddedToken");
        }
        t.put("content", content);
        t.put("lstrip", false);
        t.put("normalized", false);
        t.put("rstrip", false);
        t.put("single_word", false);
        return t;
    }

    private static void writeJson(Path file, ObjectNode node) throws IOException {
        Files.writeString(file, JSON.writer(PYTHON_STYLE).writeValueAsString(node), StandardCharsets.UTF_8);
    }

    /** Puts the finished directory {@code tmp} at {@code target}, moving an existing one aside first. */
    private static void replace(Path tmp, Path target) throws IOException {
        if (!Files.exists(target)) {
            AtomicFiles.moveIntoPlace(tmp, target);
            return;
        }
        if (!Files.isDirectory(target)) {
            throw new IOException(target + " exists and is not a directory");
        }
        Path old = AtomicFiles.temporarySibling(target);
        AtomicFiles.moveIntoPlace(target, old);
        try {
            AtomicFiles.moveIntoPlace(tmp, target);
        } catch (IOException e) {
            AtomicFiles.moveIntoPlace(old, target);
            throw e;
        }
        FileTrees.delete(old);
    }
}
