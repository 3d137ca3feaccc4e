package osprey4j.train.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.llm.LlamaConfig;
import osprey4j.model.tokenizer.SentencePieceModel;

class RandomLlamaTest {
    private static final LlamaConfig TINY = new LlamaConfig(64, 96, 2, 4, 4, 1e-6f, 10000.0, 128, 300, false, 1, 2);

    @Test
    void writesAHuggingFaceLlamaThatLoadsAndIsReproducible(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("a");
        RandomLlama.write(a, TINY, 7);
        assertEquals(TINY, LlamaConfig.read(a.resolve("config.json")));
        assertTrue(Files.readString(a.resolve("config.json")).contains("\"LlamaForCausalLM\""));
        assertTrue(RandomLlama.matches(a, TINY, 7));
        assertFalse(RandomLlama.matches(a, TINY, 8));
        assertFalse(RandomLlama.matches(a, new LlamaConfig(64, 96, 1, 4, 4, 1e-6f, 10000.0, 128, 300, false, 1, 2), 7));

        Map<String, long[]> shapes = RandomLlama.tensorShapes(TINY);
        assertEquals(3 + 9 * 2, shapes.size());
        Path b = tmp.resolve("b");
        RandomLlama.write(b, TINY, 7);
        try (Checkpoint ca = Checkpoints.open(a); Checkpoint cb = Checkpoints.open(b)) {
            assertEquals(shapes.keySet(), new HashSet<>(ca.tensors().stream().map(t -> t.name()).toList()));
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                Tensor t = ca.tensor(e.getKey());
                assertEquals(DType.BF16, t.dtype(), e.getKey());
                assertArrayEquals(e.getValue(), t.shape(), e.getKey());
                float[] v = t.toFloatArray();
                assertArrayEquals(v, cb.tensor(e.getKey()).toFloatArray(), "same seed, same weights: " + e.getKey());
                double bound = e.getKey().endsWith("norm.weight") ? 1.25 : e.getKey().contains("embed") ? 1.0
                        : 1.0 / Math.sqrt(e.getValue()[1]);
                for (float x : v) {
                    assertTrue(Math.abs(x) <= bound * 1.01, e.getKey() + ": " + x);
                }
            }
            // rows differ (each has its own generator)
            float[] q = ca.tensor("model.layers.0.self_attn.q_proj.weight").toFloatArray();
            assertFalse(q[0] == q[64] && q[1] == q[65] && q[2] == q[66]);
        }
    }

    @Test
    void tokenizerHasExactlyTheVocabularySize(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("m");
        RandomLlama.write(dir, TINY, 1);
        SentencePieceModel spm = SentencePieceModel.read(dir.resolve("tokenizer.model"));
        assertEquals(300, spm.pieces().size());
        assertEquals("<unk>", spm.pieces().get(0).piece());
        assertEquals("<s>", spm.pieces().get(1).piece());
        assertEquals("<0x00>", spm.pieces().get(3).piece());
        assertEquals(SentencePieceModel.PieceType.BYTE, spm.pieces().get(258).type());
        assertEquals("\u2581a", spm.pieces().get(259).piece());
        assertEquals(300, new HashSet<>(spm.pieces().stream().map(SentencePieceModel.Piece::piece).toList()).size());
        assertEquals(32000, RandomLlama.syntheticTokenizer(32000).pieces().size());
    }
}
