package osprey4j.eval.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import osprey4j.core.mask.Rle;

/**
 * COCO mask AP as pycocotools' {@code COCOeval} computes it with {@code iouType="segm"} and maxDets [1, 10, 100] (as
 * detectron2's COCO evaluator runs it): per image and category, detections sorted by score (stably) and cut to 100,
 * greedily matched to ground truth at IoU thresholds 0.50:0.05:0.95 (crowd ground truth may take several detections
 * and makes them ignored; ground truth outside the area range is ignored, as are unmatched detections outside it);
 * precision interpolated at the 101 recall points; AP the mean over thresholds, recall points and categories with
 * ground truth.
 */
public final class MaskAp {
    /** A ground-truth annotation: its id (never 0), image, category, mask, area (as in the JSON) and crowd flag. */
    public record Truth(long id, String imageId, int categoryId, Rle mask, double area, boolean crowd) {
    }

    /** A detection: image, category, mask and score (its area is the mask's). */
    public record Detection(String imageId, int categoryId, Rle mask, double score) {
    }

    /** COCOeval's 12 summary numbers (fractions; -1 where nothing counts) and the per-category AP (NaN: no truth). */
    public record Result(double[] stats, Map<Integer, Double> perCategoryAp) {
        public double ap() {
            return stats[0];
        }

        public double ap50() {
            return stats[1];
        }

        public double ap75() {
            return stats[2];
        }
    }

    static final int[] MAX_DETS = {1, 10, 100};
    static final double[][] AREA_RANGES = {{0, 1e5 * 1e5}, {0, 32 * 32}, {32 * 32, 96 * 96}, {96 * 96, 1e5 * 1e5}};
    static final double[] IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
    static final double[] RECALL_THRESHOLDS = linspace(0.0, 1.0, 101);

    private MaskAp() {
    }

    /** numpy's linspace: i * step + start, the last one exactly stop. */
    static double[] linspace(double start, double stop, int num) {
        double step = (stop - start) / (num - 1);
        double[] y = new double[num];
        for (int i = 0; i < num; i++) {
            y[i] = i * step + start;
        }
        y[num - 1] = stop;
        return y;
    }

    private record Eval(long[][] dtMatches, boolean[][] dtIgnore, double[] dtScores, boolean[] gtIgnore) {
    }

