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
import osprey4j.core.tensor.Tensor;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.Segmentation;
import osprey4j.train.export.OspreyShape;
import osprey4j.train.nn.Linear;
import osprey4j.train.nn.Pointwise;

/**
 * Gives a from-scratch mask extractor's position MLP (the reference's {@code mask_linear}, which turns a region's
 * mask on the 112x112 grid into the {@code <pos>} token) what a region's shape and place say, before instruction
 * tuning: every layer but the last learns to tell, from the mask alone, the region's category (objects), its part
 * name (parts) and its box.
 *
 * <pre>
 *   grid(r)  = mask r resized to the extractor's grid, as the extractor resizes it (bilinear, align_corners=False)
 *   h(r)     = ReLU(W_{L-2} ... ReLU(W_0 grid(r) + b_0) ... + b_{L-2})      mask_linear.layers.0 .. L-2, trained
 *   pos(r)   = W_{L-1} h(r) + b_{L-1}                                         the last layer: left to instruction tuning
 *   loss     = CE(category head(h)) over objects + CE(part head(h)) over parts
 *            + BOX_WEIGHT * mean over regions of |box head(h) - (x0, y0, x1, y1) / image size|^2
 * </pre>
 *
 * Why: in the demo's instruction data the position MLP learns from a few thousand regions, far too few for a
 * 12544-input layer; its {@code <pos>} token carried nothing the LLM used (relations between two regions were right
 * 10% of the time). The synthetic world's categories and parts have shapes of their own, and a region's box is
 * what "to the left of" and "above" are computed from. The last layer stays as initialised, as the tower's
 * pretraining leaves the extractor's {@code feat_linear}: instruction tuning fits it to the LLM's width and scale.
 * The three heads are discarded.
 *
 * <p>Each step takes {@code imagesPerStep} images in a seeded per-epoch order, all their regions in one batch; each
 * head's loss is averaged over the step's regions that have its label. State is saved and resumed as
 * {@link TowerPretraining}'s is.
 */
public final class MaskShapePretraining {
    /** The box term's weight: squared errors of coordinates in [0, 1] are small beside cross-entropies. */
    static final double BOX_WEIGHT = 4;

