package osprey4j.model.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.Tensor;

/** config.json parsing, defaults, refusals, and the checks of a configuration against the weights. */
class LlamaConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode minimal() {
        ObjectNode n = JSON.createObjectNode();
        n.put("hidden_size", 64).put("intermediate_size", 172).put("num_hidden_layers", 2)
                .put("num_attention_heads", 4).put("rms_norm_eps", 1e-5).put("max_position_embeddings", 2048)
                .put("vocab_size", 1000);
        return n;
    }

    @Test
    void readsTheOspreyParityConfig() {
        LlamaConfig c = LlamaConfig.read(LlamaParityTest.parity("model/config.json"));
        assertEquals(new LlamaConfig(64, 172, 2, 4, 4, 1e-5f, 10000.0, 2048, 1000, false, 1, 2), c);
        assertEquals(16, c.headDim());
        assertEquals(1, c.kvGroups());
        assertEquals(c, LlamaConfig.read(LlamaParityTest.parity("model")), "a directory reads its config.json");
    }

    @Test
    void absentKeysTakeTheReferenceDefaults() {
        LlamaConfig c = LlamaConfig.parse(minimal());
        assertEquals(4, c.numKeyValueHeads(), "num_key_value_heads defaults to the head count");
        assertEquals(10000.0, c.ropeTheta());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(1, c.bosTokenId());
        assertEquals(2, c.eosTokenId());
    }

    @Test
    void groupedQueryAttentionAndAnEosList() {
        ObjectNode n = minimal().put("num_key_value_heads", 2).put("rope_theta", 500000.0);
        n.putArray("eos_token_id").add(7).add(2);
        LlamaConfig c = LlamaConfig.parse(n);
        assertEquals(2, c.kvGroups());
        assertEquals(32, c.kvDim());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(7, c.eosTokenId());
    }

    @Test
    void unsupportedFeaturesAreRefusedByName() {
        ObjectNode scaling = minimal();
        scaling.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        assertMessage(() -> LlamaConfig.parse(scaling), "rope_scaling");
        assertMessage(() -> LlamaConfig.parse(minimal().put("hidden_act", "gelu")), "hidden_act 'gelu'");
        assertMessage(() -> LlamaConfig.parse(minimal().put("attention_bias", true)), "attention_bias");
        assertMessage(() -> LlamaConfig.parse(minimal().put("head_dim", 32)), "head_dim 32");
        assertMessage(() -> LlamaConfig.parse(minimal().put("num_key_value_heads", 3)), "num_key_value_heads 3");
        assertMessage(() -> LlamaConfig.parse(minimal().put("num_attention_heads", 5)), "not divisible");
        assertMessage(() -> LlamaConfig.parse(minimal().put("vocab_size", "many")), "'vocab_size' must be an integer");
        ObjectNode missing = minimal();
        missing.remove("hidden_size");
        assertMessage(() -> LlamaConfig.parse(missing), "missing 'hidden_size'");
    }

    @Test
    void aFileErrorNamesTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"hidden_size\": 64, \"num_attention_heads\": 4}");
        assertMessage(() -> LlamaConfig.read(file), file + ": missing 'intermediate_size'");
    }

    @Test
    void weightShapesAreCheckedAgainstTheConfig() {
        LlamaConfig parity = LlamaConfig.read(LlamaParityTest.parity("model/config.json"));
        try (Checkpoint ckpt = Checkpoints.open(LlamaParityTest.parity("model"))) {
            LlamaConfig gqa = new LlamaConfig(64, 172, 2, 4, 2, 1e-5f, 10000.0, 2048, 1000, false, 1, 2);
            assertMessage(() -> Llama.load(ckpt, gqa),
                    "'model.layers.0.self_attn.k_proj.weight' has the wrong shape: expected [32, 64], found [64, 64]");
            LlamaConfig bigVocab = new LlamaConfig(64, 172, 2, 4, 4, 1e-5f, 10000.0, 2048, 1002, false, 1, 2);
            assertMessage(() -> Llama.load(ckpt, bigVocab),
                    "'model.embed_tokens.weight' has the wrong shape: expected [1002, 64], found [1000, 64]");
            LlamaConfig threeLayers = new LlamaConfig(64, 172, 3, 4, 4, 1e-5f, 10000.0, 2048, 1000, false, 1, 2);
            assertMessage(() -> Llama.load(ckpt, threeLayers), "missing weight 'model.layers.2.input_layernorm.weight'");
            LlamaConfig otherTheta = new LlamaConfig(64, 172, 2, 4, 4, 1e-5f, 500000.0, 2048, 1000, false, 1, 2);
            assertMessage(() -> Llama.load(ckpt, otherTheta), "does not match rope_theta 500000.0");
            Llama.load(ckpt, parity);
        }
        try (Checkpoint ckpt = Checkpoints.open(LlamaGqaTest.fixture("model"))) {
            LlamaConfig untied = new LlamaConfig(64, 96, 2, 4, 2, 1e-6f, 500000.0, 128, 256, false, 1, 2);
            assertMessage(() -> Llama.load(ckpt, untied), "missing weight 'lm_head.weight'");
        }
    }

    @Test
    void inputsAndCachesAreChecked() {
        LlamaConfig config = LlamaConfig.read(LlamaParityTest.parity("model/config.json"));
        try (Checkpoint ckpt = Checkpoints.open(LlamaParityTest.parity("model"))) {
            Llama llama = Llama.load(ckpt, config);
            assertMessage(() -> llama.embed(new int[] {5, -200}), "token id -200 at index 1");
            assertMessage(() -> llama.embed(new int[] {1000}), "token id 1000");
            assertMessage(() -> llama.newCache(4096), "exceeds max_position_embeddings 2048");
            try (KvCache cache = llama.newCache(3)) {
                assertEquals(0, cache.byteSize(), "pages come as the sequence grows");
                llama.forward(llama.embed(new int[] {1, 2}), cache);
                // one page: keys and values of 2 layers x 64 positions x kv_dim 64, F32
                assertEquals(2L * 2 * KvCache.PAGE_POSITIONS * 64 * 4, cache.byteSize());
                assertMessage(() -> llama.forward(llama.embed(new int[] {3, 4}), cache),
                        "2 more tokens do not fit in the KV cache (2 of 3 positions used)");
                assertEquals(2, cache.length(), "a refused step leaves the cache as it was");
                assertMessage(() -> llama.forward(Tensor.zeros(osprey4j.core.tensor.DType.F32, 1, 32), cache),
                        "[n, 64]");
                cache.truncate(1);
                assertEquals(1, cache.length());
            }
        }
    }

    @Test
    void embeddingRowsAreTheCheckpointRows() {
        try (Checkpoint ckpt = Checkpoints.open(LlamaGqaTest.fixture("model"))) {
            Llama llama = Llama.load(ckpt, LlamaConfig.read(LlamaGqaTest.fixture("model/config.json")));
            Tensor table = ckpt.tensor("model.embed_tokens.weight");
            Tensor rows = llama.embed(new int[] {7, 255, 7});
            for (int j = 0; j < 64; j++) {
                assertEquals(table.getFloat(7L * 64 + j), rows.getFloat(j));
                assertEquals(table.getFloat(255L * 64 + j), rows.getFloat(64 + j));
                assertEquals(table.getFloat(7L * 64 + j), rows.getFloat(128 + j));
            }
        }
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
        RuntimeException e = assertThrows(RuntimeException.class, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains(fragment),
                () -> "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }
}
