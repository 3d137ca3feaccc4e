package osprey4j.eval.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The reference's open-vocabulary segmentation inference ({@code eval_open_vocab_seg_detectron2.py}, after fc-clip)
 * from per-segment class scores and the ground-truth segments:
 *
 * <ul>
 * <li>slots: up to 300 query slots; slot k holds the k-th non-void id of the panoptic PNG in sorted order (the
 * reference's {@code get_gt_label} counts void among the first 300 ids, so with void present at most 299 segments
 * get a slot); slots without a segment are "void" ({@code is_void} 1);</li>
 * <li>class probabilities: {@code softmax(scores) * (1 - is_void)} with {@code is_void} appended, then
 * {@code log(p + 1e-8)}, all in float32; a slot past the asked ones has all-zero scores;</li>
 * <li>semantic: per pixel the argmax over classes of {@code softmax(logits)[:-1]} summed over the slots covering it
 * (class 0 where none does);</li>
 * <li>panoptic: each slot whose best label is not void becomes a segment, stuff segments of one class merged;</li>
 * <li>instances: the 100 best (slot, class) probabilities, thing classes kept, scored by the probability times the
 * mean of {@code sigmoid(mask)} over the mask (sigmoid(1) for a binary mask).</li>
 * </ul>
 *
 * <p>Only slots with a segment are asked about: a void slot's answer is multiplied by {@code 1 - is_void = 0} and
 * cannot change any output. Instances of slots without a segment (empty masks, score 0) are left out: they have
 * score 0 and empty masks, so they rank after every other detection and cannot change AP.
 */
public final class OpenVocabInference {
    public static final int NUM_QUERIES = 300;
    public static final int TOP_K = 100;
    static final float SIGMOID_ONE = (float) (1 / (1 + Math.exp(-1.0)));

    private OpenVocabInference() {
    }

