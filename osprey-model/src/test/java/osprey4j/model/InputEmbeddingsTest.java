package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The splice of image, mask and position tokens into the embedded prompt, against the reference's
 * {@code inputs_embeds} (cases A and C, which dump it). Given the reference's own image/mask/pos tokens and
 * the checkpoint's embedding table, the splice only copies rows, so it must match exactly.
 */
class InputEmbeddingsTest {
    private static Function<int[], Tensor> lookup(Tensor table) {
        return ids -> {
            int hidden = table.size(1);
            Tensor out = Tensor.zeros(DType.F32, ids.length, hidden);
            for (int i = 0; i < ids.length; i++) {
                for (int j = 0; j < hidden; j++) {
                    out.setFloat((long) i * hidden + j, table.getFloat((long) ids[i] * hidden + j));
                }
            }
            return out;
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"A", "C"})
    void matchesTheReferenceInputsEmbeds(String name) {
        try (Checkpoint weights = Checkpoints.open(FacadeFixtures.modelDir().resolve("pytorch_model.bin"));
             Checkpoint dump = FacadeFixtures.dump(name)) {
            int[] ids = FacadeFixtures.ints(dump.tensor("input_ids"));
            Tensor embeds = InputEmbeddings.assemble(ids, 1000, lookup(weights.tensor("model.embed_tokens.weight")),
                    dump.tensor("image_tokens"), dump.tensor("mask_tokens"), dump.tensor("pos_tokens"));
            assertEquals(0f, FacadeFixtures.maxAbsDiff(dump.tensor("inputs_embeds"), embeds));
        }
    }

    private static final Tensor IMAGE = Tensor.copyOf(new float[] {1, 1, 2, 2, 3, 3}, 3, 2);
    private static final Function<int[], Tensor> TEN_TIMES = ids -> {
        float[] v = new float[ids.length * 2];
        for (int i = 0; i < ids.length; i++) {
            v[2 * i] = 10 * ids[i];
            v[2 * i + 1] = 10 * ids[i];
        }
        return Tensor.copyOf(v, ids.length, 2);
    };

    @Test
    void positionAfterEachMaskGetsThePosTokenWhateverItsId() {
        int[] ids = {1, -200, 5, 1000, 7, 6, 1000, 1001, 8};
        Tensor mask = Tensor.copyOf(new float[] {-1, -1, -2, -2}, 2, 2);
        Tensor pos = Tensor.copyOf(new float[] {-3, -3, -4, -4}, 2, 2);
        Tensor out = InputEmbeddings.assemble(ids, 1000, TEN_TIMES, IMAGE, mask, pos);
        float[] expected = {10, 10, 1, 1, 2, 2, 3, 3, 50, 50, -1, -1, -3, -3, 60, 60, -2, -2, -4, -4, 80, 80};
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, out.toFloatArray());
    }

    @Test
    void regionCountMustMatchTheMaskTokens() {
        int[] ids = {1, -200, 1000, 1001};
        Tensor two = Tensor.copyOf(new float[4], 2, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InputEmbeddings.assemble(ids, 1000, TEN_TIMES, IMAGE, two, two));
        assertTrue(e.getMessage().contains("1 <mask> tokens but 2 regions"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> InputEmbeddings.assemble(ids, 1000, TEN_TIMES, IMAGE, null, null));
    }

    @Test
    void maskBeforeTheImageOrNoImageIsRefused() {
        Tensor one = Tensor.copyOf(new float[2], 1, 2);
        assertThrows(IllegalArgumentException.class,
                () -> InputEmbeddings.assemble(new int[] {1, 1000, 1001, -200}, 1000, TEN_TIMES, IMAGE, one, one));
        assertThrows(IllegalArgumentException.class,
                () -> InputEmbeddings.assemble(new int[] {1, 5}, 1000, TEN_TIMES, IMAGE, null, null));
    }
}
