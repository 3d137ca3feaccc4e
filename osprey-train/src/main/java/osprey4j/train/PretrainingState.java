package osprey4j.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.train.optim.AdamW;

/**
 * A pretraining's resumable state in one safetensors file, written atomically: every parameter, its AdamW moments
 * and the number of steps done (metadata {@code step}). A run started again restores it and continues exactly.
 */
final class PretrainingState {
    private PretrainingState() {
    }

    static void save(Path stateFile, List<Param> params, AdamW adam, int step) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Param p : params) {
            t.put("param." + p.name(), Tensor.wrap(p.value().clone(), p.shape()));
            float[][] mv = adam.moments(p);
            if (mv != null) {
                t.put("adam_m." + p.name(), Tensor.wrap(mv[0].clone(), p.shape()));
                t.put("adam_v." + p.name(), Tensor.wrap(mv[1].clone(), p.shape()));
            }
        }
        Files.createDirectories(stateFile.toAbsolutePath().getParent());
        AtomicFiles.write(stateFile, tmp -> SafetensorsWriter.write(tmp, t, Map.of("step", Integer.toString(step))));
    }

    /** Loads a saved state into the parameters and AdamW; returns the step to continue from (0: none saved). */
    static int restore(Path stateFile, List<Param> params, AdamW adam) {
        if (stateFile == null || !Files.isRegularFile(stateFile)) {
            return 0;
        }
        try (Checkpoint c = Checkpoints.open(stateFile)) {
            int step = Integer.parseInt(c.metadata().get("step"));
            for (Param p : params) {
                if (!c.contains("param." + p.name())) {
                    throw new IllegalArgumentException(stateFile + " is from another model (no " + p.name() + ")");
                }
                float[] v = c.tensor("param." + p.name()).to(DType.F32).toFloatArray();
                if (v.length != p.size()) {
                    throw new IllegalArgumentException(stateFile + " is from another model (" + p.name() + ")");
                }
                System.arraycopy(v, 0, p.value(), 0, v.length);
                if (c.contains("adam_m." + p.name())) {
                    adam.restore(p, c.tensor("adam_m." + p.name()).to(DType.F32).toFloatArray(),
                            c.tensor("adam_v." + p.name()).to(DType.F32).toFloatArray(), step);
                }
            }
            return step;
        }
    }
}
