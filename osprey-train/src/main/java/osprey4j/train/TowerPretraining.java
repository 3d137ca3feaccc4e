package osprey4j.train;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import osprey4j.core.io.InMemoryCheckpoint;
import osprey4j.core.tensor.Tensor;
import osprey4j.data.coco.CocoMasks;
import osprey4j.model.image.ImageProcessor;
import osprey4j.model.image.RgbImage;
import osprey4j.train.export.OspreyShape;
import osprey4j.train.nn.Linear;

/**
 * Gives a from-scratch vision tower the region features that CLIP pretraining gives Osprey's: before instruction
 * tuning, the tower learns to tell the regions of an annotated world (a PACO-style {@code parts.json}, as
 * {@code osprey data world} writes it) apart, through exactly the path the mask extractor reads it by.
 *
 * <pre>
 *   levels     = tower(image)                                   res2..res5, the tower being trained
 *   z(region)  = sum over levels l of  W_l * maskpool(levels[l], region) + b_l      the extractor's res2..res5 linears
 *   loss       = CE(category head(z)) over objects + CE(colour head(z)) over objects with a colour
 *              + CE(part head(z)) over parts
 * </pre>
 *
 * Because {@code z} is a linear function of the mask-pooled features, as the extractor's is, the features this
 * trains are the ones a mask token can carry: a random frozen tower's pooled features name 15% of held-out objects
 * with a linear probe, far too little for the LLM to start reading its region tokens (the demo model's first
 * recipe learnt the text prior and ignored them). The trained {@code W_l, b_l} also start the extractor's res
 * linears ({@link #pretrainedWeights}); the three heads are discarded.
 *
 * <p>Steps draw images in a seeded per-epoch order; every {@code saveEvery} steps the parameters, the AdamW moments
 * and the step are written atomically to {@code stateFile}, and a run started again with the same options resumes
 * from there exactly.
 */
public final class TowerPretraining {
    /** Region losses are averaged per head over an image's regions, heads summed, images averaged. */
    public record Options(int steps, int imagesPerStep, double lr, double warmupRatio, double maxGradNorm, long seed,
                          int saveEvery) {
        public Options {
            if (steps < 1 || imagesPerStep < 1 || !(lr > 0) || !(warmupRatio >= 0 && warmupRatio < 1)
                    || !(maxGradNorm > 0) || saveEvery < 1) {
                throw new IllegalArgumentException("tower pretraining: steps, images per step and save interval "
                        + "must be >= 1, lr and max grad norm > 0, warm-up ratio in [0, 1)");
            }
        }
    }

