package osprey4j.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.train.export.OspreyShape;
import osprey4j.train.nn.Conv;
import osprey4j.train.nn.LayerNorm;
import osprey4j.train.nn.Linear;
import osprey4j.train.nn.Pointwise;

/**
 * The ConvNeXt vision tower as trainable {@link Param}s, for models whose tower is not a pretrained CLIP (the
 * paper freezes its tower; a model trained from scratch, such as the demo, may train it). Forward and backward
 * of timm's ConvNeXt as open_clip runs it, on channels-last arrays [H*W, C], llm.c style:
 * <pre>
 *   stem      x = LayerNorm(conv4x4/4(pixels))                                  stem.0, stem.1
 *   stage s   x = conv2x2/2(LayerNorm(x))            (s > 0)                     downsample.0, downsample.1
 *             x = x + gamma * fc2(GELU(fc1(LayerNorm(conv_dw7x7(x)))))  per block   blocks.b.*
 *   res(s+2)  = x after stage s
 * </pre>
 * Parameters are named by the Osprey checkpoint's keys ({@link OspreyShape#TOWER_PREFIX}{@code visual.trunk.*}),
 * so {@link TrainableOsprey#stateDict} exports them to both the Osprey weights and the CLIP file. The LayerNorms
 * use eps 1e-6 as timm's ConvNeXt does.
 */
public final class TrainableTower {
    static final float EPS = 1e-6f;
    private static final String TRUNK = "visual.trunk.";
    private static final int DW_KERNEL = 7;
    private static final int STAGES = 4;

    record Block(Param dwW, Param dwB, Param normW, Param normB, Param fc1W, Param fc1B, Param fc2W, Param fc2B,
                 Param gamma) {
    }

    record Stage(Param dsNormW, Param dsNormB, Param dsConvW, Param dsConvB, int dsKernel, List<Block> blocks,
                 int channels) {
        boolean downsamples() {
            return dsConvW != null;
        }
    }

    private final Param stemW;
    private final Param stemB;
    private final Param stemNormW;
    private final Param stemNormB;
    private final int stemKernel;
    private final List<Stage> stages;
    private final List<Param> params;

    private TrainableTower(Param stemW, Param stemB, Param stemNormW, Param stemNormB, List<Stage> stages,
                           List<Param> params) {
        this.stemW = stemW;
        this.stemB = stemB;
        this.stemNormW = stemNormW;
        this.stemNormB = stemNormB;
        this.stemKernel = (int) stemW.shape()[2];
        this.stages = stages;
        this.params = params;
    }

