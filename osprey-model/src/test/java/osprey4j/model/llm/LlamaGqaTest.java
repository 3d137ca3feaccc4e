package osprey4j.model.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static osprey4j.model.llm.LlamaParityTest.argmax;
import static osprey4j.model.llm.LlamaParityTest.assertClose;
import static osprey4j.model.llm.LlamaParityTest.longs;

import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * What the Osprey fixture does not cover, against transformers 4.31's LlamaForCausalLM (float32) on the
 * {@code llama-gqa} fixture (see its README): grouped-query attention (4 query heads on 2 key/value heads),
 * rope_theta 500000, tied embeddings (no lm_head.weight in the file), rms eps 1e-6, BF16 weights used as
 * BF16. Logits are compared at every position of one pass (forwardAll), tokens after greedy decoding with
 * the cache.
 *
 * <p>Tolerance 1e-4 absolute as for the parity fixture (reference float32 rounding about 1e-6 of the largest
 * logit, 3.8 here); the bf16 weights are exactly the values the reference ran with, so they add no error.
 * Changing the base to 10000 moves these logits by up to 1.3, so the rotary base is really tested.
 */
class LlamaGqaTest {
    private static Checkpoint weights;
    private static Llama llama;

    static Path fixture(String name) {
        try {
            return Path.of(LlamaGqaTest.class.getResource("/llama-gqa/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeAll
    static void load() {
        weights = Checkpoints.open(fixture("model"));
        llama = Llama.load(weights, LlamaConfig.read(fixture("model/config.json")));
    }

    @AfterAll
    static void close() {
        weights.close();
    }

    @Test
    void configAndWeightsAreTakenAsStored() {
        LlamaConfig c = llama.config();
        assertEquals(4, c.numAttentionHeads());
        assertEquals(2, c.numKeyValueHeads());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(1e-6f, c.rmsNormEps());
        assertTrue(c.tieWordEmbeddings());
        assertSame(llama.embedTokens, llama.lmHead, "tied: the head is the embedding matrix");
        assertEquals(DType.BF16, llama.layers[0].selfAttn.qProj.dtype(), "BF16 stays BF16");
        assertEquals(weights.tensor("model.layers.1.mlp.down_proj.weight").segment().address(),
                llama.layers[1].mlp.downProj.segment().address(), "a view of the checkpoint, not a copy");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "b", "c"})
    void logitsAtEveryPositionAndGreedyTokensMatchTheReference(String name) {
        try (Checkpoint dump = Checkpoints.open(fixture("dumps.safetensors"))) {
            Tensor embeds = dump.tensor("inputs_embeds_" + name).copy();
            Tensor expected = dump.tensor("logits_" + name);
            long[] expectedIds = longs(dump.tensor("generated_" + name));
            try (KvCache cache = llama.newCache(embeds.size(0) + expectedIds.length)) {
                Tensor logits = llama.forwardAll(embeds, cache);
                assertArrayEquals(expected.shape(), logits.shape());
                assertClose(expected.toFloatArray(), logits.toFloatArray(), 1e-4, "case " + name + " logits");

                float[] last = logits.row(logits.dim(0) - 1).toFloatArray();
                long[] ids = new long[expectedIds.length];
                for (int step = 0; step < ids.length; step++) {
                    int next = argmax(last);
                    ids[step] = next;
                    if (step + 1 < ids.length) {
                        last = llama.forward(llama.embed(new int[] {next}), cache);
                    }
                }
                assertArrayEquals(expectedIds, ids, "case " + name + " greedy tokens");
            }
        }
    }
}