    /**
     * @param imageIds   the evaluated images in the order COCOeval sorts them (sorted ids)
     * @param categoryIds the categories, sorted
     */
    public static Result evaluate(List<String> imageIds, List<Integer> categoryIds, List<Truth> truths,
                                  List<Detection> detections) {
        Map<String, List<Truth>> gts = new HashMap<>();
        Map<String, List<Detection>> dts = new HashMap<>();
        Map<String, Integer> imagePos = new HashMap<>();
        for (int i = 0; i < imageIds.size(); i++) {
            imagePos.put(imageIds.get(i), i);
        }
        // COCO groups annotations by image (in imgIds order), keeping file order within an image
        List<Truth> tOrdered = new ArrayList<>(truths);
        tOrdered.sort(Comparator.comparingInt(t -> imagePos.getOrDefault(t.imageId(), Integer.MAX_VALUE)));
        for (Truth t : tOrdered) {
            if (imagePos.containsKey(t.imageId()) && categoryIds.contains(t.categoryId())) {
                gts.computeIfAbsent(key(t.imageId(), t.categoryId()), k -> new ArrayList<>()).add(t);
            }
        }
        List<Detection> dOrdered = new ArrayList<>(detections);
        dOrdered.sort(Comparator.comparingInt(d -> imagePos.getOrDefault(d.imageId(), Integer.MAX_VALUE)));
        for (Detection d : dOrdered) {
            if (!imagePos.containsKey(d.imageId())) {
                throw new IllegalArgumentException("a detection is on image " + d.imageId()
                        + ", which the ground truth does not have");
            }
            if (categoryIds.contains(d.categoryId())) {
                dts.computeIfAbsent(key(d.imageId(), d.categoryId()), k -> new ArrayList<>()).add(d);
            }
        }
        int maxDet = MAX_DETS[MAX_DETS.length - 1];
        int nI = imageIds.size();
        int nA = AREA_RANGES.length;
        int nK = categoryIds.size();
        Eval[] evals = new Eval[nK * nA * nI];
        for (int k = 0; k < nK; k++) {
            for (int i = 0; i < nI; i++) {
                String key = key(imageIds.get(i), categoryIds.get(k));
                List<Truth> gt = gts.getOrDefault(key, List.of());
                List<Detection> dt = sortedByScore(dts.getOrDefault(key, List.of()));
                if (dt.size() > maxDet) {
                    dt = dt.subList(0, maxDet);
                }
                double[][] ious = gt.isEmpty() || dt.isEmpty() ? null
                        : Rle.iou(dt.stream().map(Detection::mask).toList(), gt.stream().map(Truth::mask).toList(),
                                crowdFlags(gt));
                for (int a = 0; a < nA; a++) {
                    evals[k * nA * nI + a * nI + i] = evaluateImage(gt, dt, ious, AREA_RANGES[a], maxDet);
                }
            }
        }
        int nT = IOU_THRESHOLDS.length;
        int nR = RECALL_THRESHOLDS.length;
        int nM = MAX_DETS.length;
        double[][][][][] precision = new double[nT][nR][nK][nA][nM];
        double[][][][] recall = new double[nT][nK][nA][nM];
        for (double[][][][] p : precision) {
            for (double[][][] q : p) {
                for (double[][] r : q) {
                    for (double[] s : r) {
                        Arrays.fill(s, -1);
                    }
                }
            }
        }
        for (double[][][] p : recall) {
            for (double[][] q : p) {
                for (double[] r : q) {
                    Arrays.fill(r, -1);
                }
            }
        }
        for (int k = 0; k < nK; k++) {
            for (int a = 0; a < nA; a++) {
                for (int m = 0; m < nM; m++) {
                    accumulate(evals, k * nA * nI + a * nI, nI, MAX_DETS[m], precision, recall, k, a, m);
                }
            }
        }
        double[] stats = {
                summarize(precision, recall, true, null, 0, 2), summarize(precision, recall, true, 0.5, 0, 2),
                summarize(precision, recall, true, 0.75, 0, 2), summarize(precision, recall, true, null, 1, 2),
                summarize(precision, recall, true, null, 2, 2), summarize(precision, recall, true, null, 3, 2),
                summarize(precision, recall, false, null, 0, 0), summarize(precision, recall, false, null, 0, 1),
                summarize(precision, recall, false, null, 0, 2), summarize(precision, recall, false, null, 1, 2),
                summarize(precision, recall, false, null, 2, 2), summarize(precision, recall, false, null, 3, 2)};
        Map<Integer, Double> perCategory = new java.util.LinkedHashMap<>();
        for (int k = 0; k < nK; k++) {
            double sum = 0;
            int n = 0;
            for (int t = 0; t < nT; t++) {
                for (int r = 0; r < nR; r++) {
                    double v = precision[t][r][k][0][nM - 1];
                    if (v > -1) {
                        sum += v;
                        n++;
                    }
                }
            }
            perCategory.put(categoryIds.get(k), n == 0 ? Double.NaN : sum / n);
        }
        return new Result(stats, perCategory);
    }

    private static String key(String image, int category) {
        return image + "\u0000" + category;
    }

    private static boolean[] crowdFlags(List<Truth> gt) {
        boolean[] c = new boolean[gt.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = gt.get(i).crowd();
        }
        return c;
    }

    /** Descending score, stable (numpy's mergesort of the negated scores). */
    private static List<Detection> sortedByScore(List<Detection> dt) {
        List<Detection> s = new ArrayList<>(dt);
        s.sort(Comparator.comparingDouble((Detection d) -> -d.score()));
        return s;
    }

    private static Eval evaluateImage(List<Truth> gtAll, List<Detection> dtSorted, double[][] iousAll, double[] range,
                                      int maxDet) {
        if (gtAll.isEmpty() && dtSorted.isEmpty()) {
            return null;
        }
        int nG = gtAll.size();
        boolean[] ignoreRaw = new boolean[nG];
        for (int g = 0; g < nG; g++) {
            Truth t = gtAll.get(g);
            ignoreRaw[g] = t.crowd() || t.area() < range[0] || t.area() > range[1];
        }
        // stable sort: the not-ignored first
        Integer[] gtind = new Integer[nG];
        for (int g = 0; g < nG; g++) {
            gtind[g] = g;
        }
        Arrays.sort(gtind, Comparator.comparingInt(g -> ignoreRaw[g] ? 1 : 0));
        List<Truth> gt = new ArrayList<>(nG);
        boolean[] gtIg = new boolean[nG];
        for (int g = 0; g < nG; g++) {
            gt.add(gtAll.get(gtind[g]));
            gtIg[g] = ignoreRaw[gtind[g]];
        }
        List<Detection> dt = dtSorted.subList(0, Math.min(maxDet, dtSorted.size()));
        int nT = IOU_THRESHOLDS.length;
        int nD = dt.size();
        long[][] gtm = new long[nT][nG];
        long[][] dtm = new long[nT][nD];
        boolean[][] dtIg = new boolean[nT][nD];
        if (iousAll != null) {
            for (int t = 0; t < nT; t++) {
                for (int d = 0; d < nD; d++) {
                    double iou = Math.min(IOU_THRESHOLDS[t], 1 - 1e-10);
                    int m = -1;
                    for (int g = 0; g < nG; g++) {
                        if (gtm[t][g] > 0 && !gt.get(g).crowd()) {
                            continue;
                        }
                        if (m > -1 && !gtIg[m] && gtIg[g]) {
                            break;
                        }
                        double v = iousAll[d][gtind[g]];
                        if (v < iou) {
                            continue;
                        }
                        iou = v;
                        m = g;
                    }
                    if (m == -1) {
                        continue;
                    }
                    dtIg[t][d] = gtIg[m];
                    dtm[t][d] = gt.get(m).id();
                    gtm[t][m] = d + 1L; // the detection's id is never 0; only "matched" is read
                }
            }
        }
        double[] scores = new double[nD];
        for (int d = 0; d < nD; d++) {
            double area = dt.get(d).mask().area();
            boolean outside = area < range[0] || area > range[1];
            scores[d] = dt.get(d).score();
            for (int t = 0; t < nT; t++) {
                dtIg[t][d] = dtIg[t][d] || dtm[t][d] == 0 && outside;
            }
        }
        return new Eval(dtm, dtIg, scores, gtIg);
    }

