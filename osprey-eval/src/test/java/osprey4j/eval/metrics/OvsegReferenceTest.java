package osprey4j.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import osprey4j.core.mask.Rle;

/**
 * Open-vocabulary segmentation metrics and inference against the reference's own code run on hand-made data
 * ({@code tools/fixtures/eval/make_ovseg_*_fixtures.py}; see the fixture folder's README): detectron2's
 * SemSegEvaluator, panopticapi's pq_compute, pycocotools' COCOeval (segm), and the reference script's inference.
 */
class OvsegReferenceTest {
    static JsonNode fixture(String name) throws IOException {
        return ReferenceMetricsTest.fixture("ovseg/" + name);
    }

    static int[] flat(JsonNode rows) {
        List<Integer> out = new ArrayList<>();
        rows.forEach(r -> r.forEach(v -> out.add(v.asInt())));
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    static long[] flatLong(JsonNode rows) {
        List<Long> out = new ArrayList<>();
        rows.forEach(r -> r.forEach(v -> out.add(v.asLong())));
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    static void assertClose(JsonNode want, double got, String what) {
        if (want.isNull()) {
            assertTrue(Double.isNaN(got), what + ": want NaN, got " + got);
        } else {
            assertEquals(want.asDouble(), got, 1e-12 * Math.max(1, Math.abs(want.asDouble())), what);
        }
    }

    @Test
    void semanticSegmentationScoresMatchSemSegEvaluator() throws IOException {
        for (JsonNode c : fixture("semseg.json")) {
            List<String> names = new ArrayList<>();
            c.get("classes").forEach(n -> names.add(n.asText()));
            SemSegScores s = new SemSegScores(names.size(), c.get("ignore_label").asInt());
            for (JsonNode img : c.get("images")) {
                s.add(flat(img.get("pred")), flat(img.get("gt")));
            }
            JsonNode conf = c.get("confusion");
            for (int p = 0; p <= names.size(); p++) {
                for (int g = 0; g <= names.size(); g++) {
                    if (p < names.size()) {
                        assertEquals(conf.get(p).get(g).asLong(), s.count(p, g), c.get("name") + " confusion");
                    }
                }
            }
            SemSegScores.Result r = s.result();
            JsonNode want = c.get("results");
            String name = c.get("name").asText();
            assertClose(want.get("mIoU"), r.mIoU(), name + " mIoU");
            assertClose(want.get("fwIoU"), r.fwIoU(), name + " fwIoU");
            assertClose(want.get("mACC"), r.mACC(), name + " mACC");
            assertClose(want.get("pACC"), r.pACC(), name + " pACC");
            for (int i = 0; i < names.size(); i++) {
                assertClose(want.get("IoU-" + names.get(i)), r.iou()[i], name + " IoU-" + names.get(i));
                assertClose(want.get("ACC-" + names.get(i)), r.acc()[i], name + " ACC-" + names.get(i));
            }
        }
    }

    @Test
    void semanticSegmentationRefusesLabelsOutsideTheClasses() {
        SemSegScores s = new SemSegScores(3, 255);
        assertThrows(IllegalArgumentException.class, () -> s.add(new int[] {0}, new int[] {7}));
        assertThrows(IllegalArgumentException.class, () -> s.add(new int[] {3}, new int[] {0}));
    }

    @Test
    void panopticQualityMatchesPqCompute() throws IOException {
        JsonNode f = fixture("panoptic.json");
        List<PanopticQuality.Category> cats = new ArrayList<>();
        f.get("categories").forEach(c -> cats.add(new PanopticQuality.Category(c.get("id").asInt(),
                c.get("name").asText(), c.get("isthing").asInt() == 1)));
        PanopticQuality pq = new PanopticQuality(cats);
        for (JsonNode img : f.get("images")) {
            List<PanopticQuality.TrueSegment> gt = new ArrayList<>();
            img.get("gt_segments").forEach(s -> gt.add(new PanopticQuality.TrueSegment(s.get("id").asLong(),
                    s.get("category_id").asInt(), s.get("iscrowd").asInt() == 1, s.get("area").asLong())));
            List<PanopticQuality.PredictedSegment> pred = new ArrayList<>();
            img.get("pred_segments").forEach(s -> pred.add(new PanopticQuality.PredictedSegment(s.get("id").asLong(),
                    s.get("category_id").asInt())));
            pq.add(flatLong(img.get("gt")), gt, flatLong(img.get("pred")), pred);
        }
        PanopticQuality.Result r = pq.result();
        JsonNode want = f.get("results");
        for (var e : List.of(List.of("All", r.all()), List.of("Things", r.things()), List.of("Stuff", r.stuff()))) {
            JsonNode w = want.get((String) e.get(0));
            PanopticQuality.Average a = (PanopticQuality.Average) e.get(1);
            assertClose(w.get("pq"), a.pq(), e.get(0) + " PQ");
            assertClose(w.get("sq"), a.sq(), e.get(0) + " SQ");
            assertClose(w.get("rq"), a.rq(), e.get(0) + " RQ");
            assertEquals(w.get("n").asInt(), a.n(), e.get(0) + " n");
        }
        f.get("per_class").properties().forEach(e -> {
            double[] got = r.perClass().get(Integer.parseInt(e.getKey()));
            assertClose(e.getValue().get("pq"), got[0], "PQ of " + e.getKey());
            assertClose(e.getValue().get("sq"), got[1], "SQ of " + e.getKey());
            assertClose(e.getValue().get("rq"), got[2], "RQ of " + e.getKey());
        });
    }

    @Test
    void panopticQualityRefusesSegmentsMissingFromTheJson() {
        PanopticQuality pq = new PanopticQuality(List.of(new PanopticQuality.Category(1, "a", true)));
        assertThrows(IllegalArgumentException.class, () -> pq.add(new long[] {0, 0}, List.of(), new long[] {0, 5},
                List.of()));
        assertThrows(IllegalArgumentException.class, () -> pq.add(new long[] {0, 0}, List.of(), new long[] {0, 0},
                List.of(new PanopticQuality.PredictedSegment(5, 1))));
    }

    @Test
    void maskApMatchesCocoEval() throws IOException {
        JsonNode f = fixture("mask_ap.json");
        JsonNode gt = f.get("gt");
        List<String> images = new ArrayList<>();
        gt.get("images").forEach(i -> images.add(i.get("id").asText()));
        images.sort(null);
        List<Integer> cats = new ArrayList<>();
        gt.get("categories").forEach(c -> cats.add(c.get("id").asInt()));
        cats.sort(null);
        List<MaskAp.Truth> truths = new ArrayList<>();
        for (JsonNode a : gt.get("annotations")) {
            JsonNode seg = a.get("segmentation");
            truths.add(new MaskAp.Truth(a.get("id").asLong(), a.get("image_id").asText(), a.get("category_id").asInt(),
                    rle(seg), a.get("area").asDouble(), a.get("iscrowd").asInt() == 1));
        }
        List<MaskAp.Detection> dets = new ArrayList<>();
        for (JsonNode d : f.get("predictions")) {
            dets.add(new MaskAp.Detection(d.get("image_id").asText(), d.get("category_id").asInt(),
                    rle(d.get("segmentation")), d.get("score").asDouble()));
        }
        MaskAp.Result r = MaskAp.evaluate(images, cats, truths, dets);
        for (int i = 0; i < 12; i++) {
            assertClose(f.get("stats").get(i), r.stats()[i], "COCOeval stats[" + i + "]");
        }
        for (JsonNode c : gt.get("categories")) {
            assertClose(f.get("per_category_ap").get(c.get("name").asText()), r.perCategoryAp().get(c.get("id").asInt()),
                    "AP of " + c.get("name"));
        }
    }

    static Rle rle(JsonNode seg) {
        return Rle.fromString(seg.get("size").get(0).asInt(), seg.get("size").get(1).asInt(),
                seg.get("counts").asText());
    }

    @Test
    void classSentencesMatchTheReference() throws IOException {
        JsonNode f = fixture("inference.json").get("class_sentences");
        for (String dataset : List.of("ade", "cityscapes")) {
            OvsegClasses classes = OvsegClasses.of(dataset);
            List<String> want = new ArrayList<>();
            f.get(dataset).get("sentences").forEach(s -> want.add(s.asText()));
            assertEquals(want, classes.sentences(), dataset + " sentences");
            int[] n = new int[f.get(dataset).get("num_templates").size()];
            for (int i = 0; i < n.length; i++) {
                n[i] = f.get(dataset).get("num_templates").get(i).asInt();
            }
            assertArrayEquals(n, classes.sentencesPerClass(), dataset + " sentences per class");
            Set<Integer> things = new HashSet<>();
            f.get(dataset).get("things").forEach(t -> things.add(t.asInt()));
            assertEquals(things, classes.thingIds(), dataset + " thing classes");
        }
    }

    @Test
    void inferenceMatchesTheReferenceScript() throws IOException {
        for (JsonNode c : fixture("inference.json").get("cases")) {
            String name = c.get("name").asText();
            int k = c.get("classes").asInt();
            Set<Integer> things = new HashSet<>();
            c.get("things").forEach(t -> things.add(t.asInt()));
            long[] gt = flatLong(c.get("gt"));
            long[] slots = OpenVocabInference.slots(gt);
            int asked = OpenVocabInference.asked(c.get("segments_info_count").asInt(), slots.length);
            float[][] scores = new float[asked][k];
            for (int q = 0; q < asked; q++) {
                for (int j = 0; j < k; j++) {
                    scores[q][j] = (float) c.get("scores").get(q).get(j).asDouble();
                }
            }
            float[][] probs = OpenVocabInference.probabilities(scores, slots.length, k);
            JsonNode wantProbs = c.get("probabilities");
            assertEquals(wantProbs.size(), probs.length, name + ": slots");
            for (int q = 0; q < probs.length; q++) {
                for (int j = 0; j <= k; j++) {
                    assertEquals(wantProbs.get(q).get(j).asDouble(), probs[q][j], 1e-6, name + ": probability");
                }
            }
            assertArrayEquals(flat(c.get("semantic")), OpenVocabInference.semantic(gt, slots, probs, k),
                    name + ": semantic");
            OpenVocabInference.Panoptic p = OpenVocabInference.panoptic(gt, slots, probs, k, things);
            assertArrayEquals(flatLong(c.get("panoptic")), p.ids(), name + ": panoptic map");
            List<String> wantSegs = new ArrayList<>();
            c.get("panoptic_segments").forEach(s -> wantSegs.add(s.get("id").asInt() + ":"
                    + s.get("category_id").asInt() + ":" + s.get("isthing").asBoolean()));
            assertEquals(wantSegs, p.segments().stream().map(s -> s.id() + ":" + s.classId() + ":" + s.isThing())
                    .toList(), name + ": panoptic segments");
            List<OpenVocabInference.Instance> inst = new ArrayList<>(OpenVocabInference.instances(slots, probs, k,
                    things, OpenVocabInference.slotAreas(gt, slots)));
            inst.sort((a, b) -> a.score() != b.score() ? Float.compare(b.score(), a.score())
                    : a.slot() != b.slot() ? Integer.compare(a.slot(), b.slot())
                    : Integer.compare(a.classId(), b.classId()));
            JsonNode want = c.get("instances");
            assertEquals(want.size(), inst.size(), name + ": instances with a mask");
            for (int i = 0; i < inst.size(); i++) {
                assertEquals(want.get(i).get("slot").asInt(), inst.get(i).slot(), name + ": instance " + i + " slot");
                assertEquals(want.get(i).get("class").asInt(), inst.get(i).classId(), name + ": instance " + i);
                assertEquals(want.get(i).get("score").asDouble(), inst.get(i).score(), 1e-6, name + ": score " + i);
            }
        }
    }

    @Test
    void cityscapesMeanIouMatchesEvalPixelLevelSemanticLabeling() throws IOException {
        JsonNode f = fixture("cityscapes.json").get("semantic");
        java.util.Map<Integer, Integer> trainId = OvsegClasses.of("cityscapes").contiguousOfDatasetId();
        SemSegScores s = new SemSegScores(19, 255);
        for (JsonNode img : f.get("images")) {
            int[] gt = flat(img.get("gt"));
            int[] pred = flat(img.get("pred"));
            for (int i = 0; i < gt.length; i++) {
                gt[i] = trainId.getOrDefault(gt[i], 255);
                pred[i] = trainId.get(pred[i]);
            }
            s.add(pred, gt);
        }
        assertEquals(100 * f.get("averageScoreClasses").asDouble(), s.cityscapesMeanIou(), 1e-12);
        double[] iou = s.result().iou();
        OvsegClasses cs = OvsegClasses.of("cityscapes");
        for (OvsegClasses.ClassInfo c : cs.classes()) {
            JsonNode want = f.get("classScores").get(cityscapesName(c.datasetId()));
            if (!want.isNull() && !Double.isNaN(iou[c.contiguousId()])) {
                assertEquals(100 * want.asDouble(), iou[c.contiguousId()], 1e-12, "IoU of " + c.names());
            }
        }
        assertTrue(Math.abs(s.cityscapesMeanIou() - s.result().mIoU()) > 1,
                "the fixture has a class predicted without ground truth, where the two means differ");
    }

    static String cityscapesName(int labelId) {
        return switch (labelId) {
            case 7 -> "road";
            case 8 -> "sidewalk";
            case 11 -> "building";
            case 23 -> "sky";
            case 24 -> "person";
            case 26 -> "car";
            case 33 -> "bicycle";
            default -> "unlabeled";
        };
    }

    @Test
    void cityscapesInstanceApMatchesEvalInstanceLevelSemanticLabeling() throws IOException {
        JsonNode f = fixture("cityscapes.json").get("instance");
        int h = f.get("height").asInt();
        int w = f.get("width").asInt();
        CityscapesInstanceAp ap = new CityscapesInstanceAp();
        for (JsonNode img : f.get("images")) {
            List<CityscapesInstanceAp.Prediction> preds = new ArrayList<>();
            for (JsonNode p : img.get("predictions")) {
                JsonNode b = p.get("box");
                boolean[] m = new boolean[h * w];
                for (int y = b.get(0).asInt(); y < b.get(1).asInt(); y++) {
                    for (int x = b.get(2).asInt(); x < b.get(3).asInt(); x++) {
                        m[y * w + x] = true;
                    }
                }
                preds.add(new CityscapesInstanceAp.Prediction(p.get("label_id").asInt(), p.get("score").asDouble(), m));
            }
            ap.add(flat(img.get("instance_ids")), preds);
        }
        double[][] table = ap.apTable();
        assertClose(f.get("allAp"), CityscapesInstanceAp.meanAp(table), "allAp");
        assertClose(f.get("allAp50"), CityscapesInstanceAp.meanAp50(table), "allAp50%");
        int i = 0;
        for (String name : CityscapesInstanceAp.CLASSES.values()) {
            double mean = java.util.Arrays.stream(table[i]).average().orElseThrow();
            assertClose(f.get("classes").get(name).get("ap"), mean, "AP of " + name);
            assertClose(f.get("classes").get(name).get("ap50"), table[i][0], "AP50 of " + name);
            i++;
        }
    }

    @Test
    void slotRlesEqualEachMaskEncoded() throws IOException {
        for (JsonNode c : fixture("inference.json").get("cases")) {
            long[] gt = flatLong(c.get("gt"));
            int h = c.get("gt").size();
            int w = c.get("gt").get(0).size();
            long[] slots = OpenVocabInference.slots(gt);
            List<Rle> rles = OpenVocabInference.slotRles(gt, w, h, slots);
            for (int q = 0; q < slots.length; q++) {
                long id = slots[q];
                assertEquals(Rle.encode(osprey4j.core.mask.Mask.fromPredicate(w, h, (x, y) -> gt[y * w + x] == id)),
                        rles.get(q), c.get("name") + " slot " + q);
            }
        }
    }

    @Test
    void cityscapesApFromRegionsEqualsApFromMasks() {
        java.util.Random rnd = new java.util.Random(3);
        int w = 40;
        int h = 30;
        CityscapesInstanceAp fromMasks = new CityscapesInstanceAp();
        CityscapesInstanceAp fromRegions = new CityscapesInstanceAp();
        for (int img = 0; img < 3; img++) {
            int[] ids = new int[w * h];
            int[] region = new int[w * h];
            for (int i = 0; i < ids.length; i++) {
                int x = i % w;
                int y = i / w;
                ids[i] = new int[] {0, 26001, 26002, 24001, 7, 26}[(x / 10 + y / 12 + img) % 6];
                region[i] = x / 10 + 4 * (y / 12) - (rnd.nextInt(20) == 0 ? 100 : 0); // the instances' blocks, holed
                region[i] = region[i] < 0 ? -1 : region[i];
            }
            int regions = 12;
            List<CityscapesInstanceAp.RegionPrediction> rp = new ArrayList<>();
            List<CityscapesInstanceAp.Prediction> mp = new ArrayList<>();
            for (int k = 0; k < 12; k++) {
                int r = rnd.nextInt(regions);
                int label = new int[] {26, 24, 25, 33}[rnd.nextInt(4)];
                double score = rnd.nextInt(5) / 5.0;
                rp.add(new CityscapesInstanceAp.RegionPrediction(label, score, r));
                boolean[] m = new boolean[ids.length];
                for (int i = 0; i < m.length; i++) {
                    m[i] = region[i] == r;
                }
                mp.add(new CityscapesInstanceAp.Prediction(label, score, m));
            }
            fromMasks.add(ids, mp);
            fromRegions.addRegions(ids, region, regions, rp);
        }
        double[][] a = fromMasks.apTable();
        double[][] b = fromRegions.apTable();
        for (int i = 0; i < a.length; i++) {
            assertArrayEquals(a[i], b[i], 0.0);
        }
        assertTrue(CityscapesInstanceAp.meanAp(a) > 0, "the case finds something");
    }
}