    /** Held-out accuracies of the three heads (through the same pooled path), each in [0, 1]. */
    public record Accuracy(double category, double colour, double part, int objects, int parts) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "category %.1f%%, colour %.1f%% (%d objects), part %.1f%% (%d parts)",
                    100 * category, 100 * colour, objects, 100 * part, parts);
        }
    }

    /** One image: the tower's input and each region's inside pixels per level with its labels (-1: none). */
    record Example(float[] pixels, int height, int width, int[][][] inside, int[] category, int[] colour, int[] part) {
    }

    private final TrainableTower tower;
    private final Param[] levelW;
    private final Param[] levelB;
    private final Param[] headW;
    private final Param[] headB;
    private final List<Param> params = new ArrayList<>();
    private final int embed;
    private final ImageProcessor processor;
    private RegionWorld.Labels labels;

    /**
     * @param start the starting model's weights (Osprey checkpoint names): the tower and the extractor's res linears
     *              are read from it
     * @param shape the model's shape
     * @param imageSize the tower's input size ({@code mm_image_size})
     */
    public TowerPretraining(Map<String, Tensor> start, OspreyShape shape, int imageSize) {
        this.tower = TrainableTower.load(new InMemoryCheckpoint("starting model", start), java.util.Optional.empty());
        for (Param p : tower.params()) {
            p.setTrainable(true);
            params.add(p);
        }
        int[] ch = tower.levelChannels();
        this.embed = shape.maskEmbedDim();
        levelW = new Param[4];
        levelB = new Param[4];
        for (int l = 0; l < 4; l++) {
            levelW[l] = param(start, extractorName(l, "weight"));
            levelB[l] = param(start, extractorName(l, "bias"));
            if (levelW[l].shape()[1] != ch[l] || levelW[l].shape()[0] != embed) {
                throw new IllegalArgumentException(extractorName(l, "weight") + " does not match the tower's "
                        + ch[l] + " channels");
            }
        }
        headW = new Param[3];
        headB = new Param[3];
        this.processor = new ImageProcessor(imageSize);
    }

    private static String extractorName(int level, String what) {
        return "mask_extractor.res" + (level + 2) + "." + what;
    }

    private Param param(Map<String, Tensor> weights, String name) {
        Param p = PretrainingLoop.startingParam(weights, name);
        params.add(p);
        return p;
    }

    /** Every trained parameter: the tower, the extractor's res linears and (once training starts) the heads. */
    List<Param> params() {
        return params;
    }

    void makeHeads(long seed) {
        if (headW[0] != null) {
            return;
        }
        int[] sizes = {labels.category().size(), labels.colour().size(), Math.max(1, labels.part().size())};
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int h = 0; h < 3; h++) {
            Param[] wb = PretrainingLoop.head("head" + h, sizes[h], embed, rnd);
            headW[h] = wb[0];
            headB[h] = wb[1];
            params.add(headW[h]);
            params.add(headB[h]);
        }
    }

    /** Every annotated image of a world ({@code parts.json} and {@code images/}), in the training world's labels. */
    List<RegionWorld.Source> read(Path worldDir) throws IOException {
        RegionWorld.World w = RegionWorld.read(worldDir, labels);
        labels = w.labels();
        return w.sources();
    }

    private int[][] levelSizes;

    /** The tower's input and each region's inside pixels per level. */
    Example example(RegionWorld.Source src) throws IOException {
        List<Tensor> masks = new ArrayList<>(src.masks().size());
        for (osprey4j.data.coco.Segmentation seg : src.masks()) {
            masks.add(CocoMasks.decode(seg, src.height(), src.width()).toTensor());
        }
        Tensor pixels = processor.preprocess(RgbImage.read(src.image()));
        TrainSample s = TrainSample.withPixels(new int[0], new int[0], pixels, masks);
        if (levelSizes == null) {
            TrainableTower.Pass p = tower.forward(s.pixels(), s.pixelHeight(), s.pixelWidth());
            int[][] sizes = new int[4][];
            for (int l = 0; l < 4; l++) {
                sizes[l] = new int[] {p.height(l), p.width(l)};
            }
            levelSizes = sizes;
        }
        int[][][] inside = new int[4][][];
        for (int l = 0; l < 4; l++) {
            inside[l] = s.inside(levelSizes[l][0], levelSizes[l][1]);
        }
        return new Example(s.pixels(), s.pixelHeight(), s.pixelWidth(), inside, src.category(), src.colour(),
                src.part());
    }

    /**
     * Trains on {@code world}, reporting to {@code log} every 25 steps and the held-out accuracy on {@code heldOut}
     * (may be null) at the end, and returns the pretrained weights ({@link #pretrainedWeights}).
     */
    public Accuracy train(Path world, Path heldOut, Options o, Path stateFile, PrintWriter log) throws IOException {
        List<RegionWorld.Source> train = read(world);
        makeHeads(o.seed());
        PretrainingLoop.run("tower pretraining", train, params, o, stateFile, log, images -> {
            double loss = 0;
            for (RegionWorld.Source src : images) {
                loss += lossAndGrad(example(src), 1.0 / images.size(), true) / images.size();
            }
            return loss;
        });
        return heldOut == null ? null : evaluate(read(heldOut));
    }

    /** Held-out accuracy of the three heads on {@code sources}. */
    Accuracy evaluate(List<RegionWorld.Source> sources) throws IOException {
        int[] right = new int[3], total = new int[3];
        for (RegionWorld.Source src : sources) {
            Example ex = example(src);
            float[][] logits = forward(ex, null);
            int regions = ex.category().length;
            for (int h = 0; h < 3; h++) {
                int[] truth = truth(ex, h);
                int k = (int) headW[h].shape()[0];
                for (int r = 0; r < regions; r++) {
                    if (truth[r] < 0) {
                        continue;
                    }
                    int best = 0;
                    for (int j = 1; j < k; j++) {
                        if (logits[h][r * k + j] > logits[h][r * k + best]) {
                            best = j;
                        }
                    }
                    total[h]++;
                    right[h] += best == truth[r] ? 1 : 0;
                }
            }
        }
        return new Accuracy(frac(right[0], total[0]), frac(right[1], total[1]), frac(right[2], total[2]), total[0],
                total[2]);
    }

    private static double frac(int a, int b) {
        return b == 0 ? 0 : (double) a / b;
    }

    private static int[] truth(Example ex, int head) {
        return switch (head) {
            case 0 -> ex.category();
            case 1 -> ex.colour();
            default -> ex.part();
        };
    }

    /** Saved activations of one image's forward through pooling, level linears and heads. */
    private final class Acts {
        TrainableTower.Pass pass;
        float[][] pooled = new float[4][];
        float[] z;
    }

    private float[][] forward(Example ex, Acts acts) {
        TrainableTower.Pass pass = tower.forward(ex.pixels(), ex.height(), ex.width());
        int regions = ex.category().length;
        int[] ch = tower.levelChannels();
        float[] z = new float[regions * embed];
        float[][] pooled = new float[4][];
        for (int l = 0; l < 4; l++) {
            pooled[l] = OspreyLoss.poolChannelsLast(pass.level(l), ch[l], ex.inside()[l]);
            float[] y = Linear.forward(pooled[l], regions, levelW[l].value(), levelB[l].value(), embed, ch[l]);
            for (int i = 0; i < z.length; i++) {
                z[i] += y[i];
            }
        }
        float[][] logits = new float[3][];
        for (int h = 0; h < 3; h++) {
            logits[h] = Linear.forward(z, regions, headW[h].value(), headB[h].value(), (int) headW[h].shape()[0], embed);
        }
        if (acts != null) {
            acts.pass = pass;
            acts.pooled = pooled;
            acts.z = z;
        }
        return logits;
    }

    /** The image's loss (times {@code scale} into the gradients); accumulates every parameter's gradient. */
    double lossAndGrad(Example ex, double scale, boolean backward) {
        Acts acts = new Acts();
        float[][] logits = forward(ex, acts);
        int regions = ex.category().length;
        double loss = 0;
        float[] dz = new float[regions * embed];
        for (int h = 0; h < 3; h++) {
            int[] truth = truth(ex, h);
            int k = (int) headW[h].shape()[0];
            int count = 0;
            for (int t : truth) {
                count += t >= 0 ? 1 : 0;
            }
            float[] dLogits = new float[regions * k];
            if (count > 0) {
                for (int r = 0; r < regions; r++) {
                    if (truth[r] < 0) {
                        continue;
                    }
                    // the row's logits become its gradient, scale * (softmax - onehot); rows without a target stay 0
                    System.arraycopy(logits[h], r * k, dLogits, r * k, k);
                    loss += OspreyLoss.crossEntropyRow(dLogits, r * k, k, truth[r], (float) (scale / count)) / count;
                }
            }
            if (!backward || count == 0) {
                continue;
            }
            float[] d = Linear.backward(dLogits, acts.z, regions, headW[h].value(), headW[h].grad(), headB[h].grad(), k,
                    embed, true);
            for (int i = 0; i < dz.length; i++) {
                dz[i] += d[i];
            }
        }
        if (!backward) {
            return loss;
        }
        int[] ch = tower.levelChannels();
        float[][] dLevels = new float[4][];
        for (int l = 0; l < 4; l++) {
            float[] dPooled = Linear.backward(dz, acts.pooled[l], regions, levelW[l].value(), levelW[l].grad(),
                    levelB[l].grad(), embed, ch[l], true);
            dLevels[l] = new float[acts.pass.level(l).length];
            OspreyLoss.unpoolChannelsLast(dPooled, ch[l], ex.inside()[l], dLevels[l]);
        }
        tower.backward(acts.pass, dLevels);
        return loss;
    }

    /** The trained tower and extractor res linears under their Osprey checkpoint names (F32). */
    public Map<String, Tensor> pretrainedWeights() {
        Map<String, Tensor> out = new LinkedHashMap<>(tower.stateDict());
        for (int l = 0; l < 4; l++) {
            out.put(levelW[l].name(), Tensor.wrap(levelW[l].value().clone(), levelW[l].shape()));
            out.put(levelB[l].name(), Tensor.wrap(levelB[l].value().clone(), levelB[l].shape()));
        }
        return out;
    }
}
