package osprey4j.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.OspreyConfig;
import osprey4j.model.llm.LlamaConfig;

/**
 * The trainable part of Osprey as F32 {@link Param}s named by their checkpoint keys: the LLaMA (embedding,
 * decoder layers, final norm, LM head), the projector {@code model.mm_projector.*} and the mask extractor
 * {@code mask_extractor.*}. The CLIP tower is here only when asked for ({@link #load(Path, boolean)}): the paper
 * freezes it and its features are then inputs; a model trained from scratch may train it
 * ({@link TrainableTower}).
 */
public final class TrainableOsprey {
    /** One decoder layer's parameters. */
    public record Layer(Param inputNorm, Param wq, Param wk, Param wv, Param wo, Param postNorm, Param wGate,
                        Param wUp, Param wDown) {
        List<Param> all() {
            return List.of(inputNorm, wq, wk, wv, wo, postNorm, wGate, wUp, wDown);
        }
    }

    public static final String PROJECTOR = "model.mm_projector";
    public static final String EXTRACTOR = "mask_extractor";
    private static final String[] LEVELS = {"res2", "res3", "res4", "res5"};

    private final OspreyDims dims;
    final Param embed;
    final Layer[] layers;
    final Param finalNorm;
    /** The embedding itself when tied. */
    final Param head;
    final Param[] projW;
    final Param[] projB;
    final Param[] levelW = new Param[4];
    final Param[] levelB = new Param[4];
    final Param featW;
    final Param featB;
    final Param[] posW;
    final Param[] posB;
    /** The vision tower when it trains, else null (its features come from the frozen tower). */
    final TrainableTower tower;
    private final Map<String, Param> byName = new LinkedHashMap<>();

    private TrainableOsprey(OspreyDims d) {
        this(d, null);
    }

    private TrainableOsprey(OspreyDims d, TrainableTower tower) {
        this.dims = d;
        this.tower = tower;
        if (tower != null) {
            for (Param p : tower.params()) {
                byName.put(p.name(), p);
            }
        }
        int h = d.hidden(), kv = d.kvDim(), i = d.intermediate();
        embed = add("model.embed_tokens.weight", d.vocab(), h);
        layers = new Layer[d.layers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new Layer(add(p + "input_layernorm.weight", h),
                    add(p + "self_attn.q_proj.weight", h, h), add(p + "self_attn.k_proj.weight", kv, h),
                    add(p + "self_attn.v_proj.weight", kv, h), add(p + "self_attn.o_proj.weight", h, h),
                    add(p + "post_attention_layernorm.weight", h),
                    add(p + "mlp.gate_proj.weight", i, h), add(p + "mlp.up_proj.weight", i, h),
                    add(p + "mlp.down_proj.weight", h, i));
        }
        finalNorm = add("model.norm.weight", h);
        head = d.tied() ? embed : add("lm_head.weight", d.vocab(), h);
        projW = new Param[d.projectorDepth()];
        projB = new Param[d.projectorDepth()];
        for (int k = 0; k < projW.length; k++) {
            int in = k == 0 ? d.projectorIn() : h;
            projW[k] = add(PROJECTOR + "." + (2 * k) + ".weight", h, in);
            projB[k] = add(PROJECTOR + "." + (2 * k) + ".bias", h);
        }
        int[] ch = d.levelChannels();
        for (int k = 0; k < 4; k++) {
            levelW[k] = add(EXTRACTOR + "." + LEVELS[k] + ".weight", d.maskEmbed(), ch[k]);
            levelB[k] = add(EXTRACTOR + "." + LEVELS[k] + ".bias", d.maskEmbed());
        }
        featW = add(EXTRACTOR + ".feat_linear.weight", h, d.maskEmbed());
        featB = add(EXTRACTOR + ".feat_linear.bias", h);
        int[] widths = d.posHidden();
        posW = new Param[widths.length + 1];
        posB = new Param[widths.length + 1];
        for (int k = 0; k < posW.length; k++) {
            int in = k == 0 ? d.maskGrid() * d.maskGrid() : widths[k - 1];
            int out = k == widths.length ? h : widths[k];
            posW[k] = add(EXTRACTOR + ".mask_linear.layers." + k + ".weight", out, in);
            posB[k] = add(EXTRACTOR + ".mask_linear.layers." + k + ".bias", out);
        }
    }

    /** A zero parameter of the given name and shape; {@link #random} and {@link #load} fill it. */
    private Param add(String name, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        Param p = new Param(name, new float[Math.toIntExact(n)], shape);
        byName.put(name, p);
        return p;
    }

    /**
     * Random weights as the reference's fixtures draw them: weights N(0, 1/fan_in), norms 1 + 0.25 N(0,1),
     * biases 0.1 N(0,1), the embedding N(0,1). For tests and from-scratch demos.
     */
    public static TrainableOsprey random(OspreyDims d, long seed) {
        return random(d, seed, null);
    }

    /** {@link #random(OspreyDims, long)} around a given trainable tower (kept as it is), for tests. */
    static TrainableOsprey random(OspreyDims d, long seed, TrainableTower tower) {
        SplittableRandom rnd = new SplittableRandom(seed);
        TrainableOsprey m = new TrainableOsprey(d, tower);
        for (Param p : m.params()) {
            if (tower != null && tower.params().contains(p)) {
                continue;
            }
            long[] s = p.shape();
            float[] v = p.value();
            String n = p.name();
            double scale;
            double mean = 0;
            if (n.endsWith("norm.weight")) {
                mean = 1;
                scale = 0.25;
            } else if (n.endsWith(".bias")) {
                scale = 0.1;
            } else if (n.equals("model.embed_tokens.weight")) {
                scale = 1;
            } else {
                scale = 1 / Math.sqrt(s[1]);
            }
            for (int k = 0; k < v.length; k++) {
                v[k] = (float) (mean + scale * gaussian(rnd));
            }
        }
        return m;
    }

