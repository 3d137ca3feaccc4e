package osprey4j.eval.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Cityscapes instance AP as cityscapesScripts' {@code evalInstanceLevelSemanticLabeling} computes it (detectron2's
 * CityscapesInstanceEvaluator calls it): ground-truth instances from the {@code *_gtFine_instanceIds.png} images
 * (ids of 1000 and above are instances, smaller ones groups), the eight instance classes, overlaps
 * 0.50:0.05:0.95 (a match needs IoU strictly above), ground truth under 100 pixels or a group not counted and
 * predictions mostly on them or on void ignored; per class and overlap, the step-wise area under the
 * precision-recall curve; AP the NaN-ignoring mean over classes and overlaps, AP50 over classes at 0.5.
 */
public final class CityscapesInstanceAp {
    /** The instance classes (label id to name) in cityscapesScripts' order. */
    public static final Map<Integer, String> CLASSES = classes();
    /** Label ids with ignoreInEval (void for predictions). */
    public static final Set<Integer> VOID = Set.of(0, 1, 2, 3, 4, 5, 6, 9, 10, 14, 15, 16, 18, 29, 30, -1);
    static final int MIN_REGION_SIZE = 100;
    static final double[] OVERLAPS = overlaps();

    private static Map<Integer, String> classes() {
        Map<Integer, String> m = new LinkedHashMap<>();
        m.put(24, "person");
        m.put(25, "rider");
        m.put(26, "car");
        m.put(27, "truck");
        m.put(28, "bus");
        m.put(31, "train");
        m.put(32, "motorcycle");
        m.put(33, "bicycle");
        return m;
    }

    /** numpy's arange(0.5, 1., 0.05): start + i * (second - start). */
    private static double[] overlaps() {
        double delta = (0.5 + 0.05) - 0.5;
        double[] o = new double[10];
        for (int i = 0; i < o.length; i++) {
            o[i] = 0.5 + i * delta;
        }
        return o;
    }

    /** A predicted instance: its label id, score and mask (true per pixel, row-major). */
    public record Prediction(int labelId, double score, boolean[] mask) {
    }

    private static final class Gt {
        final long instId;
        final long pixels;
        final List<long[]> matchedPred = new ArrayList<>(); // {pred index, intersection}

        Gt(long instId, long pixels) {
            this.instId = instId;
            this.pixels = pixels;
        }
    }

    private static final class Pred {
        final double score;
        final long pixels;
        final long voidIntersection;
        final List<long[]> matchedGt = new ArrayList<>(); // {gt index, intersection}

        Pred(double score, long pixels, long voidIntersection) {
            this.score = score;
            this.pixels = pixels;
            this.voidIntersection = voidIntersection;
        }
    }

    private record Image(Map<Integer, List<Gt>> gt, Map<Integer, List<Pred>> pred) {
    }

    private final List<Image> images = new ArrayList<>();

    /** Adds one image: its instanceIds values and the predictions (in the order the prediction file lists them). */
    public void add(int[] instanceIds, List<Prediction> predictions) {
        List<Overlaps> stats = new ArrayList<>(predictions.size());
        for (Prediction p : predictions) {
            if (p.mask().length != instanceIds.length) {
                throw new IllegalArgumentException("prediction mask of " + p.mask().length + " pixels, image of "
                        + instanceIds.length);
            }
            Overlaps o = new Overlaps();
            for (int i = 0; i < instanceIds.length; i++) {
                if (p.mask()[i]) {
                    o.count(instanceIds[i]);
                }
            }
            stats.add(o);
        }
        add(instanceIds, predictions.stream().map(p -> new int[] {p.labelId()}).toList(),
                predictions.stream().map(Prediction::score).toList(), stats);
    }

    /** A predicted instance whose mask is a region of a region map (disjoint masks, as the ground-truth segments). */
    public record RegionPrediction(int labelId, double score, int region) {
    }

