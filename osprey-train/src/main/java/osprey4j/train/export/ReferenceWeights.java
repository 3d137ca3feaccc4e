package osprey4j.train.export;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.TensorInfo;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.OspreyConfig;
import osprey4j.model.llm.LlamaConfig;

/**
 * The weights an existing model directory really runs with, as F32 tensors named as {@link OspreyShape} names them:
 * the starting point of fine-tuning, and what {@link OfficialModelWriter} writes back.
 *
 * <p>"Really runs with" means the reference's loading quirk applied: the ConvNeXt layer-scale gammas come from the
 * CLIP file ({@code mm_vision_tower}) and every other tower weight from the Osprey weights (each falls back to the
 * other file when its own lacks it). Written back, the tower copy and the CLIP file both hold these values, so the
 * written model computes what the read one did.
 */
public final class ReferenceWeights {
    private static final Pattern BLOCK = Pattern.compile("^visual\\.trunk\\.stages\\.(\\d+)\\.blocks\\.(\\d+)\\.");

    /** A model's shape and its effective F32 weights. */
    public record Loaded(OspreyShape shape, Map<String, Tensor> weights) {
    }

    private ReferenceWeights() {
    }

    public static Loaded read(Path modelDir) {
        OspreyConfig config = OspreyConfig.read(modelDir);
        LlamaConfig llm = LlamaConfig.read(modelDir.resolve("config.json"));
        try (Checkpoint osprey = Checkpoints.open(modelDir)) {
            Optional<Path> clipFile = config.findVisionTowerFile(modelDir);
            Checkpoint clip = clipFile.map(Checkpoints::open).orElse(null);
            try {
                OspreyShape shape = shape(llm, config.projectorType(), osprey, clip);
                Map<String, Tensor> out = new LinkedHashMap<>();
                for (Map.Entry<String, long[]> e : shape.ospreyTensors().entrySet()) {
                    String name = e.getKey();
                    out.put(name, f32(source(name, osprey, clip)));
                }
                return new Loaded(shape, out);
            } finally {
                if (clip != null) {
                    clip.close();
                }
            }
        }
    }

    /** The tensor the reference loads for {@code name}, shape-checked by the caller's {@link OspreyShape}. */
    private static Tensor source(String name, Checkpoint osprey, Checkpoint clip) {
        if (!name.startsWith(OspreyShape.TOWER_PREFIX)) {
            return tensor(osprey, name);
        }
        String clipName = name.substring(OspreyShape.TOWER_PREFIX.length());
        boolean gamma = clipName.endsWith(".gamma");
        boolean inClip = clip != null && clip.contains(clipName);
        if (gamma && inClip || !osprey.contains(name) && inClip) {
            return clip.tensor(clipName);
        }
        return tensor(osprey, name);
    }

    private static Tensor tensor(Checkpoint c, String name) {
        if (!c.contains(name)) {
            throw new IllegalArgumentException("the model has no tensor '" + name + "'");
        }
        return c.tensor(name);
    }

    private static Tensor f32(Tensor t) {
        return t.to(DType.F32); // a copy: independent of the mapped file, which is closed on return
    }

    /** The dimensions, read from config.json and the tensors' shapes. */
    static OspreyShape shape(LlamaConfig llm, String projectorType, Checkpoint osprey, Checkpoint clip) {
        Map<String, long[]> tower = new LinkedHashMap<>();
        if (clip != null) {
            for (TensorInfo t : clip.tensors()) {
                tower.put(t.name(), t.shape());
            }
        }
        for (TensorInfo t : osprey.tensors()) {
            if (t.name().startsWith(OspreyShape.TOWER_PREFIX)) {
                tower.put(t.name().substring(OspreyShape.TOWER_PREFIX.length()), t.shape());
            }
        }
        int[] depths = new int[4];
        int[] dims = new int[4];
        for (Map.Entry<String, long[]> e : tower.entrySet()) {
            Matcher m = BLOCK.matcher(e.getKey());
            if (m.find()) {
                int s = Integer.parseInt(m.group(1));
                if (s < 4) {
                    depths[s] = Math.max(depths[s], Integer.parseInt(m.group(2)) + 1);
                    if (e.getKey().endsWith(".conv_dw.weight")) {
                        dims[s] = (int) e.getValue()[0];
                    }
                }
            }
        }
        long[] head = tower.get("visual.head.mlp.fc2.weight");
        long[] feat = need(osprey, "mask_extractor.feat_linear.weight");
        long[] pos = need(osprey, "mask_extractor.mask_linear.layers.0.weight");
        int grid = (int) Math.round(Math.sqrt(pos[1]));
        if (head == null || grid * grid != pos[1]) {
            throw new IllegalArgumentException(head == null ? "no open_clip head (visual.head.mlp.fc2.weight) in the "
                    + "model or its CLIP file" : "the position MLP reads " + pos[1] + " values, not a square grid");
        }
        return new OspreyShape(llm, depths, dims, (int) head[0], (int) feat[1], grid, (int) pos[0], projectorType);
    }

    private static long[] need(Checkpoint c, String name) {
        if (!c.contains(name)) {
            throw new IllegalArgumentException("the model has no tensor '" + name + "'");
        }
        return c.info(name).shape();
    }
}