    /**
     * Reads the tower as the reference loads it: every tensor from the Osprey weights (under
     * {@link OspreyShape#TOWER_PREFIX}), except the layer-scale gammas, which transformers' loader takes from the
     * CLIP file; a tensor the Osprey weights lack comes from the CLIP file too.
     *
     * @param clip the CLIP file {@code mm_vision_tower} names, or empty
     */
    public static TrainableTower load(Checkpoint osprey, Optional<Checkpoint> clip) {
        List<Param> all = new ArrayList<>();
        java.util.function.Function<String, Param> read = name -> {
            String full = OspreyShape.TOWER_PREFIX + TRUNK + name;
            Checkpoint from;
            String key;
            if (clip.isPresent() && clip.get().contains(TRUNK + name) && (name.endsWith("gamma") || !osprey.contains(full))) {
                from = clip.get();
                key = TRUNK + name;
            } else if (osprey.contains(full)) {
                from = osprey;
                key = full;
            } else {
                throw new CheckpointException("missing vision tower weight '" + full + "' (nor '" + TRUNK + name
                        + "' in the CLIP file)");
            }
            Tensor t = from.tensor(key);
            float[] v = (t.dtype() == DType.F32 ? t : t.to(DType.F32)).toFloatArray();
            Param p = new Param(full, v, t.shape());
            all.add(p);
            return p;
        };
        Param stemW = read.apply("stem.0.weight");
        Param stemB = read.apply("stem.0.bias");
        Param stemNW = read.apply("stem.1.weight");
        Param stemNB = read.apply("stem.1.bias");
        List<Stage> stages = new ArrayList<>();
        for (int s = 0; s < STAGES; s++) {
            String st = "stages." + s + ".";
            Param dnW = null, dnB = null, dcW = null, dcB = null;
            int k = 0;
            if (s > 0) {
                dnW = read.apply(st + "downsample.0.weight");
                dnB = read.apply(st + "downsample.0.bias");
                dcW = read.apply(st + "downsample.1.weight");
                dcB = read.apply(st + "downsample.1.bias");
                k = (int) dcW.shape()[2];
            }
            List<Block> blocks = new ArrayList<>();
            for (int b = 0; osprey.contains(OspreyShape.TOWER_PREFIX + TRUNK + st + "blocks." + b + ".conv_dw.weight")
                    || clip.isPresent() && clip.get().contains(TRUNK + st + "blocks." + b + ".conv_dw.weight"); b++) {
                String p = st + "blocks." + b + ".";
                Param gamma = read.apply(p + "gamma");
                blocks.add(new Block(read.apply(p + "conv_dw.weight"), read.apply(p + "conv_dw.bias"),
                        read.apply(p + "norm.weight"), read.apply(p + "norm.bias"), read.apply(p + "mlp.fc1.weight"),
                        read.apply(p + "mlp.fc1.bias"), read.apply(p + "mlp.fc2.weight"), read.apply(p + "mlp.fc2.bias"),
                        gamma));
            }
            if (blocks.isEmpty()) {
                throw new CheckpointException("the vision tower has no blocks in stage " + s);
            }
            int channels = (int) blocks.getFirst().dwW().shape()[0];
            stages.add(new Stage(dnW, dnB, dcW, dcB, k, List.copyOf(blocks), channels));
        }
        return new TrainableTower(stemW, stemB, stemNW, stemNB, List.copyOf(stages), List.copyOf(all));
    }

    /** Every parameter, in checkpoint order. */
    public List<Param> params() {
        return params;
    }

    /** Channels of res2..res5. */
    public int[] levelChannels() {
        int[] c = new int[STAGES];
        for (int s = 0; s < STAGES; s++) {
            c[s] = stages.get(s).channels();
        }
        return c;
    }

    /** The number of res4 tokens (the projector's input rows) for an input of {@code height x width} pixels. */
    public int tokenCount(int height, int width) {
        int h = height / stemKernel, w = width / stemKernel;
        for (int s = 0; s <= 2; s++) {
            if (stages.get(s).downsamples()) {
                h /= stages.get(s).dsKernel();
                w /= stages.get(s).dsKernel();
            }
        }
        return h * w;
    }

    /** The weights as F32 tensors under their checkpoint names. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Param p : params) {
            out.put(p.name(), Tensor.wrap(p.value(), p.shape()));
        }
        return out;
    }

    /** A block's saved activations. */
    private static final class BlockActs {
        float[] in;
        float[] dw;
        float[] mean;
        float[] rstd;
        float[] ln;
        float[] fc1;
        float[] act;
        float[] fc2;
    }

    /** One image's forward: the levels and everything the backward needs. */
    public static final class Pass {
        /** res2..res5, channels-last [h*w, C]. */
        final float[][] levels = new float[STAGES][];
        final int[] heights = new int[STAGES];
        final int[] widths = new int[STAGES];
        float[] stemPatches;
        float[] stemConv;
        float[] stemMean;
        float[] stemRstd;
        final float[][] dsIn = new float[STAGES][];
        final float[][] dsMean = new float[STAGES][];
        final float[][] dsRstd = new float[STAGES][];
        final float[][] dsPatches = new float[STAGES][];
        final List<List<BlockActs>> blocks = new ArrayList<>();

        /** Level s (0 = res2) channels-last [h*w, C]. */
        public float[] level(int s) {
            return levels[s];
        }