    /**
     * Adds one image whose predicted masks are regions of {@code regionOfPixel} (-1: none), counted in one pass.
     */
    public void addRegions(int[] instanceIds, int[] regionOfPixel, int regions, List<RegionPrediction> predictions) {
        if (regionOfPixel.length != instanceIds.length) {
            throw new IllegalArgumentException("region map of " + regionOfPixel.length + " pixels, image of "
                    + instanceIds.length);
        }
        Overlaps[] byRegion = new Overlaps[regions];
        for (int r = 0; r < regions; r++) {
            byRegion[r] = new Overlaps();
        }
        for (int i = 0; i < instanceIds.length; i++) {
            if (regionOfPixel[i] >= 0) {
                byRegion[regionOfPixel[i]].count(instanceIds[i]);
            }
        }
        add(instanceIds, predictions.stream().map(p -> new int[] {p.labelId()}).toList(),
                predictions.stream().map(RegionPrediction::score).toList(),
                predictions.stream().map(p -> byRegion[p.region()]).toList());
    }

    /** A predicted mask's pixel count, pixels on void and pixels on each ground-truth value. */
    private static final class Overlaps {
        long pixels;
        long onVoid;
        final Map<Integer, Long> byValue = new TreeMap<>();

        void count(int gtValue) {
            pixels++;
            if (VOID.contains(gtValue)) {
                onVoid++;
            }
            byValue.merge(gtValue, 1L, Long::sum);
        }
    }

    private void add(int[] instanceIds, List<int[]> labels, List<Double> scores, List<Overlaps> overlaps) {
        TreeMap<Integer, Long> counts = new TreeMap<>();
        for (int v : instanceIds) {
            counts.merge(v, 1L, Long::sum);
        }
        Map<Integer, List<Gt>> gt = new LinkedHashMap<>();
        Map<Integer, List<Pred>> pred = new LinkedHashMap<>();
        for (int label : CLASSES.keySet()) {
            gt.put(label, new ArrayList<>());
            pred.put(label, new ArrayList<>());
        }
        counts.forEach((id, n) -> {
            int label = id < 1000 ? id : id / 1000;
            if (gt.containsKey(label)) {
                gt.get(label).add(new Gt(id, n));
            }
        });
        for (int k = 0; k < labels.size(); k++) {
            int labelId = labels.get(k)[0];
            Overlaps o = overlaps.get(k);
            if (!CLASSES.containsKey(labelId) || o.pixels == 0) {
                continue;
            }
            List<Pred> preds = pred.get(labelId);
            Pred pr = new Pred(scores.get(k), o.pixels, o.onVoid);
            List<Gt> gts = gt.get(labelId);
            for (int g = 0; g < gts.size(); g++) {
                long in = o.byValue.getOrDefault((int) gts.get(g).instId, 0L);
                if (in > 0) {
                    pr.matchedGt.add(new long[] {g, in});
                    gts.get(g).matchedPred.add(new long[] {preds.size(), in});
                }
            }
            preds.add(pr);
        }
        images.add(new Image(gt, pred));
    }

    /** AP per class (rows in {@link #CLASSES} order) and overlap; NaN where a class has no ground truth. */
    public double[][] apTable() {
        double[][] ap = new double[CLASSES.size()][OVERLAPS.length];
        int li = 0;
        for (int label : CLASSES.keySet()) {
            for (int oi = 0; oi < OVERLAPS.length; oi++) {
                ap[li][oi] = ap(label, OVERLAPS[oi]);
            }
            li++;
        }
        return ap;
    }