    private static double gaussian(SplittableRandom rnd) {
        double u = rnd.nextDouble(), w = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
    }

    /**
     * Copies the trainable weights of an Osprey model directory (config.json + checkpoint, official layout)
     * into F32 parameters. All parameters start frozen; {@link #freezeFor} chooses what trains.
     */
    public static TrainableOsprey load(Path modelDir) {
        return load(modelDir, false);
    }

    /**
     * {@link #load(Path)}, with the vision tower among the parameters when {@code withTower} (read as the
     * reference loads it, see {@link TrainableTower#load}); training samples must then carry pixels
     * ({@link TrainSample#withPixels}).
     */
    public static TrainableOsprey load(Path modelDir, boolean withTower) {
        Objects.requireNonNull(modelDir, "modelDir");
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException("not a model directory: " + modelDir);
        }
        LlamaConfig c = LlamaConfig.read(modelDir);
        try (Checkpoint ckpt = Checkpoints.open(modelDir)) {
            int depth = 0;
            while (ckpt.contains(PROJECTOR + "." + (2 * depth) + ".weight")) {
                depth++;
            }
            if (depth == 0) {
                throw new CheckpointException("missing weight '" + PROJECTOR + ".0.weight' (training supports the mlpNx_gelu projector)");
            }
            int projIn = (int) ckpt.info(PROJECTOR + ".0.weight").shape()[1];
            int[] ch = new int[4];
            for (int k = 0; k < 4; k++) {
                ch[k] = (int) ckpt.info(EXTRACTOR + "." + LEVELS[k] + ".weight").shape()[1];
            }
            int maskEmbed = (int) ckpt.info(EXTRACTOR + ".feat_linear.weight").shape()[1];
            List<Integer> widths = new ArrayList<>();
            int k = 0;
            long gridCells = ckpt.info(EXTRACTOR + ".mask_linear.layers.0.weight").shape()[1];
            while (ckpt.contains(EXTRACTOR + ".mask_linear.layers." + (k + 1) + ".weight")) {
                widths.add((int) ckpt.info(EXTRACTOR + ".mask_linear.layers." + k + ".weight").shape()[0]);
                k++;
            }
            int grid = (int) Math.round(Math.sqrt(gridCells));
            if ((long) grid * grid != gridCells) {
                throw new CheckpointException("mask_linear.layers.0 has " + gridCells + " inputs, not a square grid");
            }
            OspreyDims d = new OspreyDims(c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(),
                    c.numKeyValueHeads(), c.vocabSize(), c.rmsNormEps(), c.ropeTheta(), c.tieWordEmbeddings(), projIn, depth,
                    ch, maskEmbed, widths.stream().mapToInt(Integer::intValue).toArray(), grid);
            TrainableTower tower = null;
            if (withTower) {
                Optional<Path> clipFile = OspreyConfig.read(modelDir).findVisionTowerFile(modelDir);
                try (Checkpoint clip = clipFile.map(Checkpoints::open).orElse(null)) {
                    tower = TrainableTower.load(ckpt, Optional.ofNullable(clip));
                }
                if (!java.util.Arrays.equals(tower.levelChannels(), ch)) {
                    throw new CheckpointException("the vision tower's widths " + java.util.Arrays.toString(tower.levelChannels())
                            + " do not match the mask extractor's inputs " + java.util.Arrays.toString(ch));
                }
            }
            TrainableOsprey m = new TrainableOsprey(d, tower);
            for (Param p : m.params()) {
                if (tower != null && tower.params().contains(p)) {
                    continue;
                }
                Tensor t = ckpt.weight(p.name(), p.shape());
                float[] v = (t.dtype() == DType.F32 ? t : t.to(DType.F32)).toFloatArray();
                System.arraycopy(v, 0, p.value(), 0, v.length);
            }
            return m;
        }
    }

    public OspreyDims dims() {
        return dims;
    }

    /** Whether the vision tower is part of this model's parameters. */
    public boolean hasTower() {
        return tower != null;
    }

    /** Every parameter once (a tied head is the embedding), in checkpoint order. */
    public List<Param> params() {
        return List.copyOf(byName.values());
    }

    public Param param(String name) {
        Param p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter '" + name + "'");
        }
        return p;
    }

    /** The parameters that train. */
    public List<Param> trainable() {
        return byName.values().stream().filter(Param::trainable).toList();
    }

    /** Trains exactly the parameters whose names the predicate accepts; the others are frozen. */
    public void setTrainable(Predicate<String> which) {
        for (Param p : byName.values()) {
            p.setTrainable(which.test(p.name()));
        }
    }

    /** The reference's stage-wise freezing (see {@link Stage}). */
    public void freezeFor(Stage stage) {
        setTrainable(stage::trains);
    }

    public void zeroGrad() {
        for (Param p : byName.values()) {
            p.zeroGrad();
        }
    }

    /** The weights as F32 tensors under their checkpoint names (for saving with the safetensors writer). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Param p : byName.values()) {
            out.put(p.name(), Tensor.wrap(p.value(), p.shape()));
        }
        return out;
    }
}
