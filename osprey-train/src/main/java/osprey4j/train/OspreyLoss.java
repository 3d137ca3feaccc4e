package osprey4j.train;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.train.nn.Attention;
import osprey4j.train.nn.Linear;
import osprey4j.train.nn.Pointwise;
import osprey4j.train.nn.RmsNorm;

/**
 * Forward and backward of {@code OspreyLlamaForCausalLM} on a batch, llm.c style: every layer's activations
 * are kept explicitly by this class and every gradient is written out by hand.
 * <pre>
 *   image tokens = projector(res4 tokens)                 Linear, GELU, Linear (mlpNx_gelu)
 *   mask token r = feat_linear(sum_L level_L(pooled_L r))  pooled_L fixed by the frozen tower and the mask
 *   pos token r  = MLP(mask r on the 112x112 grid)         Linear, ReLU, Linear, ReLU, Linear
 *   x0           = splice(embed(ids), image tokens, mask/pos tokens)   (prepare_inputs_labels_for_multimodal)
 *   logits       = lm_head(norm(decoder layers(x0)))
 *   loss         = mean over the batch's non-ignored shifted labels of cross-entropy
 * </pre>
 * The labels follow the reference: image positions and each {@code <mask>}/{@code <pos>} pair get
 * {@link TrainSample#IGNORE_INDEX}; position t predicts label t + 1. Gradients are accumulated into the
 * trainable {@link Param}s only; frozen ones cost no weight-gradient product.
 */
public final class OspreyLoss {
    /** The batch's mean loss and the number of tokens it averaged over. */
    public record Result(double loss, int tokens) {
    }

    private final TrainableOsprey m;
    private final OspreyDims d;
    private final int maskTokenId;

    /** @param maskTokenId the id of {@code <mask>} in the tokenizer (added after the vocabulary) */
    public OspreyLoss(TrainableOsprey model, int maskTokenId) {
        this.m = Objects.requireNonNull(model, "model");
        this.d = model.dims();
        this.maskTokenId = maskTokenId;
    }

    /**
     * Runs the batch forward and backward, adding {@code gradScale} times the gradient of the batch's mean loss
     * to every trainable parameter's gradient (gradScale = 1 / gradient-accumulation steps, as HF Trainer
     * divides each micro-batch's loss).
     */
    public Result forwardBackward(List<TrainSample> batch, double gradScale) {
        Plan[] plans = new Plan[batch.size()];
        int total = 0;
        for (int b = 0; b < plans.length; b++) {
            plans[b] = plan(batch.get(b));
            total += plans[b].targets;
        }
        double lossSum = 0;
        for (int b = 0; b < plans.length; b++) {
            lossSum += sample(batch.get(b), plans[b], total == 0 ? 0 : (float) (gradScale / total));
        }
        return new Result(total == 0 ? Double.NaN : lossSum / total, total);
    }

    /** Where each sequence position comes from, and its label. */
    private static final class Plan {
        int length;
        int imageAt;
        /** Per prompt position: region index for a mask or pos position, else -1. */
        int[] regionAt;
        boolean[] isPos;
        int[] seqLabels;
        int targets;
    }

