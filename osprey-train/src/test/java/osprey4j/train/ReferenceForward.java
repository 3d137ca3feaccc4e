package osprey4j.train;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;

/**
 * A plain scalar float64 forward of the Osprey training loss, written from the reference's definitions with no
 * shared code beyond the frozen inputs (pooled features, the 112-grid masks, res4 tokens): the oracle for
 * the finite-difference checks of every backward.
 */
final class ReferenceForward {
    private final OspreyDims d;
    private final Map<String, double[]> w = new HashMap<>();
    private final int maskId;

    ReferenceForward(TrainableOsprey model, int maskId) {
        this.d = model.dims();
        this.maskId = maskId;
        for (Param p : model.params()) {
            double[] v = new double[p.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = p.value()[i];
            }
            w.put(p.name(), v);
        }
    }

    double[] weight(String name) {
        return w.get(name);
    }

    /** Mean cross-entropy over the batch's non-ignored shifted labels. */
    double loss(List<TrainSample> batch) {
        double sum = 0;
        int count = 0;
        for (TrainSample s : batch) {
            double[] r = sample(s);
            sum += r[0];
            count += (int) r[1];
        }
        return sum / count;
    }

    private static double[] linear(double[] x, int m, double[] wt, double[] b, int n, int k) {
        double[] y = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = b == null ? 0 : b[j];
                for (int c = 0; c < k; c++) {
                    s += x[i * k + c] * wt[j * k + c];
                }
                y[i * n + j] = s;
            }
        }
        return y;
    }

    private static double[] toDouble(float[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i];
        }
        return r;
    }

    private double[] rms(double[] x, int t, double[] g) {
        int h = d.hidden();
        double[] y = new double[x.length];
        for (int i = 0; i < t; i++) {
            double ss = 0;
            for (int c = 0; c < h; c++) {
                ss += x[i * h + c] * x[i * h + c];
            }
            double r = 1 / Math.sqrt(ss / h + d.rmsEps());
            for (int c = 0; c < h; c++) {
                y[i * h + c] = g[c] * x[i * h + c] * r;
            }
        }
        return y;
    }

    /** erf in double: Maclaurin series below 3, the erfc continued fraction above. */
    private static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 3) {
            double term = ax, sum = ax;
            for (int k = 1; k < 200; k++) {
                term *= -ax * ax / k;
                sum += term / (2 * k + 1);
            }
            r = sum * 2 / Math.sqrt(Math.PI);
        } else {
            double f = ax;
            for (int k = 60; k >= 1; k--) {
                f = ax + k / 2.0 / f;
            }
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    private double[] sample(TrainSample s) {
        TrainSample.Derived in = s.derived(d.maskGrid());
        int h = d.hidden();
        int regions = s.regions();
        // projector
        double[] x = toDouble(in.imageTokens());
        int n = in.imageCount();
        for (int k = 0; k < d.projectorDepth(); k++) {
            if (k > 0) {
                for (int i = 0; i < x.length; i++) {
                    x[i] = x[i] * 0.5 * (1 + erf(x[i] / Math.sqrt(2)));
                }
            }
            x = linear(x, n, w.get("model.mm_projector." + 2 * k + ".weight"), w.get("model.mm_projector." + 2 * k + ".bias"),
                    h, k == 0 ? d.projectorIn() : h);
        }
        double[] image = x;
        // extractor
        String[] lv = {"res2", "res3", "res4", "res5"};
        double[] summed = new double[regions * d.maskEmbed()];
        for (int l = 0; l < 4; l++) {
            double[] y = linear(toDouble(in.pooled()[l]), regions, w.get("mask_extractor." + lv[l] + ".weight"),
                    w.get("mask_extractor." + lv[l] + ".bias"), d.maskEmbed(), d.levelChannels()[l]);
            for (int i = 0; i < y.length; i++) {
                summed[i] += y[i];
            }
        }
        double[] maskTok = linear(summed, regions, w.get("mask_extractor.feat_linear.weight"), w.get("mask_extractor.feat_linear.bias"), h, d.maskEmbed());
        double[] pos = toDouble(in.grid());
        int width = d.maskGrid() * d.maskGrid();
        int layersPos = d.posHidden().length + 1;
        for (int k = 0; k < layersPos; k++) {
            if (k > 0) {
                for (int i = 0; i < pos.length; i++) {
                    pos[i] = Math.max(0, pos[i]);
                }
            }
            int out = k == layersPos - 1 ? h : d.posHidden()[k];
            pos = linear(pos, regions, w.get("mask_extractor.mask_linear.layers." + k + ".weight"),
                    w.get("mask_extractor.mask_linear.layers." + k + ".bias"), out, width);
            width = out;
        }
        // splice
        int[] ids = s.inputIds();
        int[] labels = s.labels();
        int t = ids.length - 1 + n;
        double[] x0 = new double[t * h];
        int[] lab = new int[t];
        double[] emb = w.get("model.embed_tokens.weight");
        int row = 0;
        int region = 0;
        boolean afterImage = false;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == OspreyTokens.IMAGE_TOKEN_ID) {
                System.arraycopy(image, 0, x0, row * h, n * h);
                java.util.Arrays.fill(lab, row, row + n, -100);
                row += n;
                afterImage = true;
            } else if (afterImage && ids[i] == maskId) {
                System.arraycopy(maskTok, region * h, x0, row * h, h);
                System.arraycopy(pos, region * h, x0, (row + 1) * h, h);
                lab[row] = -100;
                lab[row + 1] = -100;
                row += 2;
                region++;
                i++;
            } else {
                System.arraycopy(emb, ids[i] * h, x0, row * h, h);
                lab[row++] = labels[i];
            }
        }
        // decoder
        int heads = d.heads(), kvh = d.kvHeads(), hd = d.headDim(), kv = d.kvDim(), im = d.intermediate();
        double[] xs = x0;
        for (int l = 0; l < d.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[] xn = rms(xs, t, w.get(p + "input_layernorm.weight"));
            double[] q = linear(xn, t, w.get(p + "self_attn.q_proj.weight"), null, h, h);
            double[] k = linear(xn, t, w.get(p + "self_attn.k_proj.weight"), null, kv, h);
            double[] v = linear(xn, t, w.get(p + "self_attn.v_proj.weight"), null, kv, h);
            rope(q, t, heads);
            rope(k, t, kvh);
            double[] att = new double[t * h];
            for (int hh = 0; hh < heads; hh++) {
                int g = hh / (heads / kvh);
                for (int i = 0; i < t; i++) {
                    double[] sc = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double s2 = 0;
                        for (int e = 0; e < hd; e++) {
                            s2 += q[i * h + hh * hd + e] * k[j * kv + g * hd + e];
                        }
                        sc[j] = s2 / Math.sqrt(hd);
                        max = Math.max(max, sc[j]);
                    }
                    double z = 0;
                    for (int j = 0; j <= i; j++) {
                        sc[j] = Math.exp(sc[j] - max);
                        z += sc[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int e = 0; e < hd; e++) {
                            att[i * h + hh * hd + e] += sc[j] / z * v[j * kv + g * hd + e];
                        }
                    }
                }
            }
            double[] o = linear(att, t, w.get(p + "self_attn.o_proj.weight"), null, h, h);
            double[] mid = new double[t * h];
            for (int i = 0; i < mid.length; i++) {
                mid[i] = xs[i] + o[i];
            }
            double[] xn2 = rms(mid, t, w.get(p + "post_attention_layernorm.weight"));
            double[] gate = linear(xn2, t, w.get(p + "mlp.gate_proj.weight"), null, im, h);
            double[] up = linear(xn2, t, w.get(p + "mlp.up_proj.weight"), null, im, h);
            for (int i = 0; i < gate.length; i++) {
                gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
            }
            double[] down = linear(gate, t, w.get(p + "mlp.down_proj.weight"), null, h, im);
            double[] out = new double[t * h];
            for (int i = 0; i < out.length; i++) {
                out[i] = mid[i] + down[i];
            }
            xs = out;
        }
        double[] hn = rms(xs, t, w.get("model.norm.weight"));
        double[] headW = w.get(d.tied() ? "model.embed_tokens.weight" : "lm_head.weight");
        double[] logits = linear(hn, t, headW, null, d.vocab(), h);
        double loss = 0;
        int count = 0;
        for (int i = 0; i + 1 < t; i++) {
            if (lab[i + 1] == -100) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < d.vocab(); c++) {
                max = Math.max(max, logits[i * d.vocab() + c]);
            }
            double z = 0;
            for (int c = 0; c < d.vocab(); c++) {
                z += Math.exp(logits[i * d.vocab() + c] - max);
            }
            loss += max + Math.log(z) - logits[i * d.vocab() + lab[i + 1]];
            count++;
        }
        return new double[] {loss, count};
    }

    /** HF rotate_half rotation in double, per head of width d, position = row. */
    private void rope(double[] x, int t, int nh) {
        int hd = d.headDim(), half = hd / 2;
        for (int i = 0; i < t; i++) {
            for (int hh = 0; hh < nh; hh++) {
                int o = i * nh * hd + hh * hd;
                for (int e = 0; e < half; e++) {
                    double ang = i / Math.pow(d.ropeTheta(), 2.0 * e / hd);
                    double c = Math.cos(ang), s = Math.sin(ang);
                    double a = x[o + e], b = x[o + e + half];
                    x[o + e] = a * c - b * s;
                    x[o + e + half] = b * c + a * s;
                }
            }
        }
    }
}
