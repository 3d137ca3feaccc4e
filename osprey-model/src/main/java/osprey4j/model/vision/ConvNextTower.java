package osprey4j.model.vision;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.kernels.Activations;
import osprey4j.core.kernels.ChannelLayout;
import osprey4j.core.kernels.Conv2d;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.Norms;
import osprey4j.core.kernels.Residual;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Osprey's vision encoder: the trunk of open_clip's ConvNeXt (timm 0.6.13 {@code ConvNeXt}, ConvNeXt-Large
 * in Osprey-7B), run as the reference's {@code CLIP.extract_features}: the stem, then the four stages, keeping
 * every output. The open_clip head and timm's classifier head are never run.
 *
 * <pre>
 * stem   = LayerNorm2d(Conv 4x4 stride 4 (pixels))                       [C0, H/4,  W/4]
 * res2   = stage 0 (stem)   (no downsampling: C0 channels in and out)    [C0, H/4,  W/4]
 * res3   = stage 1 (res2)   downsample = LayerNorm2d + Conv 2x2 stride 2  [C1, H/8,  W/8]
 * res4   = stage 2 (res3)                                                [C2, H/16, W/16]
 * res5   = stage 3 (res4)                                                [C3, H/32, W/32]
 * block: x + gamma * fc2(GELU(fc1(LayerNorm(dwconv7x7(x)))))   (LayerNorm and MLP channels-last)
 * </pre>
 * All LayerNorms use timm's eps 1e-6 (not stored in checkpoints). Depths, widths, kernel and patch sizes
 * come from the weights' shapes. Activations are F32; weights may be F32, F16 or BF16 and are used in place
 * (the downsampling filters are kept as a reordered copy).
 *
 * <p><b>Layout</b>: the computation keeps the residual stream channels-last, [H*W, C], from the stem to the
 * last block (see {@link #forward(Tensor, Timings)}); only the returned feature maps are channels-first. The
 * block MLP's two GEMMs are ~95% of the work (ConvNeXt-Large on 512 x 512: 348 of 364 GFLOP).
 *
 * <p><b>Where the weights come from</b> (the reference's loading, reproduced): the reference first builds the
 * tower from the CLIP file that {@code mm_vision_tower} names (open_clip layout, keys {@code visual.trunk.*}),
 * then loads the Osprey weights over it, where the tower's keys are
 * {@code model.vision_tower.vision_tower.visual.trunk.*}. transformers 4.31 renames every checkpoint key
 * containing {@code gamma} to {@code weight} while loading, so the Osprey copies of the layer-scale
 * {@code gamma}s match no parameter and are dropped: <b>gammas come from the CLIP file, every other tower
 * weight from the Osprey weights</b> (and from the CLIP file when the Osprey weights lack it, as
 * {@code strict=False} loading leaves the CLIP value in place).
 *
 * <p>Without a CLIP file the reference cannot run at all ({@code torch.load(mm_vision_tower)} fails while the
 * model is built). Here the gammas are then taken from the Osprey weights, with a warning: the tower is frozen
 * in all of Osprey's training stages, so in a released checkpoint these copies hold the CLIP file's values and
 * the result is the same. They differ only in checkpoints made otherwise (the parity fixture's two files
 * differ on purpose, to show the quirk).
 */
public final class ConvNextTower {
    private static final System.Logger LOG = System.getLogger(ConvNextTower.class.getName());
    /** timm's LayerNorm and LayerNorm2d default, used by every ConvNeXt norm. */
    static final float EPS = 1e-6f;
    /** The ConvNeXt key prefix is found as whatever precedes this key. */
    private static final String STEM_KEY = "stem.0.weight";
    private static final int STAGES = 4;

    /** The reference's feature dict: each map F32 [C, H, W]. */
    public record Features(Tensor stem, Tensor res2, Tensor res3, Tensor res4, Tensor res5) {
        public Features {
            Objects.requireNonNull(stem, "stem");
            Objects.requireNonNull(res2, "res2");
            Objects.requireNonNull(res3, "res3");
            Objects.requireNonNull(res4, "res4");
            Objects.requireNonNull(res5, "res5");
        }

        /** res2..res5, in the order the mask extractor uses them. */
        public List<Tensor> levels() {
            return List.of(res2, res3, res4, res5);
        }
    }

    /** One ConvNeXt block; fields named after timm's keys. */
    private record Block(float[] gamma, Tensor convDwWeight, Tensor convDwBias, Tensor normWeight, Tensor normBias,
                         Tensor fc1Weight, Tensor fc1Bias, Tensor fc2Weight, Tensor fc2Bias) {
        int hidden() {
            return fc1Weight.size(0);
        }
    }

    /**
     * A stage: optional downsample (LayerNorm2d, then a k x k stride-k conv), then its blocks. The conv's
     * filters are kept reordered tap-major ({@link Conv2d#filtersTapMajor}), so the conv is one GEMM over
     * the channels-last stream's patches.
     */
    private record Stage(Tensor downsampleNormWeight, Tensor downsampleNormBias, Tensor downsampleRows,
                         int downsampleKernel, Tensor downsampleBias, List<Block> blocks, int channels) {
        boolean downsamples() {
            return downsampleRows != null;
        }
    }

    private final Tensor stemWeight;
    private final Tensor stemBias;
    private final Tensor stemNormWeight;
    private final Tensor stemNormBias;
    private final List<Stage> stages;

    private ConvNextTower(Tensor stemWeight, Tensor stemBias, Tensor stemNormWeight, Tensor stemNormBias,
                          List<Stage> stages) {
        this.stemWeight = stemWeight;
        this.stemBias = stemBias;
        this.stemNormWeight = stemNormWeight;
        this.stemNormBias = stemNormBias;
        this.stages = stages;
    }

    /**
     * Loads the tower the way the reference does (see the class comment), finding the ConvNeXt key prefix in
     * each checkpoint as the text before {@code stem.0.weight}.
     *
     * @param ospreyWeights the Osprey model weights; may lack the tower (then everything comes from the CLIP file)
     * @param clipWeights   the file {@code mm_vision_tower} names (open_clip layout), or null when there is none
     */
    public static ConvNextTower load(Checkpoint ospreyWeights, Checkpoint clipWeights) {
        Objects.requireNonNull(ospreyWeights, "ospreyWeights");
        return load(ospreyWeights, findPrefix(ospreyWeights), clipWeights,
                clipWeights == null ? null : findPrefix(clipWeights));
    }

    /**
     * Loads the tower with explicit key prefixes (such as {@code "model.vision_tower.vision_tower.visual.trunk."}
     * and {@code "visual.trunk."}); a null prefix means that checkpoint has no tower weights.
     */
    public static ConvNextTower load(Checkpoint ospreyWeights, String ospreyPrefix, Checkpoint clipWeights,
                                     String clipPrefix) {
        Objects.requireNonNull(ospreyWeights, "ospreyWeights");
        Source src = new Source(ospreyWeights, ospreyPrefix == null ? null : Weights.withDot(ospreyPrefix),
                clipWeights, clipWeights == null || clipPrefix == null ? null : Weights.withDot(clipPrefix));
        return src.build();
    }

    /** The prefix before {@code stem.0.weight}, or null when the checkpoint has no ConvNeXt. */
    public static String findPrefix(Checkpoint checkpoint) {
        List<String> stems = Weights.keysEndingWith(checkpoint, STEM_KEY).stream()
                .filter(k -> k.equals(STEM_KEY) || k.endsWith("." + STEM_KEY)).toList();
        if (stems.size() > 1) {
            throw new CheckpointException("several ConvNeXt stems " + stems + Weights.where(checkpoint)
                    + "; pass the key prefix explicitly");
        }
        return stems.isEmpty() ? null : stems.getFirst().substring(0, stems.getFirst().length() - STEM_KEY.length());
    }

    /** Resolves each tower weight to the checkpoint the reference takes it from, checking its shape. */
    private static final class Source {
        private final Checkpoint osprey;
        private final String ospreyPrefix;
        private final Checkpoint clip;
        private final String clipPrefix;
        private boolean warnedGammaFallback;

        Source(Checkpoint osprey, String ospreyPrefix, Checkpoint clip, String clipPrefix) {
            this.osprey = osprey;
            this.ospreyPrefix = ospreyPrefix;
            this.clip = clip;
            this.clipPrefix = clipPrefix;
        }

        /** The checkpoint whose keys define the architecture: the Osprey weights if they hold a tower. */
        private boolean inOsprey(String suffix) {
            return ospreyPrefix != null && osprey.contains(ospreyPrefix + suffix);
        }

        private boolean inClip(String suffix) {
            return clipPrefix != null && clip.contains(clipPrefix + suffix);
        }

        private boolean exists(String suffix) {
            return inOsprey(suffix) || inClip(suffix);
        }

        private long[] shape(String suffix, int rank) {
            return inOsprey(suffix) ? Weights.shapeOf(osprey, ospreyPrefix + suffix, rank)
                    : Weights.shapeOf(clip, clipPrefix + suffix, rank);
        }

        /** A non-gamma weight: the Osprey copy when there is one, else the CLIP file's. */
        Tensor weight(String suffix, long... shape) {
            if (inOsprey(suffix)) {
                return Weights.require(osprey, ospreyPrefix + suffix, shape);
            }
            if (inClip(suffix)) {
                return Weights.require(clip, clipPrefix + suffix, shape);
            }
            throw missing(suffix, shape);
        }

        /** A layer-scale gamma: the CLIP file's (the Osprey copy is dropped by the reference's loader). */
        float[] gamma(String suffix, long channels) {
            if (inClip(suffix)) {
                return Weights.require(clip, clipPrefix + suffix, channels).toFloatArray();
            }
            if (clip != null && clipPrefix != null) {
                // The reference would keep timm's initial value 1e-6 here; a CLIP file without gammas is not a
                // ConvNeXt CLIP file, so refuse it rather than silently produce a different network.
                throw missing(suffix, channels);
            }
            if (inOsprey(suffix)) {
                if (!warnedGammaFallback) {
                    warnedGammaFallback = true;
                    LOG.log(System.Logger.Level.WARNING, "no ConvNeXt from a CLIP vision tower file (mm_vision_tower): "
                            + "taking the layer-scale gammas from the Osprey weights. The reference takes them from the mm_vision_tower file "
                            + "(and cannot run without it); the two agree when the tower was frozen in training, as in "
                            + "Osprey's released checkpoints");
                }
                return Weights.require(osprey, ospreyPrefix + suffix, channels).toFloatArray();
            }
            throw missing(suffix, channels);
        }

        private CheckpointException missing(String suffix, long... shape) {
            List<String> looked = new ArrayList<>();
            if (ospreyPrefix != null) {
                looked.add("'" + ospreyPrefix + suffix + "' in the Osprey weights");
            }
            if (clipPrefix != null) {
                looked.add("'" + clipPrefix + suffix + "' in the CLIP file");
            }
            return new CheckpointException("missing ConvNeXt weight " + String.join(" or ", looked)
                    + " (expected shape " + Arrays.toString(shape) + ")");
        }

        ConvNextTower build() {
            if (ospreyPrefix == null && clipPrefix == null) {
                throw new CheckpointException("no ConvNeXt vision tower: no key ending in '" + STEM_KEY
                        + "' in the Osprey weights" + Weights.where(osprey)
                        + (clip == null ? " and no CLIP file was given" : " nor in the CLIP file" + Weights.where(clip)));
            }
            long[] stemShape = shape(STEM_KEY, 4);
            long c0 = stemShape[0];
            long patch = stemShape[2];
            if (stemShape[1] != 3 || stemShape[3] != patch) {
                throw new CheckpointException("stem convolution 'stem.0.weight' has the wrong shape: expected [C, 3, k, k], found "
                        + Arrays.toString(stemShape));
            }
            Tensor stemW = weight(STEM_KEY, c0, 3, patch, patch);
            Tensor stemB = weight("stem.0.bias", c0);
            Tensor stemNormW = weight("stem.1.weight", c0);
            Tensor stemNormB = weight("stem.1.bias", c0);
            if (exists("stages." + STAGES + ".blocks.0.conv_dw.weight")) {
                throw new CheckpointException("the ConvNeXt has more than " + STAGES + " stages; Osprey uses exactly "
                        + STAGES + " (res2..res5)");
            }
            List<Stage> stages = new ArrayList<>();
            long prev = c0;
            for (int s = 0; s < STAGES; s++) {
                Stage stage = stage(s, prev);
                stages.add(stage);
                prev = stage.channels();
            }
            return new ConvNextTower(stemW, stemB, stemNormW, stemNormB, List.copyOf(stages));
        }

        private Stage stage(int s, long inChannels) {
            String p = "stages." + s + ".";
            if (!exists(p + "blocks.0.conv_dw.weight")) {
                throw new CheckpointException("missing ConvNeXt stage " + s + ": no key '" + p
                        + "blocks.0.conv_dw.weight' after the prefix " + (ospreyPrefix != null ? "'" + ospreyPrefix
                        + "' in the Osprey weights" : "'" + clipPrefix + "' in the CLIP file"));
            }
            long c = shape(p + "blocks.0.conv_dw.weight", 4)[0];
            Tensor dsNormW = null, dsNormB = null, dsRows = null, dsB = null;
            int dsKernel = 0;
            if (exists(p + "downsample.1.weight")) {
                long k = shape(p + "downsample.1.weight", 4)[2];
                dsNormW = weight(p + "downsample.0.weight", inChannels);
                dsNormB = weight(p + "downsample.0.bias", inChannels);
                dsRows = Conv2d.filtersTapMajor(weight(p + "downsample.1.weight", c, inChannels, k, k));
                dsKernel = Math.toIntExact(k);
                dsB = weight(p + "downsample.1.bias", c);
            } else if (c != inChannels) {
                throw missing(p + "downsample.1.weight", c, inChannels, 2, 2);
            }
            long[] dwShape = shape(p + "blocks.0.conv_dw.weight", 4);
            long kernel = dwShape[2];
            long hidden = shape(p + "blocks.0.mlp.fc1.weight", 2)[0];
            List<Block> blocks = new ArrayList<>();
            for (int b = 0; exists(p + "blocks." + b + ".conv_dw.weight"); b++) {
                String q = p + "blocks." + b + ".";
                blocks.add(new Block(
                        gamma(q + "gamma", c),
                        weight(q + "conv_dw.weight", c, 1, kernel, kernel),
                        weight(q + "conv_dw.bias", c),
                        weight(q + "norm.weight", c),
                        weight(q + "norm.bias", c),
                        weight(q + "mlp.fc1.weight", hidden, c),
                        weight(q + "mlp.fc1.bias", hidden),
                        weight(q + "mlp.fc2.weight", c, hidden),
                        weight(q + "mlp.fc2.bias", c)));
            }
            return new Stage(dsNormW, dsNormB, dsRows, dsKernel, dsB, List.copyOf(blocks), Math.toIntExact(c));
        }
    }

    /** Channel widths of the stem and the four stages (ConvNeXt-Large: 192, 192, 384, 768, 1536). */
    public int[] channels() {
        int[] out = new int[STAGES + 1];
        out[0] = stemWeight.size(0);
        for (int s = 0; s < STAGES; s++) {
            out[s + 1] = stages.get(s).channels();
        }
        return out;
    }

    /**
     * This tower with the weights of its GEMMs (block MLPs, stem and downsampling filters; 99% of the parameters)
     * converted to F32 copies; the rest is shared. F16/BF16 weights convert exactly, so the results are those of
     * this tower up to summation order. A speed-for-memory trade: twice the weight memory (ConvNeXt-Large: 0.8 GB
     * instead of 0.4 GB), and the GEMMs skip converting weights on every use (see {@code osprey bench vision}).
     */
    public ConvNextTower withF32Weights() {
        List<Stage> converted = new ArrayList<>();
        for (Stage st : stages) {
            List<Block> blocks = new ArrayList<>();
            for (Block b : st.blocks()) {
                blocks.add(new Block(b.gamma(), b.convDwWeight(), b.convDwBias(), b.normWeight(), b.normBias(),
                        f32(b.fc1Weight()), b.fc1Bias(), f32(b.fc2Weight()), b.fc2Bias()));
            }
            converted.add(new Stage(st.downsampleNormWeight(), st.downsampleNormBias(),
                    st.downsamples() ? f32(st.downsampleRows()) : null, st.downsampleKernel(), st.downsampleBias(),
                    List.copyOf(blocks), st.channels()));
        }
        return new ConvNextTower(f32(stemWeight), stemBias, stemNormWeight, stemNormBias, List.copyOf(converted));
    }

    private static Tensor f32(Tensor t) {
        return t.dtype() == DType.F32 ? t : t.to(DType.F32);
    }

    /**
     * Gives the physical memory of this tower's weights back to the operating system where they are mapped from the
     * checkpoint file ({@link MemorySegment#unload}, madvise DONTNEED): the pages leave this process's resident set
     * but stay in the page cache, so the next {@link #forward} maps them again without reading the disk. Weights held
     * in memory (an F32 copy, a test's tensors) are left alone. The tower works as before afterwards.
     */
    public void releaseMappedWeights() {
        List<Tensor> weights = new ArrayList<>(List.of(stemWeight, stemBias, stemNormWeight, stemNormBias));
        for (Stage st : stages) {
            weights.addAll(Arrays.asList(st.downsampleNormWeight(), st.downsampleNormBias(),
                    st.downsampleRows(), st.downsampleBias()));
            for (Block b : st.blocks()) {
                weights.addAll(List.of(b.convDwWeight(), b.convDwBias(), b.normWeight(), b.normBias(), b.fc1Weight(),
                        b.fc1Bias(), b.fc2Weight(), b.fc2Bias()));
            }
        }
        for (Tensor t : weights) {
            if (t != null && t.segment().isMapped() && t.byteSize() > 0) {
                t.segment().unload();
            }
        }
    }

    /** Blocks per stage (ConvNeXt-Large: 3, 3, 27, 3). */
    public int[] depths() {
        return stages.stream().mapToInt(s -> s.blocks().size()).toArray();
    }

    /** The tower's steps, for {@link Timings}. */
    public enum Op {
        STEM, DOWNSAMPLE, DEPTHWISE, NORM, FC1, GELU, FC2, RESIDUAL, LAYOUT
    }

    /**
     * Wall-clock time per kind of step, summed over a forward pass (or several): where a forward spends its time.
     * Not thread-safe; one forward at a time.
     */
    public static final class Timings {
        private final long[] nanos = new long[Op.values().length];

        private long add(Op op, long since) {
            long now = System.nanoTime();
            nanos[op.ordinal()] += now - since;
            return now;
        }

        /** Seconds spent in {@code op}. */
        public double seconds(Op op) {
            return nanos[op.ordinal()] / 1e9;
        }

        /** Seconds over all steps. */
        public double totalSeconds() {
            long t = 0;
            for (long n : nanos) {
                t += n;
            }
            return t / 1e9;
        }
    }

    /**
     * Runs the tower on one preprocessed image.
     *
     * @param pixels F32 [3, H, W] (Osprey: 3 x 512 x 512, CLIP-normalised)
     * @return stem and res2..res5, each a new F32 [C, H, W] tensor
     */
    public Features forward(Tensor pixels) {
        return forward(pixels, null);
    }

    /**
     * {@link #forward(Tensor)}, adding the time of each step to {@code timings} when it is not null.
     *
     * <p>The residual stream stays channels-last, [H*W, C], from the stem to the last block: the depthwise
     * convolution runs on that layout, the block MLP is one GEMM over its rows and the downsampling conv one GEMM
     * over gathered patches, so the only layout changes are the five returned feature maps.
     */
    public Features forward(Tensor pixels, Timings timings) {
        Objects.requireNonNull(pixels, "pixels");
        if (pixels.dtype() != DType.F32 || pixels.rank() != 3 || pixels.dim(0) != stemWeight.dim(1)) {
            throw new IllegalArgumentException("pixels must be F32 [" + stemWeight.dim(1) + ", H, W], got " + pixels);
        }
        int minSide = stemWeight.size(2) << (STAGES - 1);
        if (pixels.dim(1) < minSide || pixels.dim(2) < minSide) {
            throw new IllegalArgumentException("image " + pixels.dim(2) + "x" + pixels.dim(1)
                    + " is too small for the ConvNeXt (at least " + minSide + "x" + minSide + ")");
        }
        Step step = new Step(timings);
        // The stem conv as one GEMM over the image's patches, (c, ky, kx) ordered like the filters' own layout.
        int k0 = stemWeight.size(2);
        int h = pixels.size(1) / k0, w = pixels.size(2) / k0;
        Tensor x = Conv2d.patchify(pixels, stemWeight, stemBias);
        Norms.layerNorm(x, stemNormWeight, stemNormBias, EPS);
        step.done(Op.STEM);
        Tensor stem = ChannelLayout.toChannelsFirst(x, h, w);
        step.done(Op.LAYOUT);
        Tensor[] res = new Tensor[STAGES];
        // Scratch for the blocks, sized for the largest stage and shared by all: the depthwise output (later the
        // MLP output) and the MLP's hidden rows.
        long maxRows = 0, maxHidden = 0;
        long sh = h, sw = w;
        for (Stage s : stages) {
            if (s.downsamples()) {
                sh /= s.downsampleKernel();
                sw /= s.downsampleKernel();
            }
            maxRows = Math.max(maxRows, sh * sw * s.channels());
            for (Block b : s.blocks()) {
                maxHidden = Math.max(maxHidden, sh * sw * b.hidden());
            }
        }
        try (Arena scratch = Arena.ofShared()) {
            MemorySegment rowsBuffer = scratch.allocate(maxRows * Float.BYTES, 64);
            MemorySegment hiddenBuffer = scratch.allocate(maxHidden * Float.BYTES, 64);
            for (int s = 0; s < STAGES; s++) {
                Stage stage = stages.get(s);
                if (stage.downsamples()) {
                    int k = stage.downsampleKernel();
                    Tensor normed = Tensor.zeros(DType.F32, x.shape());
                    Norms.layerNorm(x, stage.downsampleNormWeight(), stage.downsampleNormBias(), EPS, normed);
                    Tensor patches = Tensor.zeros(DType.F32, (long) (h / k) * (w / k), (long) k * k * x.size(1));
                    Conv2d.patchRows(normed, h, w, k, patches);
                    x = Gemm.linear(patches, stage.downsampleRows(), stage.downsampleBias());
                    h /= k;
                    w /= k;
                    step.done(Op.DOWNSAMPLE);
                }
                for (Block b : stage.blocks()) {
                    block(b, x, h, rowsBuffer, hiddenBuffer, step);
                }
                res[s] = ChannelLayout.toChannelsFirst(x, h, w);
                step.done(Op.LAYOUT);
            }
        }
        return new Features(stem, res[0], res[1], res[2], res[3]);
    }

    /** One block, updating the channels-last stream {@code x} [H*W, C] in place. */
    private static void block(Block b, Tensor x, int h, MemorySegment rowsBuffer, MemorySegment hiddenBuffer,
                              Step step) {
        int c = x.size(1);
        long pixels = x.dim(0);
        Tensor rows = Tensor.of(DType.F32, rowsBuffer.asSlice(0, pixels * c * Float.BYTES), pixels, c);
        Tensor hidden = Tensor.of(DType.F32, hiddenBuffer.asSlice(0, pixels * b.hidden() * Float.BYTES), pixels, b.hidden());
        Conv2d.depthwiseChannelsLast(x, h, b.convDwWeight(), b.convDwBias(), rows);
        step.done(Op.DEPTHWISE);
        Norms.layerNorm(rows, b.normWeight(), b.normBias(), EPS);
        step.done(Op.NORM);
        Gemm.linear(rows, b.fc1Weight(), b.fc1Bias(), hidden);
        step.done(Op.FC1);
        Activations.gelu(hidden);
        step.done(Op.GELU);
        Gemm.linear(hidden, b.fc2Weight(), b.fc2Bias(), rows);
        step.done(Op.FC2);
        Residual.addScaled(rows, b.gamma(), x);
        step.done(Op.RESIDUAL);
    }

    /** Charges the time since the previous step to each step as it completes (nothing without timings). */
    private static final class Step {
        private final Timings timings;
        private long last;

        Step(Timings timings) {
            this.timings = timings;
            this.last = timings == null ? 0 : System.nanoTime();
        }

        void done(Op op) {
            if (timings != null) {
                last = timings.add(op, last);
            }
        }
    }
}