    private Plan plan(TrainSample s) {
        int[] ids = s.ids();
        int[] labels = s.rawLabels();
        Plan p = new Plan();
        p.imageAt = -1;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == OspreyTokens.IMAGE_TOKEN_ID) {
                if (p.imageAt >= 0) {
                    throw new IllegalArgumentException("a training sample has more than one <image>");
                }
                p.imageAt = i;
            }
        }
        if (p.imageAt < 0) {
            throw new IllegalArgumentException("a training sample has no <image>");
        }
        p.regionAt = new int[ids.length];
        p.isPos = new boolean[ids.length];
        Arrays.fill(p.regionAt, -1);
        int seen = 0;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] != maskTokenId) {
                continue;
            }
            if (i < p.imageAt) {
                throw new IllegalArgumentException("a <mask> comes before <image>; the reference only replaces region tokens after the image");
            }
            if (i + 1 >= ids.length) {
                throw new IllegalArgumentException("a sample ends with <mask>: no position follows for <pos>");
            }
            if (seen >= s.regions()) {
                throw new IllegalArgumentException("a sample has more <mask> tokens than its " + s.regions() + " masks");
            }
            p.regionAt[i] = seen;
            p.regionAt[i + 1] = seen;
            p.isPos[i + 1] = true;
            seen++;
            i++;
        }
        if (seen != s.regions()) {
            throw new IllegalArgumentException("a sample has " + seen + " <mask> tokens but " + s.regions() + " masks");
        }
        int image = s.hasPixels() ? tower(s).tokenCount(s.pixelHeight(), s.pixelWidth())
                : s.derived(d.maskGrid()).imageCount();
        p.length = ids.length - 1 + image;
        p.seqLabels = new int[p.length];
        int row = 0;
        for (int i = 0; i < ids.length; i++) {
            if (i == p.imageAt) {
                Arrays.fill(p.seqLabels, row, row + image, TrainSample.IGNORE_INDEX);
                row += image;
            } else {
                p.seqLabels[row++] = p.regionAt[i] >= 0 ? TrainSample.IGNORE_INDEX : labels[i];
            }
        }
        for (int t = 0; t + 1 < p.length; t++) {
            int y = p.seqLabels[t + 1];
            if (y != TrainSample.IGNORE_INDEX) {
                if (y < 0 || y >= d.vocab()) {
                    throw new IllegalArgumentException("label " + y + " is outside the vocabulary [0, " + d.vocab() + ")");
                }
                p.targets++;
            }
        }
        return p;
    }

    /** One sample forward and backward; returns the sum of its token losses. */
    private double sample(TrainSample s, Plan p, float scale) {
        TrainSample.Derived in = s.derived(d.maskGrid());
        int h = d.hidden();
        int[] ids = s.ids();
        int regions = s.regions();

        // The tower (when it trains): its res4 map is the projector's input and its levels are pooled per region.
        TrainableTower.Pass pass = null;
        float[] tokensIn;
        int nImg;
        float[][] pooled;
        int[][][] inside = null;
        if (s.hasPixels()) {
            pass = tower(s).forward(s.pixels(), s.pixelHeight(), s.pixelWidth());
            tokensIn = pass.level(2);   // channels-last [h*w, C]: the flatten(2).transpose(1, 2) tokens
            nImg = pass.height(2) * pass.width(2);
            pooled = new float[4][];
            inside = new int[4][][];
            int[] chs = d.levelChannels();
            for (int l = 0; l < 4; l++) {
                inside[l] = s.inside(pass.height(l), pass.width(l));
                pooled[l] = poolChannelsLast(pass.level(l), chs[l], inside[l]);
            }
        } else {
            tokensIn = in.imageTokens();
            nImg = in.imageCount();
            pooled = in.pooled();
        }
        boolean towerTrains = pass != null && anyTrainable(m.tower.params());

        // Projector: image tokens.
        int depth = m.projW.length;
        float[][] projIn = new float[depth][];
        float[][] projPre = new float[depth][];
        float[] x = tokensIn;
        for (int k = 0; k < depth; k++) {
            if (k > 0) {
                projPre[k - 1] = x;
                x = Pointwise.gelu(x);
            }
            projIn[k] = x;
            int kin = k == 0 ? d.projectorIn() : h;
            x = Linear.forward(x, nImg, m.projW[k].value(), m.projB[k].value(), h, kin);
        }
        float[] imageTokens = x;

        // Mask extractor: mask and pos tokens.
        int e = d.maskEmbed();
        float[] summed = new float[regions * e];
        int[] ch = d.levelChannels();
        for (int l = 0; l < 4; l++) {
            float[] lv = Linear.forward(pooled[l], regions, m.levelW[l].value(), m.levelB[l].value(), e, ch[l]);
            for (int i = 0; i < lv.length; i++) {
                summed[i] += lv[i];
            }
        }
        float[] maskTokens = Linear.forward(summed, regions, m.featW.value(), m.featB.value(), h, e);
        int posLayers = m.posW.length;
        float[][] posIn = new float[posLayers][];
        float[] pos = in.grid();
        for (int k = 0; k < posLayers; k++) {
            if (k > 0) {
                pos = Pointwise.relu(pos);
            }
            posIn[k] = pos;
            int kin = (int) m.posW[k].shape()[1], kout = (int) m.posW[k].shape()[0];
            pos = Linear.forward(pos, regions, m.posW[k].value(), m.posB[k].value(), kout, kin);
        }
        float[] posTokens = pos;

        // Splice.
        int t = p.length;
        float[] x0 = new float[t * h];
        int[] rowId = new int[t];
        Arrays.fill(rowId, -1);
        float[] embed = m.embed.value();
        int row = 0;
        for (int i = 0; i < ids.length; i++) {
            if (i == p.imageAt) {
                System.arraycopy(imageTokens, 0, x0, row * h, nImg * h);
                row += nImg;
            } else if (p.regionAt[i] >= 0) {
                System.arraycopy(p.isPos[i] ? posTokens : maskTokens, p.regionAt[i] * h, x0, row * h, h);
                row++;
            } else {
                if (ids[i] < 0 || ids[i] >= d.vocab()) {
                    throw new IllegalArgumentException("token id " + ids[i] + " is outside the embedding table [0, " + d.vocab() + ")");
                }
                System.arraycopy(embed, ids[i] * h, x0, row * h, h);
                rowId[row] = ids[i];
                row++;
            }
        }

        // Decoder layers.
        LayerActs[] acts = new LayerActs[d.layers()];
        Attention attention = new Attention(d.heads(), d.kvHeads(), d.headDim(), d.ropeTheta(), t);
        float[] xs = x0;
        for (int l = 0; l < acts.length; l++) {
            acts[l] = layerForward(m.layers[l], attention, xs, t);
            xs = acts[l].out;
        }
        float[] hn = new float[t * h];
        float[] rf = new float[t];
        RmsNorm.forward(xs, m.finalNorm.value(), d.rmsEps(), t, h, hn, rf);

        // Head and cross-entropy on the positions that have a target.
        int nv = p.targets;
        int[] at = new int[nv];
        int[] target = new int[nv];
        int c = 0;
        for (int i = 0; i + 1 < t; i++) {
            if (p.seqLabels[i + 1] != TrainSample.IGNORE_INDEX) {
                at[c] = i;
                target[c++] = p.seqLabels[i + 1];
            }
        }
        float[] hv = new float[nv * h];
        for (int i = 0; i < nv; i++) {
            System.arraycopy(hn, at[i] * h, hv, i * h, h);
        }
        int vocab = d.vocab();
        float[] logits = Linear.forward(hv, nv, m.head.value(), null, vocab, h);
        double[] rowLoss = new double[nv];
        float[] lg = logits;
        ComputePool.parallelFor(nv, Math.max(1, 65536 / vocab), (from, to) -> {
            for (int i = from; i < to; i++) {
                rowLoss[i] = crossEntropyRow(lg, i * vocab, vocab, target[i], scale);
            }
        });
        double lossSum = 0;
        for (double l : rowLoss) {
            lossSum += l;
        }
        float[] dLogits = logits;

        // Backward: head, final norm.
        float[] dhv = Linear.backward(dLogits, hv, nv, m.head.value(), m.head.grad(), null, vocab, h, true);
        float[] dhn = new float[t * h];
        for (int i = 0; i < nv; i++) {
            System.arraycopy(dhv, i * h, dhn, at[i] * h, h);
        }
        float[] dx = new float[t * h];
        RmsNorm.backward(dhn, xs, m.finalNorm.value(), rf, t, h, dx, m.finalNorm.grad());
        for (int l = acts.length - 1; l >= 0; l--) {
            dx = layerBackward(m.layers[l], attention, acts[l], dx, t);
        }

        // Un-splice: embedding rows, image tokens, mask and pos tokens.
        float[] dEmbed = m.embed.grad();
        float[] dImage = new float[nImg * h];
        float[] dMask = new float[regions * h];
        float[] dPos = new float[regions * h];
        row = 0;
        for (int i = 0; i < ids.length; i++) {
            if (i == p.imageAt) {
                System.arraycopy(dx, row * h, dImage, 0, nImg * h);
                row += nImg;
            } else if (p.regionAt[i] >= 0) {
                System.arraycopy(dx, row * h, p.isPos[i] ? dPos : dMask, p.regionAt[i] * h, h);
                row++;
            } else {
                if (dEmbed != null) {
                    int o = ids[i] * h;
                    for (int k = 0; k < h; k++) {
                        dEmbed[o + k] += dx[row * h + k];
                    }
                }
                row++;
            }
        }

        // Projector backward (down to its input, the res4 tokens, when the tower trains).
        float[][] dLevels = towerTrains ? new float[4][] : null;
        if (towerTrains || anyTrainable(m.projW) || anyTrainable(m.projB)) {
            float[] dy = dImage;
            for (int k = depth - 1; k >= 0; k--) {
                int kin = k == 0 ? d.projectorIn() : h;
                float[] dIn = Linear.backward(dy, projIn[k], nImg, m.projW[k].value(), m.projW[k].grad(), m.projB[k].grad(), h, kin, k > 0 || towerTrains);
                if (k > 0) {
                    dy = Pointwise.geluBackward(dIn, projPre[k - 1]);
                } else if (towerTrains) {
                    dLevels[2] = dIn;
                }
            }
        }

        // Mask extractor backward (and through mask pooling to the levels when the tower trains).
        if (regions > 0 && (towerTrains || anyTrainable(m.levelW) || anyTrainable(m.levelB) || m.featW.trainable() || m.featB.trainable())) {
            float[] dSummed = Linear.backward(dMask, summed, regions, m.featW.value(), m.featW.grad(), m.featB.grad(), h, e, true);
            for (int l = 0; l < 4; l++) {
                float[] dPooled = Linear.backward(dSummed, pooled[l], regions, m.levelW[l].value(), m.levelW[l].grad(), m.levelB[l].grad(), e, ch[l], towerTrains);
                if (towerTrains) {
                    if (dLevels[l] == null) {
                        dLevels[l] = new float[pass.height(l) * pass.width(l) * ch[l]];
                    }
                    unpoolChannelsLast(dPooled, ch[l], inside[l], dLevels[l]);
                }
            }
        }
        if (regions > 0 && (anyTrainable(m.posW) || anyTrainable(m.posB))) {
            float[] dy = dPos;
            for (int k = posLayers - 1; k >= 0; k--) {
                int kin = (int) m.posW[k].shape()[1], kout = (int) m.posW[k].shape()[0];
                float[] dIn = Linear.backward(dy, posIn[k], regions, m.posW[k].value(), m.posW[k].grad(), m.posB[k].grad(), kout, kin, k > 0);
                if (k > 0) {
                    dy = Pointwise.reluBackward(dIn, posIn[k]);
                }
            }
        }
        if (towerTrains) {
            m.tower.backward(pass, dLevels);
        }
        return lossSum;
    }

    private TrainableTower tower(TrainSample s) {
        if (m.tower == null) {
            throw new IllegalArgumentException("a training sample carries pixels but the model's tower is frozen "
                    + "(load it with TrainableOsprey.load(dir, true))");
        }
        return m.tower;
    }

    /** Mask pooling on a channels-last map: pooled[r, c] = weight_r * sum over region r's inside pixels of x[p, c]. */
    static float[] poolChannelsLast(float[] x, int c, int[][] inside) {
        float[] out = new float[inside.length * c];
        double[] sum = new double[c];
        for (int r = 0; r < inside.length; r++) {
            java.util.Arrays.fill(sum, 0);
            for (int p : inside[r]) {
                int o = p * c;
                for (int ch = 0; ch < c; ch++) {
                    sum[ch] += x[o + ch];
                }
            }
            double weight = TrainSample.poolWeight(inside[r].length);
            for (int ch = 0; ch < c; ch++) {
                out[r * c + ch] = (float) (sum[ch] * weight);
            }
        }
        return out;
    }

    /** The transpose of {@link #poolChannelsLast}: adds weight_r * dPooled[r, c] to every inside pixel of region r. */
    static void unpoolChannelsLast(float[] dPooled, int c, int[][] inside, float[] dx) {
        for (int r = 0; r < inside.length; r++) {
            float weight = (float) TrainSample.poolWeight(inside[r].length);
            for (int p : inside[r]) {
                int o = p * c;
                for (int ch = 0; ch < c; ch++) {
                    dx[o + ch] += dPooled[r * c + ch] * weight;
                }
            }
        }
    }

    private static boolean anyTrainable(java.util.Collection<Param> ps) {
        for (Param p : ps) {
            if (p.trainable()) {
                return true;
            }
        }
        return false;
    }

    /**
     * One row's -log softmax(logits)[target] (log-sum-exp in double), and the row replaced by its gradient
     * times scale: scale * (softmax - onehot(target)).
     */
    static double crossEntropyRow(float[] logits, int o, int vocab, int target, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            max = Math.max(max, logits[o + v]);
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            sum += Math.exp(logits[o + v] - max);
        }
        double lse = max + Math.log(sum);
        double loss = lse - logits[o + target];
        for (int v = 0; v < vocab; v++) {
            logits[o + v] = (float) (Math.exp(logits[o + v] - lse) * scale);
        }
        logits[o + target] -= scale;
        return loss;
    }

    private static boolean anyTrainable(Param[] ps) {
        for (Param p : ps) {
            if (p.trainable()) {
                return true;
            }
        }
        return false;
    }

    /** One decoder layer's saved activations. */
    private static final class LayerActs {
        float[] in;
        float[] r1;
        float[] xn1;
        Attention.Saved att;
        float[] attOut;
        float[] mid;
        float[] r2;
        float[] xn2;
        float[] gate;
        float[] up;
        float[] act;
        float[] out;
    }

    private LayerActs layerForward(TrainableOsprey.Layer w, Attention attention, float[] x, int t) {
        int h = d.hidden(), kv = d.kvDim(), im = d.intermediate();
        LayerActs a = new LayerActs();
        a.in = x;
        a.xn1 = new float[t * h];
        a.r1 = new float[t];
        RmsNorm.forward(x, w.inputNorm().value(), d.rmsEps(), t, h, a.xn1, a.r1);
        float[] q = Linear.forward(a.xn1, t, w.wq().value(), null, h, h);
        float[] k = Linear.forward(a.xn1, t, w.wk().value(), null, kv, h);
        float[] v = Linear.forward(a.xn1, t, w.wv().value(), null, kv, h);
        a.attOut = new float[t * h];
        a.att = attention.forward(q, k, v, t, a.attOut);
        float[] o = Linear.forward(a.attOut, t, w.wo().value(), null, h, h);
        a.mid = new float[t * h];
        for (int i = 0; i < a.mid.length; i++) {
            a.mid[i] = x[i] + o[i];
        }
        a.xn2 = new float[t * h];
        a.r2 = new float[t];
        RmsNorm.forward(a.mid, w.postNorm().value(), d.rmsEps(), t, h, a.xn2, a.r2);
        a.gate = Linear.forward(a.xn2, t, w.wGate().value(), null, im, h);
        a.up = Linear.forward(a.xn2, t, w.wUp().value(), null, im, h);
        a.act = Pointwise.siluGate(a.gate, a.up);
        float[] down = Linear.forward(a.act, t, w.wDown().value(), null, h, im);
        a.out = new float[t * h];
        for (int i = 0; i < a.out.length; i++) {
            a.out[i] = a.mid[i] + down[i];
        }
        return a;
    }

    /** Takes d(out) and returns d(in), accumulating the layer's weight gradients. */
    private float[] layerBackward(TrainableOsprey.Layer w, Attention attention, LayerActs a, float[] dOut, int t) {
        int h = d.hidden(), kv = d.kvDim(), im = d.intermediate();
        // MLP branch: out = mid + down(silu(gate) * up).
        float[] dAct = Linear.backward(dOut, a.act, t, w.wDown().value(), w.wDown().grad(), null, h, im, true);
        float[] dGate = new float[t * im];
        float[] dUp = new float[t * im];
        Pointwise.siluGateBackward(dAct, a.gate, a.up, dGate, dUp);
        float[] dXn2 = Linear.backward(dGate, a.xn2, t, w.wGate().value(), w.wGate().grad(), null, im, h, true);
        float[] dXn2b = Linear.backward(dUp, a.xn2, t, w.wUp().value(), w.wUp().grad(), null, im, h, true);
        for (int i = 0; i < dXn2.length; i++) {
            dXn2[i] += dXn2b[i];
        }
        float[] dMid = dOut.clone();
        RmsNorm.backward(dXn2, a.mid, w.postNorm().value(), a.r2, t, h, dMid, w.postNorm().grad());
        // Attention branch: mid = in + o(attention(q, k, v)).
        float[] dAttOut = Linear.backward(dMid, a.attOut, t, w.wo().value(), w.wo().grad(), null, h, h, true);
        float[] dq = new float[t * h];
        float[] dk = new float[t * kv];
        float[] dv = new float[t * kv];
        attention.backward(a.att, dAttOut, dq, dk, dv);
        float[] dXn1 = Linear.backward(dq, a.xn1, t, w.wq().value(), w.wq().grad(), null, h, h, true);
        float[] dK = Linear.backward(dk, a.xn1, t, w.wk().value(), w.wk().grad(), null, kv, h, true);
        float[] dV = Linear.backward(dv, a.xn1, t, w.wv().value(), w.wv().grad(), null, kv, h, true);
        for (int i = 0; i < dXn1.length; i++) {
            dXn1[i] += dK[i] + dV[i];
        }
        float[] dIn = dMid.clone();
        RmsNorm.backward(dXn1, a.in, w.inputNorm().value(), a.r1, t, h, dIn, w.inputNorm().grad());
        return dIn;
    }
}