    /** The slots of an image: the ids of its non-void segments that get a query, in slot order. */
    public static long[] slots(long[] panopticIds) {
        TreeSet<Long> ids = new TreeSet<>();
        for (long id : panopticIds) {
            ids.add(id);
        }
        List<Long> out = new ArrayList<>();
        int i = 0;
        for (long id : ids) {
            if (i >= NUM_QUERIES) {
                break;
            }
            i++;
            if (id != 0) {
                out.add(id);
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * How many slots are asked: {@code min(300, len(segments_info))} as the reference asks, less those past the
     * segments (void slots, whose answers are discarded).
     */
    public static int asked(int segmentsInfoCount, int slotCount) {
        return Math.min(Math.min(NUM_QUERIES, segmentsInfoCount), slotCount);
    }

    /**
     * The per-slot probabilities {@code softmax(log(p + 1e-8))} over K classes and void, in float32.
     *
     * @param scores  the asked slots' class scores (cosine similarities), one row each
     * @param slots   how many slots hold a segment (rows past {@code scores.length} score zeros)
     */
    public static float[][] probabilities(float[][] scores, int slots, int classes) {
        float[][] out = new float[slots][];
        for (int q = 0; q < slots; q++) {
            float[] row = q < scores.length ? scores[q] : new float[classes];
            float[] p = softmax(row);
            float[] logits = new float[classes + 1];
            for (int c = 0; c < classes; c++) {
                logits[c] = (float) Math.log(p[c] * 1f + 1e-8f);
            }
            logits[classes] = (float) Math.log(0f + 1e-8f); // is_void 0 for a slot with a segment
            out[q] = softmax(logits);
        }
        return out;
    }

    static float[] softmax(float[] x) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        float[] e = new float[x.length];
        float sum = 0;
        for (int i = 0; i < x.length; i++) {
            e[i] = (float) Math.exp(x[i] - max);
            sum += e[i];
        }
        for (int i = 0; i < x.length; i++) {
            e[i] /= sum;
        }
        return e;
    }

    /** The best class of each slot ({@code argmax} of its class probabilities, the first on ties). */
    static int[] bestClass(float[][] probs, int classes) {
        int[] best = new int[probs.length];
        for (int q = 0; q < probs.length; q++) {
            int b = 0;
            for (int c = 1; c < classes; c++) {
                if (probs[q][c] > probs[q][b]) {
                    b = c;
                }
            }
            best[q] = b;
        }
        return best;
    }

    /** Semantic prediction per pixel: the covering slot's best class, 0 where no slot covers the pixel. */
    public static int[] semantic(long[] panopticIds, long[] slots, float[][] probs, int classes) {
        int[] best = bestClass(probs, classes);
        Map<Long, Integer> classOf = new LinkedHashMap<>();
        for (int q = 0; q < slots.length; q++) {
            classOf.put(slots[q], best[q]);
        }
        int[] out = new int[panopticIds.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = classOf.getOrDefault(panopticIds[i], 0);
        }
        return out;
    }

    /** A predicted panoptic segment: its id in the predicted map, class (contiguous id) and whether a thing. */
    public record Segment(int id, int classId, boolean isThing) {
    }

    /** The predicted panoptic map (0: no segment) and its segments. */
    public record Panoptic(long[] ids, List<Segment> segments) {
    }

    /** Panoptic inference: every slot a segment of its best class, stuff of one class merged into one segment. */
    public static Panoptic panoptic(long[] panopticIds, long[] slots, float[][] probs, int classes,
                                    Set<Integer> thingClasses) {
        int[] best = bestClass(probs, classes);
        Map<Long, Integer> segmentOfSlotId = new LinkedHashMap<>();
        Map<Integer, Integer> stuffSegment = new LinkedHashMap<>();
        List<Segment> segments = new ArrayList<>();
        int current = 0;
        for (int q = 0; q < slots.length; q++) {
            if (probs[q][best[q]] < probs[q][classes] || !(probs[q][best[q]] > 0)) {
                continue; // void wins (never for a slot with a segment, kept for fidelity)
            }
            int c = best[q];
            boolean thing = thingClasses.contains(c);
            if (!thing && stuffSegment.containsKey(c)) {
                segmentOfSlotId.put(slots[q], stuffSegment.get(c));
                continue;
            }
            if (!thing) {
                stuffSegment.put(c, current + 1);
            }
            current++;
            segmentOfSlotId.put(slots[q], current);
            segments.add(new Segment(current, c, thing));
        }
        long[] ids = new long[panopticIds.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = segmentOfSlotId.getOrDefault(panopticIds[i], 0);
        }
        return new Panoptic(ids, segments);
    }

    /** A predicted instance: the slot whose mask it is, its class and score. */
    public record Instance(int slot, int classId, float score) {
    }

    /**
     * Instance inference: the 100 best (slot, class) probabilities over all 300 slots (ties to the lower flat
     * index), thing classes kept, scored by probability times sigmoid(1); instances of slots without a segment are
     * left out (see the class comment).
     */
    public static List<Instance> instances(long[] slots, float[][] probs, int classes, Set<Integer> thingClasses,
                                           long[] slotAreas) {
        record Cand(int q, int c, float p) {
        }
        List<Cand> cands = new ArrayList<>();
        for (int q = 0; q < slots.length; q++) {
            for (int c = 0; c < classes; c++) {
                cands.add(new Cand(q, c, probs[q][c]));
            }
        }
        // an empty slot's probability 1e-8 / (1 + (K+1)e-8) is below every segment's (those are at least ~1/K * e^-2)
        cands.sort((a, b) -> Float.compare(b.p(), a.p()));
        List<Instance> out = new ArrayList<>();
        for (Cand x : cands.subList(0, Math.min(TOP_K, cands.size()))) {
            if (!thingClasses.contains(x.c())) {
                continue;
            }
            long area = slotAreas[x.q()];
            float maskScore = (float) (SIGMOID_ONE * (double) area / (area + 1e-6));
            out.add(new Instance(x.q(), x.c(), x.p() * maskScore));
        }
        return out;
    }

    /** Areas of the slots' segments. */
    public static long[] slotAreas(long[] panopticIds, long[] slots) {
        Map<Long, Integer> index = new LinkedHashMap<>();
        for (int q = 0; q < slots.length; q++) {
            index.put(slots[q], q);
        }
        long[] areas = new long[slots.length];
        for (long id : panopticIds) {
            Integer q = index.get(id);
            if (q != null) {
                areas[q]++;
            }
        }
        return areas;
    }

    /**
     * The COCO RLE of every slot's mask, in one column-major pass over the panoptic ids (a slot's mask is the pixels
     * of its segment id).
     */
    public static java.util.List<osprey4j.core.mask.Rle> slotRles(long[] panopticIds, int width, int height,
                                                                  long[] slots) {
        Map<Long, Integer> index = new LinkedHashMap<>();
        for (int q = 0; q < slots.length; q++) {
            index.put(slots[q], q);
        }
        List<List<Long>> counts = new ArrayList<>();
        long[] start = new long[slots.length];
        for (int q = 0; q < slots.length; q++) {
            counts.add(new ArrayList<>());
        }
        int prev = -1;
        long p = 0;
        for (int x = 0; x < width; x++) {
            for (int y = 0; y < height; y++, p++) {
                int cur = index.getOrDefault(panopticIds[y * width + x], -1);
                if (cur != prev) {
                    if (prev >= 0) {
                        counts.get(prev).add(p - start[prev]);
                        start[prev] = p;
                    }
                    if (cur >= 0) {
                        counts.get(cur).add(p - start[cur]);
                        start[cur] = p;
                    }
                    prev = cur;
                }
            }
        }
        List<osprey4j.core.mask.Rle> out = new ArrayList<>(slots.length);
        for (int q = 0; q < slots.length; q++) {
            counts.get(q).add(p - start[q]);
            out.add(osprey4j.core.mask.Rle.of(height, width,
                    counts.get(q).stream().mapToLong(Long::longValue).toArray()));
        }
        return out;
    }
}