    private double ap(int label, double th) {
        List<double[]> entries = new ArrayList<>(); // {true, score}
        long hardFns = 0;
        boolean haveGt = false;
        boolean havePred = false;
        for (Image img : images) {
            List<Pred> preds = img.pred().get(label);
            List<Gt> all = img.gt().get(label);
            List<Gt> gts = all.stream().filter(g -> g.instId >= 1000 && g.pixels >= MIN_REGION_SIZE).toList();
            haveGt |= !gts.isEmpty();
            havePred |= !preds.isEmpty();
            List<double[]> cur = new ArrayList<>();
            List<Boolean> matched = new ArrayList<>();
            for (int i = 0; i < gts.size(); i++) {
                cur.add(new double[] {1, Double.NEGATIVE_INFINITY});
                matched.add(false);
            }
            for (int gi = 0; gi < gts.size(); gi++) {
                Gt g = gts.get(gi);
                boolean found = false;
                for (long[] m : g.matchedPred) {
                    Pred p = preds.get((int) m[0]);
                    double overlap = (double) m[1] / (g.pixels + p.pixels - m[1]);
                    if (overlap > th) {
                        if (matched.get(gi)) {
                            double max = Math.max(cur.get(gi)[1], p.score);
                            double min = Math.min(cur.get(gi)[1], p.score);
                            cur.get(gi)[1] = max;
                            cur.add(new double[] {0, min});
                            matched.add(true);
                        } else {
                            found = true;
                            matched.set(gi, true);
                            cur.get(gi)[1] = p.score;
                        }
                    }
                }
                if (!found) {
                    hardFns++;
                }
            }
            for (int i = 0; i < cur.size(); i++) {
                if (matched.get(i)) {
                    entries.add(cur.get(i));
                }
            }
            for (Pred p : preds) {
                boolean foundGt = false;
                for (long[] m : p.matchedGt) {
                    Gt g = all.get((int) m[0]);
                    if ((double) m[1] / (g.pixels + p.pixels - m[1]) > th) {
                        foundGt = true;
                        break;
                    }
                }
                if (!foundGt) {
                    long ignore = p.voidIntersection;
                    for (long[] m : p.matchedGt) {
                        Gt g = all.get((int) m[0]);
                        if (g.instId < 1000) {
                            ignore += m[1];
                        }
                        if (g.pixels < MIN_REGION_SIZE) {
                            ignore += m[1];
                        }
                    }
                    if ((double) ignore / p.pixels <= th) {
                        entries.add(new double[] {0, p.score});
                    }
                }
            }
        }
        if (!haveGt) {
            return Double.NaN;
        }
        if (!havePred) {
            return 0.0;
        }
        if (entries.isEmpty()) {
            return 0.0; // the reference indexes an empty array here and fails; no detection counts: AP 0
        }
        entries.sort((a, b) -> Double.compare(a[1], b[1]));
        int n = entries.size();
        double[] cumsum = new double[n + 1]; // cumsum[n] stays 0: the reference's index -1
        double c = 0;
        for (int i = 0; i < n; i++) {
            c += entries.get(i)[0];
            cumsum[i] = c;
        }
        double nbTrue = cumsum[n - 1];
        List<Integer> firsts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (i == 0 || entries.get(i)[1] != entries.get(i - 1)[1]) {
                firsts.add(i);
            }
        }
        int m = firsts.size() + 1;
        double[] precision = new double[m];
        double[] recall = new double[m];
        for (int r = 0; r < firsts.size(); r++) {
            int idx = firsts.get(r);
            double cs = cumsum[idx == 0 ? n : idx - 1];
            double tp = nbTrue - cs;
            double fp = n - idx - tp;
            double fn = cs + hardFns;
            precision[r] = tp / (tp + fp);
            recall[r] = tp / (tp + fn);
        }
        precision[m - 1] = 1;
        recall[m - 1] = 0;
        double[] conv = new double[m + 2];
        conv[0] = recall[0];
        System.arraycopy(recall, 0, conv, 1, m);
        conv[m + 1] = 0;
        double ap = 0;
        for (int i = 0; i < m; i++) {
            ap += precision[i] * (conv[i] * 0.5 + conv[i + 2] * -0.5);
        }
        return ap;
    }

    /** allAp: the mean of the table's non-NaN entries (NaN when there are none). */
    public static double meanAp(double[][] table) {
        return nanMean(Arrays.stream(table).flatMapToDouble(Arrays::stream).toArray());
    }

    /** allAp50%: the mean over classes at overlap 0.5. */
    public static double meanAp50(double[][] table) {
        return nanMean(Arrays.stream(table).mapToDouble(r -> r[0]).toArray());
    }

    static double nanMean(double[] v) {
        double s = 0;
        int n = 0;
        for (double x : v) {
            if (!Double.isNaN(x)) {
                s += x;
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }
}
