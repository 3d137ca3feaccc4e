package osprey4j.eval.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Panoptic quality as panopticapi's {@code pq_compute} computes it (detectron2's {@code COCOPanopticEvaluator} calls
 * it): per image, a predicted and a true segment of one category match when their IoU is above 0.5 (the IoU's union
 * leaves out the prediction's pixels on void); true crowd segments never match; unmatched true segments are false
 * negatives (crowds excepted); an unmatched prediction is a false positive unless more than half of it lies on void or
 * on the crowd region of its category. PQ, SQ and RQ are averaged over the categories with any TP, FP or FN, for all,
 * things and stuff.
 *
 * <p>Segment id 0 is void in both maps. A true segment's area is the one its segments_info gives (as the reference
 * reads it), a predicted segment's is counted.
 */
public final class PanopticQuality {
    /** A category of the ground-truth JSON. */
    public record Category(int id, String name, boolean isThing) {
    }

    /** A true segment: its id in the PNG, category, crowd flag and area (from segments_info). */
    public record TrueSegment(long id, int categoryId, boolean crowd, long area) {
    }

    /** A predicted segment: its id in the predicted PNG and its category. */
    public record PredictedSegment(long id, int categoryId) {
    }

    /** One category's sums. */
    public static final class Stat {
        public double iou;
        public long tp;
        public long fp;
        public long fn;
    }

    /** PQ, SQ, RQ (fractions, not &times;100) over n categories; NaN when n is 0 (the reference divides by zero). */
    public record Average(double pq, double sq, double rq, int n) {
    }

    public record Result(Average all, Average things, Average stuff, Map<Integer, double[]> perClass) {
    }

    private static final long OFFSET = 256L * 256 * 256;
    private final List<Category> categories;
    private final Map<Integer, Category> byId = new HashMap<>();
    private final Map<Integer, Stat> stats = new HashMap<>();

    public PanopticQuality(List<Category> categories) {
        this.categories = List.copyOf(categories);
        for (Category c : categories) {
            byId.put(c.id(), c);
        }
    }

    /** The sums so far of a category (zero when it never occurred). */
    public Stat stat(int categoryId) {
        return stats.computeIfAbsent(categoryId, k -> new Stat());
    }

