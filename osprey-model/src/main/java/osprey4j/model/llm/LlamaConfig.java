package osprey4j.model.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The decoder's hyper-parameters, read from a Hugging Face {@code config.json} (LLaMA, Vicuna, or Osprey's
 * {@code model_type: osprey}, which carries the same keys plus the multimodal ones).
 *
 * @param hiddenSize            {@code hidden_size}
 * @param intermediateSize      {@code intermediate_size} (the SiLU-gated MLP's width)
 * @param numHiddenLayers       {@code num_hidden_layers}
 * @param numAttentionHeads     {@code num_attention_heads}
 * @param numKeyValueHeads      {@code num_key_value_heads}; grouped-query attention when below the head count
 *                              (absent: equal to it, as in LLaMA-1 and Vicuna)
 * @param rmsNormEps            {@code rms_norm_eps}
 * @param ropeTheta             {@code rope_theta}, the rotary base (absent: 10000)
 * @param maxPositionEmbeddings {@code max_position_embeddings}: positions the rotary table covers
 * @param vocabSize             {@code vocab_size}: rows of the embedding and of the output head
 * @param tieWordEmbeddings     {@code tie_word_embeddings}: the output head is the embedding matrix (absent: false)
 * @param bosTokenId            {@code bos_token_id} (absent: 1)
 * @param eosTokenId            {@code eos_token_id}, the first one when it is a list (absent: 2)
 */
public record LlamaConfig(int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
                          int numKeyValueHeads, float rmsNormEps, double ropeTheta, int maxPositionEmbeddings,
                          int vocabSize, boolean tieWordEmbeddings, int bosTokenId, int eosTokenId) {

    /** LLaMA's rotary base, also what transformers 4.31 always uses. */
    public static final double DEFAULT_ROPE_THETA = 10000.0;

    private static final ObjectMapper JSON = new ObjectMapper();

    public LlamaConfig {
        positive(hiddenSize, "hidden_size");
        positive(intermediateSize, "intermediate_size");
        positive(numHiddenLayers, "num_hidden_layers");
        positive(numAttentionHeads, "num_attention_heads");
        positive(numKeyValueHeads, "num_key_value_heads");
        positive(maxPositionEmbeddings, "max_position_embeddings");
        positive(vocabSize, "vocab_size");
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numAttentionHeads);
        }
        if ((hiddenSize / numAttentionHeads) % 2 != 0) {
            throw new IllegalArgumentException("the head dimension hidden_size / num_attention_heads = "
                    + hiddenSize / numAttentionHeads + " must be even for rotary embeddings");
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numAttentionHeads
                    + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
        }
        if (!(rmsNormEps > 0)) {
            throw new IllegalArgumentException("rms_norm_eps must be positive, got " + rmsNormEps);
        }
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException("rope_theta must be positive and finite, got " + ropeTheta);
        }
    }

    /** Dimension of one attention head: hidden_size / num_attention_heads. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Query heads sharing one key/value head (1 without grouped-query attention). */
    public int kvGroups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** Width of the key and value projections: num_key_value_heads x head dimension. */
    public int kvDim() {
        return numKeyValueHeads * headDim();
    }

    /** Reads {@code config.json} (or a directory holding one). */
    public static LlamaConfig read(Path configJson) {
        Path file = configJson.toFile().isDirectory() ? configJson.resolve("config.json") : configJson;
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the model configuration (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": not a JSON object");
        }
        try {
            return parse(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads the configuration from a parsed {@code config.json}. Features this decoder does not implement are
     * refused by name rather than ignored: a {@code rope_scaling} other than null, a {@code hidden_act} other
     * than SiLU, biases on the projections, a {@code head_dim} that is not hidden_size / num_attention_heads.
     */
    public static LlamaConfig parse(JsonNode root) {
        JsonNode scaling = root.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) {
            throw new IllegalArgumentException("rope_scaling " + scaling + " is not supported (only rope_scaling null: "
                    + "plain rotary embeddings with rope_theta)");
        }
        String act = root.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (LLaMA's MLP uses silu)");
        }
        for (String bias : new String[] {"attention_bias", "mlp_bias"}) {
            if (root.path(bias).asBoolean(false)) {
                throw new IllegalArgumentException(bias + " true is not supported (LLaMA projections have no bias)");
            }
        }
        int hidden = requiredInt(root, "hidden_size");
        int heads = requiredInt(root, "num_attention_heads");
        JsonNode headDim = root.get("head_dim");
        if (headDim != null && !headDim.isNull() && heads > 0 && headDim.asInt() != hidden / heads) {
            throw new IllegalArgumentException("head_dim " + headDim.asInt() + " differs from hidden_size / "
                    + "num_attention_heads = " + hidden / heads + ", which is not supported");
        }
        return new LlamaConfig(
                hidden,
                requiredInt(root, "intermediate_size"),
                requiredInt(root, "num_hidden_layers"),
                heads,
                optionalInt(root, "num_key_value_heads", heads),
                (float) requiredNumber(root, "rms_norm_eps"),
                root.hasNonNull("rope_theta") ? requiredNumber(root, "rope_theta") : DEFAULT_ROPE_THETA,
                requiredInt(root, "max_position_embeddings"),
                requiredInt(root, "vocab_size"),
                root.path("tie_word_embeddings").asBoolean(false),
                optionalInt(root, "bos_token_id", 1),
                firstInt(root, "eos_token_id", 2));
    }

    private static int requiredInt(JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("missing '" + key + "'");
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new IllegalArgumentException("'" + key + "' must be an integer, got " + v);
        }
        return v.intValue();
    }

    private static int optionalInt(JsonNode root, String key, int fallback) {
        return root.hasNonNull(key) ? requiredInt(root, key) : fallback;
    }

    private static int firstInt(JsonNode root, String key, int fallback) {
        JsonNode v = root.get(key);
        if (v != null && v.isArray()) {
            if (v.isEmpty() || !v.get(0).canConvertToInt()) {
                throw new IllegalArgumentException("'" + key + "' must be an integer or a list of integers, got " + v);
            }
            return v.get(0).intValue();
        }
        return optionalInt(root, key, fallback);
    }

    private static double requiredNumber(JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("missing '" + key + "'");
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("'" + key + "' must be a number, got " + v);
        }
        return v.doubleValue();
    }

    private static void positive(int value, String key) {
        if (value <= 0) {
            throw new IllegalArgumentException(key + " must be positive, got " + value);
        }
    }
}