        public int height(int s) {
            return heights[s];
        }

        public int width(int s) {
            return widths[s];
        }
    }

    /** Runs the tower on one preprocessed image, F32 [3, H, W] channels-first. */
    public Pass forward(float[] pixels, int height, int width) {
        int cin = (int) stemW.shape()[1];
        if (pixels.length != cin * height * width) {
            throw new IllegalArgumentException("pixels must be [" + cin + ", " + height + ", " + width + "]");
        }
        Pass a = new Pass();
        int k = stemKernel;
        int h = height / k, w = width / k;
        int c = (int) stemW.shape()[0];
        a.stemPatches = Conv.patchesChannelsFirst(pixels, cin, height, width, k);
        a.stemConv = Linear.forward(a.stemPatches, h * w, stemW.value(), stemB.value(), c, cin * k * k);
        float[] x = new float[h * w * c];
        a.stemMean = new float[h * w];
        a.stemRstd = new float[h * w];
        LayerNorm.forward(a.stemConv, stemNormW.value(), stemNormB.value(), EPS, h * w, c, x, a.stemMean, a.stemRstd);
        for (int s = 0; s < STAGES; s++) {
            Stage st = stages.get(s);
            if (st.downsamples()) {
                int dk = st.dsKernel();
                a.dsIn[s] = x;
                float[] normed = new float[x.length];
                a.dsMean[s] = new float[h * w];
                a.dsRstd[s] = new float[h * w];
                LayerNorm.forward(x, st.dsNormW().value(), st.dsNormB().value(), EPS, h * w, c, normed, a.dsMean[s], a.dsRstd[s]);
                a.dsPatches[s] = Conv.patchesChannelsLast(normed, c, h, w, dk);
                h /= dk;
                w /= dk;
                x = Linear.forward(a.dsPatches[s], h * w, st.dsConvW().value(), st.dsConvB().value(), st.channels(), c * dk * dk);
                c = st.channels();
            }
            List<BlockActs> saved = new ArrayList<>();
            for (Block b : st.blocks()) {
                BlockActs ba = blockForward(b, x, h, w, c);
                saved.add(ba);
                x = new float[x.length];
                float[] g = b.gamma().value();
                for (int p = 0; p < h * w; p++) {
                    for (int ch = 0; ch < c; ch++) {
                        int i = p * c + ch;
                        x[i] = ba.in[i] + g[ch] * ba.fc2[i];
                    }
                }
            }
            a.blocks.add(saved);
            a.levels[s] = x;
            a.heights[s] = h;
            a.widths[s] = w;
        }
        return a;
    }

    private static BlockActs blockForward(Block b, float[] x, int h, int w, int c) {
        BlockActs ba = new BlockActs();
        int rows = h * w;
        int hidden = (int) b.fc1W().shape()[0];
        ba.in = x;
        ba.dw = Conv.depthwiseForward(x, c, h, w, b.dwW().value(), b.dwB().value(), DW_KERNEL);
        ba.ln = new float[rows * c];
        ba.mean = new float[rows];
        ba.rstd = new float[rows];
        LayerNorm.forward(ba.dw, b.normW().value(), b.normB().value(), EPS, rows, c, ba.ln, ba.mean, ba.rstd);
        ba.fc1 = Linear.forward(ba.ln, rows, b.fc1W().value(), b.fc1B().value(), hidden, c);
        ba.act = Pointwise.gelu(ba.fc1);
        ba.fc2 = Linear.forward(ba.act, rows, b.fc2W().value(), b.fc2B().value(), c, hidden);
        return ba;
    }

