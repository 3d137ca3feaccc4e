package osprey4j.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

class TrainingCheckpointsTest {
    @TempDir
    Path tmp;

    static final String MODEL = TrainingState.modelIdentity("shape-a", "base-weights-1");

    static Tensor filled(float start, long... shape) {
        Tensor t = Tensor.zeros(DType.F32, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.setFloat(i, start + i * 0.25f);
        }
        return t;
    }

    static TrainingState state(long step, String model) {
        ObjectNode hp = JsonNodeFactory.instance.objectNode();
        hp.put("lr", 2e-5);
        hp.put("beta1", 0.9);
        hp.put("weight_decay", 0.0);
        int[] order = new int[100_000];
        for (int i = 0; i < order.length; i++) {
            order[i] = (int) ((i * 7919L + step) % order.length);
        }
        return new TrainingState(model, step, step, 42, order, 17, 1, new long[] {Long.MIN_VALUE, 12345L, -1L}, hp,
                Map.of("mask_extractor.feat_linear.weight", filled(step, 3, 4), "model.norm.weight", filled(-1, 4)),
                Map.of("mask_extractor.feat_linear.weight", filled(0.5f, 3, 4), "model.norm.weight", filled(2, 4)),
                Map.of("mask_extractor.feat_linear.weight", filled(1e-8f, 3, 4), "model.norm.weight", filled(3, 4)));
    }

    @Test
    void roundTripsEveryField() {
        TrainingCheckpoints ckpt = new TrainingCheckpoints(tmp.resolve("resume"), 10, 2);
        TrainingState s = state(30, MODEL);
        ckpt.save(s);
        TrainingState r = TrainingCheckpoints.latest(tmp.resolve("resume"), MODEL).orElseThrow();
        assertEquals(30, r.step());
        assertEquals(30, r.schedulePosition());
        assertEquals(42, r.dataSeed());
        assertEquals(17, r.dataPosition());
        assertEquals(1, r.epoch());
        assertArrayEquals(s.dataOrder(), r.dataOrder());
        assertArrayEquals(s.rngState(), r.rngState());
        assertEquals(s.hyperParameters(), r.hyperParameters());
        for (String name : s.parameters().keySet()) {
            assertArrayEquals(s.parameters().get(name).toFloatArray(), r.parameters().get(name).toFloatArray());
            assertArrayEquals(s.firstMoments().get(name).toFloatArray(), r.firstMoments().get(name).toFloatArray());
            assertArrayEquals(s.secondMoments().get(name).toFloatArray(), r.secondMoments().get(name).toFloatArray());
        }
    }

    @Test
    void savesEveryNStepsKeepsTheLastAndResumesFromTheNewest() throws IOException {
        Path dir = tmp.resolve("resume");
        TrainingCheckpoints ckpt = new TrainingCheckpoints(dir, 10, 2);
        assertTrue(TrainingCheckpoints.latest(dir, MODEL).isEmpty());
        int built = 0;
        for (long step = 1; step <= 35; step++) {
            long s = step;
            if (ckpt.maybeSave(step, () -> state(s, MODEL))) {
                built++;
            }
        }
        assertEquals(3, built);
        try (Stream<Path> entries = Files.list(dir)) {
            assertEquals(List.of("step-00000020", "step-00000030"),
                    entries.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals(30, TrainingCheckpoints.latest(dir, MODEL).orElseThrow().step());
        // A half-written folder (a crash before the rename) is a hidden sibling, never read.
        Files.createDirectories(dir.resolve(".step-00000040.123-1.part"));
        assertEquals(30, TrainingCheckpoints.latest(dir, MODEL).orElseThrow().step());
    }

    @Test
    void refusesAnotherModelsResumeDirectoryInOneLine() {
        Path dir = tmp.resolve("resume");
        new TrainingCheckpoints(dir, 1, 1).save(state(5, MODEL));
        String other = TrainingState.modelIdentity("shape-b", "base-weights-1");
        var e = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoints.latest(dir, other));
        assertTrue(e.getMessage().startsWith("resume directory " + dir + " holds the training state of another model"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void refusesDamagedOrForeignFolders() throws IOException {
        Path dir = tmp.resolve("resume");
        Path step = new TrainingCheckpoints(dir, 1, 1).save(state(5, MODEL));
        Files.write(step.resolve(TrainingCheckpoints.STATE_TENSORS), new byte[] {1, 2, 3});
        var e = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoints.read(step, MODEL));
        assertTrue(e.getMessage().contains("damaged training state"), e.getMessage());
        Files.writeString(step.resolve(TrainingCheckpoints.STATE_JSON), "{\"format\": 99}");
        var f = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoints.read(step, MODEL));
        assertTrue(f.getMessage().contains("unknown training-state format 99"), f.getMessage());
        var g = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoints.read(tmp, MODEL));
        assertTrue(g.getMessage().endsWith("is not a training state (no state.json)"), g.getMessage());
    }

    @Test
    void stateChecksItsMoments() {
        var e = assertThrows(IllegalArgumentException.class, () -> new TrainingState(MODEL, 0, 0, 0, null, 0, 0, null,
                null, Map.of("w", filled(0, 2)), Map.of("w", filled(0, 3)), Map.of("w", filled(0, 2))));
        assertEquals("moment of 'w' has shape [3], the parameter [2]", e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> new TrainingState(MODEL, 0, 0, 0, null, 0, 0, null,
                null, Map.of("w", filled(0, 2)), Map.of(), Map.of("w", filled(0, 2))));
        assertEquals("parameter 'w' has no first moment", f.getMessage());
        // No data order at all is allowed (an empty I32 tensor on disk).
        TrainingState empty = new TrainingState(MODEL, 1, 1, 0, null, 0, 0, null, null, Map.of(), Map.of(), Map.of());
        new TrainingCheckpoints(tmp.resolve("r2"), 1, 1).save(empty);
        assertEquals(0, TrainingCheckpoints.latest(tmp.resolve("r2"), MODEL).orElseThrow().dataOrder().length);
    }
}