    /** Held-out accuracies of the category and part heads, and the box head's mean absolute error (of the image side). */
    public record Accuracy(double category, double part, double boxError, int objects, int parts) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "category %.1f%% (%d objects), part %.1f%% (%d parts), box error %.3f",
                    100 * category, objects, 100 * part, parts, boxError);
        }
    }

    /** The regions of a step: their grids [n, grid^2], labels (-1: none) and boxes [n, 4] (NaN: an empty mask). */
    record Batch(int regions, float[] grid, int[] category, int[] part, float[] box) {
    }

    private final Param[] layerW;
    private final Param[] layerB;
    private final Param[] headW = new Param[3];
    private final Param[] headB = new Param[3];
    private final List<Param> params = new ArrayList<>();
    private final int grid;
    private final int hidden;
    private RegionWorld.Labels labels;

    /**
     * @param start the starting model's weights (Osprey checkpoint names): {@code mask_linear}'s layers are read
     * @param shape the model's shape (its mask grid and position MLP widths)
     */
    public MaskShapePretraining(Map<String, Tensor> start, OspreyShape shape) {
        this.grid = shape.maskShape();
        int layers = 0;
        while (start.containsKey(layerName(layers + 1, "weight"))) {
            layers++;
        }
        if (layers < 1) {
            throw new IllegalArgumentException("the starting model's mask_linear has fewer than two layers");
        }
        layerW = new Param[layers];
        layerB = new Param[layers];
        long in = (long) grid * grid;
        for (int k = 0; k < layers; k++) {
            layerW[k] = param(start, layerName(k, "weight"));
            layerB[k] = param(start, layerName(k, "bias"));
            if (layerW[k].shape()[1] != in) {
                throw new IllegalArgumentException(layerName(k, "weight") + " takes " + layerW[k].shape()[1]
                        + " inputs, expected " + in);
            }
            in = layerW[k].shape()[0];
        }
        this.hidden = (int) in;
    }

    private static String layerName(int k, String what) {
        return "mask_extractor.mask_linear.layers." + k + "." + what;
    }

    private Param param(Map<String, Tensor> weights, String name) {
        Param p = PretrainingLoop.startingParam(weights, name);
        params.add(p);
        return p;
    }

    List<Param> params() {
        return params;
    }

    List<RegionWorld.Source> read(Path worldDir) throws IOException {
        RegionWorld.World w = RegionWorld.read(worldDir, labels);
        labels = w.labels();
        return w.sources();
    }

    void makeHeads(long seed) {
        if (headW[0] != null) {
            return;
        }
        int[] sizes = {labels.category().size(), Math.max(1, labels.part().size()), 4};
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int h = 0; h < 3; h++) {
            Param[] wb = PretrainingLoop.head("head" + h, sizes[h], hidden, rnd);
            headW[h] = wb[0];
            headB[h] = wb[1];
            params.add(headW[h]);
            params.add(headB[h]);
        }
    }

    /** The regions of {@code sources} as one batch: masks decoded, resized to the grid, boxes from their pixels. */
    Batch batch(List<RegionWorld.Source> sources) {
        int n = 0;
        for (RegionWorld.Source s : sources) {
            n += s.masks().size();
        }
        int g2 = grid * grid;
        float[] grids = new float[n * g2];
        int[] cat = new int[n], part = new int[n];
        float[] box = new float[n * 4];
        int r = 0;
        for (RegionWorld.Source s : sources) {
            for (int i = 0; i < s.masks().size(); i++, r++) {
                Segmentation seg = s.masks().get(i);
                Tensor mask = CocoMasks.decode(seg, s.height(), s.width()).toTensor();
                System.arraycopy(TrainSample.resize(mask, grid, grid), 0, grids, r * g2, g2);
                cat[r] = s.category()[i];
                part[r] = s.part()[i];
                boxOf(mask.toFloatArray(), s.height(), s.width(), box, r * 4);
            }
        }
        return new Batch(n, grids, cat, part, box);
    }

    /** The mask's box (x0, y0, x1, y1) as fractions of the image's width and height; NaN for an empty mask. */
    static void boxOf(float[] mask, int h, int w, float[] out, int o) {
        int x0 = w, y0 = h, x1 = -1, y1 = -1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (mask[y * w + x] > 0) {
                    x0 = Math.min(x0, x);
                    x1 = Math.max(x1, x);
                    y0 = Math.min(y0, y);
                    y1 = Math.max(y1, y);
                }
            }
        }
        if (x1 < 0) {
            java.util.Arrays.fill(out, o, o + 4, Float.NaN);
            return;
        }
        out[o] = (float) x0 / w;
        out[o + 1] = (float) y0 / h;
        out[o + 2] = (float) (x1 + 1) / w;
        out[o + 3] = (float) (y1 + 1) / h;
    }

    /** The trained layers' inputs (index k: layer k's input), their last entry h. */
    private float[][] forward(Batch b) {
        int trained = layerW.length;
        float[][] inputs = new float[trained + 1][];
        float[] x = b.grid();
        for (int k = 0; k < trained; k++) {
            inputs[k] = x;
            int kin = (int) layerW[k].shape()[1], kout = (int) layerW[k].shape()[0];
            x = Pointwise.relu(Linear.forward(x, b.regions(), layerW[k].value(), layerB[k].value(), kout, kin));
        }
        inputs[trained] = x;
        return inputs;
    }

    private float[] head(int h, float[] x, int regions) {
        return Linear.forward(x, regions, headW[h].value(), headB[h].value(), (int) headW[h].shape()[0], hidden);
    }

    /** The batch's loss; with {@code backward}, accumulates every parameter's gradient. */
    double lossAndGrad(Batch b, boolean backward) {
        int n = b.regions();
        float[][] inputs = forward(b);
        float[] h = inputs[layerW.length];
        float[] dh = new float[n * hidden];
        double loss = 0;
        for (int k = 0; k < 3; k++) {
            int outs = (int) headW[k].shape()[0];
            float[] y = head(k, h, n);
            float[] dy = new float[n * outs];
            if (k < 2) {
                int[] truth = k == 0 ? b.category() : b.part();
                int count = 0;
                for (int t : truth) {
                    count += t >= 0 ? 1 : 0;
                }
                for (int r = 0; r < n && count > 0; r++) {
                    if (truth[r] >= 0) {
                        // the row's logits become its gradient, (softmax - onehot) / count; rows without a target stay 0
                        System.arraycopy(y, r * outs, dy, r * outs, outs);
                        loss += OspreyLoss.crossEntropyRow(dy, r * outs, outs, truth[r], (float) (1.0 / count)) / count;
                    }
                }
            } else {
                int count = 0;
                for (int r = 0; r < n; r++) {
                    count += Float.isNaN(b.box()[r * 4]) ? 0 : 1;
                }
                for (int r = 0; r < n && count > 0; r++) {
                    if (Float.isNaN(b.box()[r * 4])) {
                        continue;
                    }
                    for (int c = 0; c < 4; c++) {
                        double e = y[r * 4 + c] - b.box()[r * 4 + c];
                        loss += BOX_WEIGHT * e * e / count;
                        dy[r * 4 + c] = (float) (2 * BOX_WEIGHT * e / count);
                    }
                }
            }
            if (backward) {
                float[] d = Linear.backward(dy, h, n, headW[k].value(), headW[k].grad(), headB[k].grad(), outs, hidden,
                        true);
                for (int i = 0; i < dh.length; i++) {
                    dh[i] += d[i];
                }
            }
        }
        if (backward) {
            float[] dy = dh;
            for (int k = layerW.length - 1; k >= 0; k--) {
                int kin = (int) layerW[k].shape()[1], kout = (int) layerW[k].shape()[0];
                dy = Pointwise.reluBackward(dy, inputs[k + 1]);
                dy = Linear.backward(dy, inputs[k], n, layerW[k].value(), layerW[k].grad(), layerB[k].grad(), kout,
                        kin, k > 0);
            }
        }
        return loss;
    }

    /**
     * Trains on {@code world}, reporting to {@code log} every 25 steps, and returns the heads' accuracy on
     * {@code heldOut} (null: none measured).
     */
    public Accuracy train(Path world, Path heldOut, TowerPretraining.Options o, Path stateFile, PrintWriter log)
            throws IOException {
        List<RegionWorld.Source> train = read(world);
        makeHeads(o.seed());
        PretrainingLoop.run("mask-shape pretraining", train, params, o, stateFile, log,
                images -> lossAndGrad(batch(images), true));
        return heldOut == null ? null : evaluate(read(heldOut));
    }

    /** The heads' held-out accuracy on {@code sources}, 16 images at a time. */
    Accuracy evaluate(List<RegionWorld.Source> sources) {
        int[] right = new int[2], total = new int[2];
        double boxError = 0;
        int boxes = 0;
        for (int from = 0; from < sources.size(); from += 16) {
            Batch b = batch(sources.subList(from, Math.min(sources.size(), from + 16)));
            float[] h = forward(b)[layerW.length];
            for (int k = 0; k < 2; k++) {
                int[] truth = k == 0 ? b.category() : b.part();
                int outs = (int) headW[k].shape()[0];
                float[] y = head(k, h, b.regions());
                for (int r = 0; r < b.regions(); r++) {
                    if (truth[r] < 0) {
                        continue;
                    }
                    int best = 0;
                    for (int j = 1; j < outs; j++) {
                        if (y[r * outs + j] > y[r * outs + best]) {
                            best = j;
                        }
                    }
                    total[k]++;
                    right[k] += best == truth[r] ? 1 : 0;
                }
            }
            float[] y = head(2, h, b.regions());
            for (int r = 0; r < b.regions(); r++) {
                if (!Float.isNaN(b.box()[r * 4])) {
                    for (int c = 0; c < 4; c++) {
                        boxError += Math.abs(y[r * 4 + c] - b.box()[r * 4 + c]) / 4;
                    }
                    boxes++;
                }
            }
        }
        return new Accuracy(total[0] == 0 ? 0 : (double) right[0] / total[0], total[1] == 0 ? 0 : (double) right[1] / total[1],
                boxes == 0 ? 0 : boxError / boxes, total[0], total[1]);
    }

    /** The trained layers of {@code mask_linear} under their Osprey checkpoint names (F32); the last is not among them. */
    public Map<String, Tensor> pretrainedWeights() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int k = 0; k < layerW.length; k++) {
            out.put(layerW[k].name(), Tensor.wrap(layerW[k].value().clone(), layerW[k].shape()));
            out.put(layerB[k].name(), Tensor.wrap(layerB[k].value().clone(), layerB[k].shape()));
        }
        return out;
    }
}