    /**
     * Accumulates the gradients of every trainable tower parameter, given the loss's gradient with respect to
     * each level ({@code dLevels[s]} channels-last like {@link Pass#level}; null for a level that received none).
     */
    public void backward(Pass a, float[][] dLevels) {
        float[] dx = null;
        for (int s = STAGES - 1; s >= 0; s--) {
            Stage st = stages.get(s);
            int h = a.heights[s], w = a.widths[s], c = st.channels();
            if (dLevels[s] != null) {
                if (dx == null) {
                    dx = dLevels[s].clone();
                } else {
                    for (int i = 0; i < dx.length; i++) {
                        dx[i] += dLevels[s][i];
                    }
                }
            }
            if (dx == null) {
                continue;   // nothing above this stage reached the loss
            }
            List<BlockActs> saved = a.blocks.get(s);
            for (int bi = st.blocks().size() - 1; bi >= 0; bi--) {
                dx = blockBackward(st.blocks().get(bi), saved.get(bi), dx, h, w, c);
            }
            if (st.downsamples()) {
                int dk = st.dsKernel();
                int cin = stages.get(s - 1).channels();
                int hin = a.heights[s - 1], win = a.widths[s - 1];   // the stride-k conv may have dropped a last row or column
                float[] dPatches = Linear.backward(dx, a.dsPatches[s], h * w, st.dsConvW().value(), st.dsConvW().grad(),
                        st.dsConvB().grad(), c, cin * dk * dk, true);
                float[] dNormed = new float[hin * win * cin];
                Conv.unpatchChannelsLast(dPatches, cin, hin, win, dk, dNormed);
                float[] dIn = new float[dNormed.length];
                LayerNorm.backward(dNormed, a.dsIn[s], st.dsNormW().value(), a.dsMean[s], a.dsRstd[s], hin * win, cin,
                        dIn, st.dsNormW().grad(), st.dsNormB().grad());
                dx = dIn;
            }
        }
        if (dx == null || !(stemW.trainable() || stemB.trainable() || stemNormW.trainable() || stemNormB.trainable())) {
            return;
        }
        int c = (int) stemW.shape()[0];
        int rows = a.stemMean.length;
        float[] dConv = new float[rows * c];
        LayerNorm.backward(dx, a.stemConv, stemNormW.value(), a.stemMean, a.stemRstd, rows, c, dConv, stemNormW.grad(),
                stemNormB.grad());
        int cols = (int) (stemW.shape()[1] * stemW.shape()[2] * stemW.shape()[3]);
        Linear.backward(dConv, a.stemPatches, rows, stemW.value(), stemW.grad(), stemB.grad(), c, cols, false);
    }

    /** Takes d(block out) and returns d(block in), accumulating the block's weight gradients. */
    private static float[] blockBackward(Block b, BlockActs ba, float[] dOut, int h, int w, int c) {
        int rows = h * w;
        int hidden = (int) b.fc1W().shape()[0];
        float[] g = b.gamma().value();
        float[] dGamma = b.gamma().grad();
        float[] dFc2 = new float[rows * c];
        for (int p = 0; p < rows; p++) {
            for (int ch = 0; ch < c; ch++) {
                int i = p * c + ch;
                dFc2[i] = dOut[i] * g[ch];
                if (dGamma != null) {
                    dGamma[ch] += dOut[i] * ba.fc2[i];
                }
            }
        }
        float[] dAct = Linear.backward(dFc2, ba.act, rows, b.fc2W().value(), b.fc2W().grad(), b.fc2B().grad(), c, hidden, true);
        float[] dFc1 = Pointwise.geluBackward(dAct, ba.fc1);
        float[] dLn = Linear.backward(dFc1, ba.ln, rows, b.fc1W().value(), b.fc1W().grad(), b.fc1B().grad(), hidden, c, true);
        float[] dDw = new float[rows * c];
        LayerNorm.backward(dLn, ba.dw, b.normW().value(), ba.mean, ba.rstd, rows, c, dDw, b.normW().grad(), b.normB().grad());
        float[] dIn = Conv.depthwiseBackward(dDw, ba.in, c, h, w, b.dwW().value(), DW_KERNEL, b.dwW().grad(),
                b.dwB().grad(), true);
        for (int i = 0; i < dIn.length; i++) {
            dIn[i] += dOut[i];
        }
        return dIn;
    }
}
