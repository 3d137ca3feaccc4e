package osprey4j.model.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.Tensor;

class ProjectorTest {
    @Test
    void linearProjectorIsOneLinear() {
        MemoryCheckpoint ck = new MemoryCheckpoint()
                .put("proj.weight", Tensor.copyOf(new float[] {1, 2, 3, 4, 5, 6}, 3, 2))
                .put("proj.bias", Tensor.copyOf(new float[] {1, 0, -1}, 3));
        Projector p = Projector.load(ck, "proj", "linear");
        Tensor out = p.forward(Tensor.copyOf(new float[] {1, 1, 2, 0}, 2, 2));
        assertArrayEquals(new float[] {4, 7, 10, 3, 6, 9}, out.toFloatArray());
    }
}