    private static void accumulate(Eval[] evals, int offset, int nI, int maxDet, double[][][][][] precision,
                                   double[][][][] recall, int k, int a, int m) {
        List<Eval> e = new ArrayList<>();
        for (int i = 0; i < nI; i++) {
            if (evals[offset + i] != null) {
                e.add(evals[offset + i]);
            }
        }
        if (e.isEmpty()) {
            return;
        }
        List<double[]> flat = new ArrayList<>(); // {score, eval index, detection index}
        int npig = 0;
        for (int x = 0; x < e.size(); x++) {
            Eval ev = e.get(x);
            for (int d = 0; d < Math.min(maxDet, ev.dtScores().length); d++) {
                flat.add(new double[] {ev.dtScores()[d], x, d});
            }
            for (boolean ig : ev.gtIgnore()) {
                if (!ig) {
                    npig++;
                }
            }
        }
        if (npig == 0) {
            return;
        }
        flat.sort(Comparator.comparingDouble(v -> -v[0]));
        int nd = flat.size();
        for (int t = 0; t < IOU_THRESHOLDS.length; t++) {
            double[] rc = new double[nd];
            double[] pr = new double[nd];
            double tp = 0;
            double fp = 0;
            for (int j = 0; j < nd; j++) {
                Eval ev = e.get((int) flat.get(j)[1]);
                int d = (int) flat.get(j)[2];
                boolean matched = ev.dtMatches()[t][d] != 0;
                boolean ignored = ev.dtIgnore()[t][d];
                if (matched && !ignored) {
                    tp++;
                } else if (!matched && !ignored) {
                    fp++;
                }
                rc[j] = tp / npig;
                pr[j] = tp / (fp + tp + Math.ulp(1.0));
            }
            recall[t][k][a][m] = nd > 0 ? rc[nd - 1] : 0;
            for (int i = nd - 1; i > 0; i--) {
                if (pr[i] > pr[i - 1]) {
                    pr[i - 1] = pr[i];
                }
            }
            double[] q = new double[RECALL_THRESHOLDS.length];
            for (int r = 0; r < RECALL_THRESHOLDS.length; r++) {
                int pi = searchLeft(rc, RECALL_THRESHOLDS[r]);
                if (pi >= nd) {
                    break; // the reference's IndexError leaves the rest at 0
                }
                q[r] = pr[pi];
            }
            for (int r = 0; r < q.length; r++) {
                precision[t][r][k][a][m] = q[r];
            }
        }
    }

    /** numpy.searchsorted(sorted, v, side='left'): the first index whose value is &ge; v. */
    private static int searchLeft(double[] sorted, double v) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static double summarize(double[][][][][] precision, double[][][][] recall, boolean ap, Double iouThr,
                                     int area, int maxDetIndex) {
        double sum = 0;
        long n = 0;
        for (int t = 0; t < IOU_THRESHOLDS.length; t++) {
            if (iouThr != null && IOU_THRESHOLDS[t] != iouThr) {
                continue;
            }
            int nK = recall[t].length;
            for (int k = 0; k < nK; k++) {
                if (ap) {
                    for (int r = 0; r < RECALL_THRESHOLDS.length; r++) {
                        double v = precision[t][r][k][area][maxDetIndex];
                        if (v > -1) {
                            sum += v;
                            n++;
                        }
                    }
                } else {
                    double v = recall[t][k][area][maxDetIndex];
                    if (v > -1) {
                        sum += v;
                        n++;
                    }
                }
            }
        }
        return n == 0 ? -1 : sum / n;
    }
}
