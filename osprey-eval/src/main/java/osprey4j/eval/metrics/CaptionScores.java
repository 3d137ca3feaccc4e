package osprey4j.eval.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * BLEU-1..4, ROUGE-L and CIDEr-D as the COCO caption evaluation ({@code pycocoevalcap}) computes them from
 * tokenised captions ({@link PtbTokenizer}): {@code res} holds one candidate per key, {@code gts} one or more
 * references per key, both with the same keys.
 *
 * <ul>
 *   <li>BLEU ({@code bleu_scorer.py}, option "closest"): corpus-level clipped n-gram counts summed over all
 *   candidates, geometric means with its 1e-15 / 1e-9 guards, one brevity penalty from the summed candidate length
 *   and the summed closest reference lengths (ties to the shorter).</li>
 *   <li>ROUGE-L ({@code rouge.py}): per caption, the longest common subsequence of the space-split tokens, the best
 *   precision and best recall over references, F with beta 1.2; the mean over captions.</li>
 *   <li>CIDEr-D ({@code cider_scorer.py}, sigma 6): tf-idf n-gram vectors with document frequencies over the
 *   references of all keys, clipped cosine per n, the Gaussian length penalty, mean over n and references, times 10;
 *   the mean over captions. Its "length" counts bigrams (its {@code n == 1} is the 0-based index): kept.</li>
 * </ul>
 * METEOR, which needs METEOR's WordNet and paraphrase data, is {@link MeteorScorer}.
 */
public final class CaptionScores {
    private static final int N = 4;
    private static final double SIGMA = 6.0;

    private CaptionScores() {
    }

    /** Corpus BLEU-1..4. */
    public static double[] bleu(Map<String, List<String>> gts, Map<String, String> res) {
        checkKeys(gts, res);
        double small = 1e-9;
        double tiny = 1e-15;
        long[] guess = new long[N];
        long[] correct = new long[N];
        long testTotal = 0;
        double refTotal = 0;
        for (String id : gts.keySet()) {
            List<String> test = PythonText.split(res.get(id));
            Map<List<String>, Integer> maxRef = new HashMap<>();
            List<Integer> refLens = new ArrayList<>();
            for (String ref : gts.get(id)) {
                List<String> words = PythonText.split(ref);
                refLens.add(words.size());
                ngrams(words).forEach((g, c) -> maxRef.merge(g, c, Math::max));
            }
            int testLen = test.size();
            testTotal += testLen;
            int closest = refLens.getFirst();
            for (int l : refLens) {
                int d = Math.abs(l - testLen);
                int best = Math.abs(closest - testLen);
                if (d < best || d == best && l < closest) {
                    closest = l;
                }
            }
            refTotal += closest;
            for (int k = 1; k <= N; k++) {
                guess[k - 1] += Math.max(0, testLen - k + 1);
            }
            ngrams(test).forEach((g, c) -> correct[g.size() - 1] += Math.min(maxRef.getOrDefault(g, 0), c));
        }
        double[] bleus = new double[N];
        double bleu = 1.0;
        for (int k = 0; k < N; k++) {
            bleu *= (correct[k] + tiny) / (guess[k] + small);
            bleus[k] = Math.pow(bleu, 1.0 / (k + 1));
        }
        double ratio = (testTotal + tiny) / (refTotal + small);
        if (ratio < 1) {
            for (int k = 0; k < N; k++) {
                bleus[k] *= Math.exp(1 - 1 / ratio);
            }
        }
        return bleus;
    }

    /** Per-key ROUGE-L, in key order. */
    public static double[] rougeL(Map<String, List<String>> gts, Map<String, String> res) {
        checkKeys(gts, res);
        double beta = 1.2;
        double[] out = new double[gts.size()];
        int i = 0;
        for (String id : gts.keySet()) {
            List<String> cand = PythonText.split(res.get(id), " ");
            double precMax = Double.NEGATIVE_INFINITY;
            double recMax = Double.NEGATIVE_INFINITY;
            for (String ref : gts.get(id)) {
                List<String> r = PythonText.split(ref, " ");
                int lcs = lcs(r, cand);
                precMax = Math.max(precMax, lcs / (double) cand.size());
                recMax = Math.max(recMax, lcs / (double) r.size());
            }
            out[i++] = precMax != 0 && recMax != 0
                    ? (1 + beta * beta) * precMax * recMax / (recMax + beta * beta * precMax) : 0.0;
        }
        return out;
    }