    /**
     * Adds one image.
     *
     * @param truth     segment id per pixel of the ground truth (rgb2id of its PNG)
     * @param trueSegs  its segments_info
     * @param predicted segment id per pixel of the prediction (0: no segment)
     * @param predSegs  the prediction's segments_info
     * @throws IllegalArgumentException where pq_compute raises: a predicted id without segments_info or the
     *                                  reverse, or an unknown category
     */
    public void add(long[] truth, List<TrueSegment> trueSegs, long[] predicted, List<PredictedSegment> predSegs) {
        if (truth.length != predicted.length) {
            throw new IllegalArgumentException("ground truth of " + truth.length + " pixels, prediction of "
                    + predicted.length);
        }
        Map<Long, TrueSegment> gt = new LinkedHashMap<>();
        for (TrueSegment s : trueSegs) {
            gt.put(s.id(), s);
        }
        Map<Long, PredictedSegment> pred = new LinkedHashMap<>();
        for (PredictedSegment s : predSegs) {
            pred.put(s.id(), s);
        }
        Map<Long, Long> predArea = new HashMap<>();
        // pairs keyed as the reference's np.unique sorts them: gt_id * OFFSET + pred_id
        TreeMap<Long, Long> pairs = new TreeMap<>(Long::compareUnsigned);
        for (int i = 0; i < truth.length; i++) {
            predArea.merge(predicted[i], 1L, Long::sum);
            pairs.merge(truth[i] * OFFSET + predicted[i], 1L, Long::sum);
        }
        Set<Long> unseen = new HashSet<>(pred.keySet());
        for (long label : new TreeMap<>(predArea).keySet()) {
            PredictedSegment s = pred.get(label);
            if (s == null) {
                if (label == 0) {
                    continue;
                }
                throw new IllegalArgumentException("segment " + label + " is in the predicted PNG and not in its "
                        + "segments_info");
            }
            unseen.remove(label);
            if (!byId.containsKey(s.categoryId())) {
                throw new IllegalArgumentException("segment " + label + " has unknown category_id "
                        + s.categoryId());
            }
        }
        if (!unseen.isEmpty()) {
            throw new IllegalArgumentException("segments " + unseen + " are in segments_info and not in the PNG");
        }
        Set<Long> gtMatched = new HashSet<>();
        Set<Long> predMatched = new HashSet<>();
        for (Map.Entry<Long, Long> e : pairs.entrySet()) {
            long gtLabel = Long.divideUnsigned(e.getKey(), OFFSET);
            long predLabel = Long.remainderUnsigned(e.getKey(), OFFSET);
            long intersection = e.getValue();
            TrueSegment g = gt.get(gtLabel);
            PredictedSegment p = pred.get(predLabel);
            if (g == null || p == null || g.crowd() || g.categoryId() != p.categoryId()) {
                continue;
            }
            long union = predArea.get(predLabel) + g.area() - intersection
                    - pairs.getOrDefault(predLabel, 0L); // (VOID, pred) sits at key pred_id
            double iou = (double) intersection / union;
            if (iou > 0.5) {
                Stat st = stat(g.categoryId());
                st.tp++;
                st.iou += iou;
                gtMatched.add(gtLabel);
                predMatched.add(predLabel);
            }
        }
        Map<Integer, Long> crowdByCategory = new HashMap<>();
        for (TrueSegment g : gt.values()) {
            if (gtMatched.contains(g.id())) {
                continue;
            }
            if (g.crowd()) {
                crowdByCategory.put(g.categoryId(), g.id());
                continue;
            }
            stat(g.categoryId()).fn++;
        }
        for (PredictedSegment p : pred.values()) {
            if (predMatched.contains(p.id())) {
                continue;
            }
            long intersection = pairs.getOrDefault(p.id(), 0L);
            Long crowd = crowdByCategory.get(p.categoryId());
            if (crowd != null) {
                intersection += pairs.getOrDefault(crowd * OFFSET + p.id(), 0L);
            }
            if ((double) intersection / predArea.get(p.id()) > 0.5) {
                continue;
            }
            stat(p.categoryId()).fp++;
        }
    }

    /** All, things and stuff, and per category {pq, sq, rq} (zeros for a category that never occurred). */
    public Result result() {
        Map<Integer, double[]> perClass = new LinkedHashMap<>();
        Average all = average(null, perClass);
        return new Result(all, average(true, new LinkedHashMap<>()), average(false, new LinkedHashMap<>()),
                perClass);
    }

    private Average average(Boolean things, Map<Integer, double[]> perClass) {
        double pq = 0;
        double sq = 0;
        double rq = 0;
        int n = 0;
        for (Category c : categories) {
            if (things != null && things != c.isThing()) {
                continue;
            }
            Stat s = stats.getOrDefault(c.id(), new Stat());
            if (s.tp + s.fp + s.fn == 0) {
                perClass.put(c.id(), new double[] {0, 0, 0});
                continue;
            }
            n++;
            double pqClass = s.iou / (s.tp + 0.5 * s.fp + 0.5 * s.fn);
            double sqClass = s.tp != 0 ? s.iou / s.tp : 0;
            double rqClass = s.tp / (s.tp + 0.5 * s.fp + 0.5 * s.fn);
            perClass.put(c.id(), new double[] {pqClass, sqClass, rqClass});
            pq += pqClass;
            sq += sqClass;
            rq += rqClass;
        }
        return new Average(pq / n, sq / n, rq / n, n);
    }

    /** The categories as given. */
    public List<Category> categories() {
        return new ArrayList<>(categories);
    }
}