    /** Per-key CIDEr-D, in key order. */
    public static double[] ciderD(Map<String, List<String>> gts, Map<String, String> res) {
        checkKeys(gts, res);
        List<List<Map<List<String>, Integer>>> refs = new ArrayList<>();
        List<Map<List<String>, Integer>> tests = new ArrayList<>();
        Map<List<String>, Double> df = new HashMap<>();
        for (String id : gts.keySet()) {
            List<Map<List<String>, Integer>> r = new ArrayList<>();
            Set<List<String>> seen = new HashSet<>();
            for (String ref : gts.get(id)) {
                Map<List<String>, Integer> c = ngrams(PythonText.split(ref));
                r.add(c);
                seen.addAll(c.keySet());
            }
            seen.forEach(g -> df.merge(g, 1.0, Double::sum));
            refs.add(r);
            tests.add(ngrams(PythonText.split(res.get(id))));
        }
        double refLen = Math.log(refs.size());
        double[] out = new double[refs.size()];
        for (int i = 0; i < out.length; i++) {
            Vec hyp = vec(tests.get(i), df, refLen);
            double[] score = new double[N];
            for (Map<List<String>, Integer> ref : refs.get(i)) {
                Vec r = vec(ref, df, refLen);
                double delta = hyp.length - r.length;
                for (int n = 0; n < N; n++) {
                    double val = 0;
                    for (Map.Entry<List<String>, Double> e : hyp.vec.get(n).entrySet()) {
                        double rv = r.vec.get(n).getOrDefault(e.getKey(), 0.0);
                        val += Math.min(e.getValue(), rv) * rv;
                    }
                    if (hyp.norm[n] != 0 && r.norm[n] != 0) {
                        val /= hyp.norm[n] * r.norm[n];
                    }
                    val *= Math.pow(Math.E, -(delta * delta) / (2 * SIGMA * SIGMA));
                    score[n] += val;
                }
            }
            double mean = (score[0] + score[1] + score[2] + score[3]) / N;
            out[i] = mean / refs.get(i).size() * 10.0;
        }
        return out;
    }

    public static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    private record Vec(List<Map<List<String>, Double>> vec, double[] norm, int length) {
    }

    private static Vec vec(Map<List<String>, Integer> counts, Map<List<String>, Double> df, double refLen) {
        List<Map<List<String>, Double>> v = new ArrayList<>();
        for (int n = 0; n < N; n++) {
            v.add(new HashMap<>());
        }
        double[] norm = new double[N];
        int length = 0;
        for (Map.Entry<List<String>, Integer> e : counts.entrySet()) {
            double d = Math.log(Math.max(1.0, df.getOrDefault(e.getKey(), 0.0)));
            int n = e.getKey().size() - 1;
            double w = e.getValue() * (refLen - d);
            v.get(n).put(e.getKey(), w);
            norm[n] += w * w;
            if (n == 1) {
                length += e.getValue();
            }
        }
        for (int n = 0; n < N; n++) {
            norm[n] = Math.sqrt(norm[n]);
        }
        return new Vec(v, norm, length);
    }

    private static Map<List<String>, Integer> ngrams(List<String> words) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int k = 1; k <= N; k++) {
            for (int i = 0; i + k <= words.size(); i++) {
                counts.merge(List.copyOf(words.subList(i, i + k)), 1, Integer::sum);
            }
        }
        return counts;
    }

    private static int lcs(List<String> a, List<String> b) {
        List<String> string = a;
        List<String> sub = b;
        if (string.size() < sub.size()) {
            string = b;
            sub = a;
        }
        int[][] len = new int[string.size() + 1][sub.size() + 1];
        for (int j = 1; j <= sub.size(); j++) {
            for (int i = 1; i <= string.size(); i++) {
                len[i][j] = string.get(i - 1).equals(sub.get(j - 1)) ? len[i - 1][j - 1] + 1
                        : Math.max(len[i - 1][j], len[i][j - 1]);
            }
        }
        return len[string.size()][sub.size()];
    }

    private static void checkKeys(Map<String, List<String>> gts, Map<String, String> res) {
        if (!gts.keySet().equals(res.keySet())) {
            throw new IllegalArgumentException("references and candidates must have the same keys");
        }
        for (Map.Entry<String, List<String>> e : gts.entrySet()) {
            if (e.getValue().isEmpty()) {
                throw new IllegalArgumentException("no reference caption for " + e.getKey());
            }
        }
    }
}
