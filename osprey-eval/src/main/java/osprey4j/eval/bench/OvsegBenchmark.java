package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Rle;
import osprey4j.core.prompt.Preambles;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.eval.metrics.CityscapesInstanceAp;
import osprey4j.eval.metrics.MaskAp;
import osprey4j.eval.metrics.OpenVocabInference;
import osprey4j.eval.metrics.OvsegClasses;
import osprey4j.eval.metrics.PanopticQuality;
import osprey4j.eval.metrics.PythonText;
import osprey4j.eval.metrics.SemSegScores;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.Progress;
import osprey4j.eval.runner.RegionAsker;
import osprey4j.eval.runner.SamplesFile;
import osprey4j.model.GenerationOptions;

/**
 * Open-vocabulary segmentation with ground-truth masks (the paper's Table 2), as the reference's
 * {@code eval_open_vocab_seg_detectron2.py} runs it: every ground-truth panoptic segment of an image (up to 300) is
 * asked "What is in &lt;mask&gt;&lt;pos&gt;? Using a short phrase.", the answer scored against every class's
 * sentences ({@link OvsegClasses}), and the scores turned into semantic, panoptic and instance predictions
 * ({@link OpenVocabInference}) that PQ ({@link PanopticQuality}), mIoU ({@link SemSegScores}) and mask AP (ADE20K:
 * COCOeval, {@link MaskAp}; Cityscapes: {@link CityscapesInstanceAp}) score.
 *
 * <p>Data: the detectron2 layouts the reference registers, under a root folder (its {@code DETECTRON2_DATASETS}):
 * {@code ADEChallengeData2016/{images/validation, ade20k_panoptic_val, ade20k_panoptic_val.json,
 * annotations_detectron2/validation, ade20k_instance_val.json}} or {@code cityscapes/{leftImg8bit/val/CITY,
 * gtFine/cityscapes_panoptic_val, gtFine/cityscapes_panoptic_val.json, gtFine/val/CITY/*_gtFine_labelIds.png and
 * *_gtFine_instanceIds.png}}.
 *
 * <p>One line per asked segment goes to {@code samples.jsonl} (id {@code IMAGE#SLOT}) as it is answered, with the
 * answer and its class scores, so a rerun resumes; scoring reads them back. For Cityscapes the reference scores mIoU
 * and AP with cityscapesScripts' evaluators ({@link SemSegScores#cityscapesMeanIou}, {@link CityscapesInstanceAp}),
 * over the gtFine labelIds and instanceIds images. (The reference's Cityscapes instance evaluator names a
 * prediction's label by looking its class name up in cityscapesScripts' name2label; the reference's class names are
 * its synonym lists, such as "car,cars", which that lookup does not know. Here a prediction carries its class's
 * label id, as the lookup is meant to give.)
 */
public final class OvsegBenchmark {
    public static final String QUESTION = "What is in <mask><pos>? Using a short phrase.";
    public static final String PROMPT = Preambles.IMAGE + QUESTION;
    private static final String STOP = "</s>";

    /** Paper figures for Osprey-7B (its Table 2, assets/table1.png in the reference repository): PQ, AP, mIoU. */
    static final Map<String, double[]> PAPER = Map.of("cityscapes", new double[] {50.64, 29.17, 49.78},
            "ade", new double[] {41.89, 41.24, 29.63});

    /**
     * One image of the evaluation: files and its panoptic segments_info. {@code semantic} is what the reference's
     * semantic evaluator reads (ADE20K: annotations_detectron2, Cityscapes: gtFine labelIds); {@code instances} the
     * Cityscapes gtFine instanceIds (null for ADE20K, whose instances are in ade20k_instance_val.json).
     */
    public record Image(String imageId, Path image, Path panoptic, Path semantic, Path instances,
                        JsonNode segmentsInfo) {
    }

    public record Result(ObjectNode summary, String markdown, int images, int askedNow, int resumed) {
    }

    /**
     * An asked segment whose predicted class (the best of its class probabilities, as the panoptic prediction takes
     * it) is not its true class; classes are contiguous ids, {@code truthProbability} the probability the inference
     * gave the true class.
     */
    record Miss(String id, Image image, long segment, long area, int truth, int predicted, float truthProbability,
                float truthScore, float predictedScore, String answer) {
    }

    /**
     * The most wrong segments first: the lowest probability given to the true class, then the larger segment (it
     * costs more pixels), then the sample id.
     */
    static final Comparator<Miss> MOST_WRONG_FIRST = Comparator
            .comparingDouble((Miss m) -> m.truthProbability())
            .thenComparing(Miss::area, Comparator.reverseOrder())
            .thenComparing(Miss::id);

    private static final int WORST = 15;
    private static final int WORST_DRAWN = 6;

    private OvsegBenchmark() {
    }

    /** The evaluation's images, in the panoptic JSON's order. */
    public static List<Image> images(String dataset, Path root) throws IOException {
        List<Image> out = new ArrayList<>();
        if (dataset.equals("ade")) {
            Path base = root.resolve("ADEChallengeData2016");
            JsonNode json = readJson(base.resolve("ade20k_panoptic_val.json"));
            for (JsonNode ann : json.path("annotations")) {
                String file = ann.path("file_name").asText();
                String stem = file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file;
                out.add(new Image(ann.path("image_id").asText(), base.resolve("images/validation/" + stem + ".jpg"),
                        base.resolve("ade20k_panoptic_val/" + file),
                        base.resolve("annotations_detectron2/validation/" + file), null, ann.path("segments_info")));
            }
        } else if (dataset.equals("cityscapes")) {
            Path base = root.resolve("cityscapes");
            JsonNode json = readJson(base.resolve("gtFine/cityscapes_panoptic_val.json"));
            Map<String, Path> byId = new HashMap<>();
            Path leftDir = base.resolve("leftImg8bit/val");
            if (!Files.isDirectory(leftDir)) {
                throw new NoSuchFileException(leftDir.toString(), null, "Cityscapes image folder not found");
            }
            try (Stream<Path> cities = Files.list(leftDir)) {
                for (Path city : cities.sorted().toList()) {
                    try (Stream<Path> files = Files.list(city)) {
                        for (Path f : files.sorted().toList()) {
                            String name = f.getFileName().toString();
                            if (name.endsWith("_leftImg8bit.png")) {
                                byId.put(name.substring(0, name.length() - "_leftImg8bit.png".length()), f);
                            }
                        }
                    }
                }
            }
            for (JsonNode ann : json.path("annotations")) {
                String id = ann.path("image_id").asText();
                Path image = byId.get(id);
                if (image == null) {
                    throw new NoSuchFileException(leftDir.resolve("*/" + id + "_leftImg8bit.png").toString(), null,
                            "no image for annotation " + ann.path("file_name").asText());
                }
                Path gtFine = base.resolve("gtFine/val").resolve(image.getParent().getFileName());
                out.add(new Image(id, image, base.resolve("gtFine/cityscapes_panoptic_val/"
                        + ann.path("file_name").asText()), gtFine.resolve(id + "_gtFine_labelIds.png"),
                        gtFine.resolve(id + "_gtFine_instanceIds.png"), ann.path("segments_info")));
            }
        } else {
            throw new IllegalArgumentException("--dataset must be ade or cityscapes, got '" + dataset + "'");
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("the panoptic JSON under " + root + " lists no images");
        }
        return out;
    }

    /** The panoptic JSON (categories with isthing). */
    static Path panopticJson(String dataset, Path root) {
        return dataset.equals("ade") ? root.resolve("ADEChallengeData2016/ade20k_panoptic_val.json")
                : root.resolve("cityscapes/gtFine/cityscapes_panoptic_val.json");
    }

    private static JsonNode readJson(Path f) throws IOException {
        if (!Files.isRegularFile(f)) {
            throw new NoSuchFileException(f.toString(), null, "evaluation file not found");
        }
        return Reports.JSON.readTree(f.toFile());
    }

    /** Runs (or resumes) the questions, then scores and reports. {@code limit} and {@code shard} select images. */
    public static Result run(String dataset, Path root, EvalRun.Options options, RegionAsker asker,
                             OvsegClasses.Scorer scorer, OvsegClasses classes) throws IOException {
        List<Image> all = images(dataset, root);
        List<Image> selected = new ArrayList<>();
        for (int i = 0; i < all.size() && (options.limit() == 0 || selected.size() < options.limit()); i++) {
            if (options.shard().holds(i)) {
                selected.add(all.get(i));
            }
        }
        Path out = options.out();
        Files.createDirectories(out);
        ObjectNode info = Reports.JSON.createObjectNode();
        info.put("data", root.toAbsolutePath().normalize().toString());
        info.put("dataset", dataset);
        ObjectNode run = EvalRun.runInfo(info, "ovseg-" + dataset, asker.name(), options.decoding());
        EvalRun.checkSameSetUp(out.resolve(EvalRun.RUN), run);
        AtomicFiles.write(out.resolve(EvalRun.RUN), f -> Files.writeString(f,
                Reports.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(run) + "\n"));

        Map<String, JsonNode> done = SamplesFile.read(out.resolve(EvalRun.SAMPLES));
        // pass 1: which segments each image asks about (reads every selected panoptic PNG once)
        int total = 0;
        int resumed = 0;
        List<long[]> slotsOf = new ArrayList<>();
        List<Integer> askedOf = new ArrayList<>();
        for (Image img : selected) {
            long[] pan = readPanoptic(img.panoptic());
            long[] slots = OpenVocabInference.slots(pan);
            int asked = OpenVocabInference.asked(img.segmentsInfo().size(), slots.length);
            slotsOf.add(slots);
            askedOf.add(asked);
            total += asked;
            for (int k = 0; k < asked; k++) {
                if (done.containsKey(sampleId(img, k))) {
                    resumed++;
                }
            }
        }
        Progress progress = new Progress(options.progress(), total, resumed, 5000);
        int askedNow = 0;
        try (SamplesFile w = SamplesFile.append(out.resolve(EvalRun.SAMPLES))) {
            for (int i = 0; i < selected.size(); i++) {
                Image img = selected.get(i);
                int asked = askedOf.get(i);
                List<Integer> todo = new ArrayList<>();
                for (int k = 0; k < asked; k++) {
                    if (!done.containsKey(sampleId(img, k))) {
                        todo.add(k);
                    }
                }
                if (todo.isEmpty()) {
                    continue;
                }
                if (!Files.isRegularFile(img.image())) {
                    throw new NoSuchFileException(img.image().toString(), null, "image file not found (image "
                            + img.imageId() + ")");
                }
                long[] pan = readPanoptic(img.panoptic());
                int[] size = pngSize(img.panoptic());
                RegionAsker.Image session = asker.open(img.image());
                for (int k : todo) {
                    long segment = slotsOf.get(i)[k];
                    Mask mask = Mask.fromPredicate(size[0], size[1], (x, y) -> pan[y * size[0] + x] == segment);
                    String id = sampleId(img, k);
                    GenerationOptions g = EvalRun.decodingFor(options.decoding(), id);
                    long a0 = System.nanoTime();
                    String answer;
                    try {
                        answer = session.ask(List.of(mask), PROMPT, g);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("image " + img.imageId() + ", segment " + segment + ": "
                                + e.getMessage(), e);
                    }
                    double ms = (System.nanoTime() - a0) / 1e6;
                    String cleaned = clean(answer);
                    float[] scores = scorer.scores(cleaned);
                    ObjectNode r = EvalRun.record(id, img.image().toString(), PROMPT, null, answer, g, ms);
                    r.put("image_id", img.imageId());
                    r.put("slot", k);
                    r.put("segment", segment);
                    r.put("cleaned", cleaned);
                    r.put("best", classes.classes().get(argmax(scores)).names().getFirst());
                    ArrayNode s = r.putArray("scores");
                    for (float v : scores) {
                        s.add(v);
                    }
                    w.write(r);
                    done.put(id, r);
                    askedNow++;
                    progress.answered();
                }
            }
        }
        Result result = report(dataset, root, selected, slotsOf, askedOf, done, classes, out, run,
                all.size(), askedNow, resumed);
        return result;
    }

    static String sampleId(Image img, int slot) {
        return img.imageId() + "#" + slot;
    }

    /** The reference's clean-up: strip, drop a trailing {@code </s>}, strip. */
    static String clean(String answer) {
        String s = PythonText.strip(answer);
        if (s.endsWith(STOP)) {
            s = s.substring(0, s.length() - STOP.length());
        }
        return PythonText.strip(s);
    }

    static int argmax(float[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[b]) {
                b = i;
            }
        }
        return b;
    }

    /** rgb2id of a panoptic PNG, row-major. */
    static long[] readPanoptic(Path png) throws IOException {
        Raster r = read(png).getRaster();
        int w = r.getWidth();
        int h = r.getHeight();
        if (r.getNumBands() < 3) {
            throw new IOException(png + ": a panoptic PNG must be RGB, it has " + r.getNumBands() + " band(s)");
        }
        long[] out = new long[w * h];
        int[] px = new int[r.getNumBands()];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.getPixel(x, y, px);
                out[y * w + x] = px[0] + 256L * px[1] + 65536L * px[2];
            }
        }
        return out;
    }

    /** The values of a one-band label PNG (palette indices for a palette PNG, as numpy reads them). */
    static int[] readLabels(Path png) throws IOException {
        Raster r = read(png).getRaster();
        int w = r.getWidth();
        int h = r.getHeight();
        int[] out = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                out[y * w + x] = r.getSample(x, y, 0);
            }
        }
        return out;
    }

    private static int[] pngSize(Path png) throws IOException {
        BufferedImage b = read(png);
        return new int[] {b.getWidth(), b.getHeight()};
    }

    private static BufferedImage read(Path png) throws IOException {
        if (!Files.isRegularFile(png)) {
            throw new NoSuchFileException(png.toString(), null, "annotation PNG not found");
        }
        BufferedImage b = ImageIO.read(png.toFile());
        if (b == null) {
            throw new IOException(png + ": not a readable image");
        }
        return b;
    }

    static Result report(String dataset, Path root, List<Image> selected, List<long[]> slotsOf,
                         List<Integer> askedOf, Map<String, JsonNode> done, OvsegClasses classes, Path out,
                         ObjectNode run, int allImages, int askedNow, int resumed) throws IOException {
        int k = classes.size();
        Set<Integer> things = classes.thingIds();
        SemSegScores sem = new SemSegScores(k, 255);
        JsonNode panJson = readJson(panopticJson(dataset, root));
        List<PanopticQuality.Category> cats = new ArrayList<>();
        for (JsonNode c : panJson.path("categories")) {
            cats.add(new PanopticQuality.Category(c.path("id").asInt(), c.path("name").asText(),
                    c.path("isthing").asInt() == 1));
        }
        PanopticQuality pq = new PanopticQuality(cats);
        List<MaskAp.Detection> detections = new ArrayList<>();
        boolean ade = dataset.equals("ade");
        Map<Integer, Integer> trainIdOfLabelId = classes.contiguousOfDatasetId();
        CityscapesInstanceAp cityAp = new CityscapesInstanceAp();
        // a segment's true class is its panoptic category (a dataset id), as PQ reads it
        Map<Integer, Integer> contiguousOf = classes.contiguousOfDatasetId();
        int[] asked = new int[k];
        int[] right = new int[k];
        List<Miss> misses = new ArrayList<>();
        for (int i = 0; i < selected.size(); i++) {
            Image img = selected.get(i);
            long[] pan = readPanoptic(img.panoptic());
            int[] size = pngSize(img.panoptic());
            long[] slots = slotsOf.get(i);
            float[][] scores = new float[askedOf.get(i)][];
            for (int q = 0; q < scores.length; q++) {
                JsonNode r = done.get(sampleId(img, q));
                scores[q] = new float[k];
                for (int c = 0; c < k; c++) {
                    scores[q][c] = (float) r.path("scores").path(c).asDouble();
                }
            }
            float[][] probs = OpenVocabInference.probabilities(scores, slots.length, k);
            long[] areas = OpenVocabInference.slotAreas(pan, slots);
            Map<Long, Integer> trueClassOf = new HashMap<>();
            for (JsonNode si : img.segmentsInfo()) {
                Integer c = contiguousOf.get(si.path("category_id").asInt());
                if (c != null) {
                    trueClassOf.put(si.path("id").asLong(), c);
                }
            }
            for (int q = 0; q < scores.length; q++) {
                Integer truthClass = trueClassOf.get(slots[q]);
                if (truthClass == null) {
                    continue; // a segment of a class the evaluation leaves out
                }
                int predicted = argmax(Arrays.copyOf(probs[q], k));
                asked[truthClass]++;
                if (predicted == truthClass) {
                    right[truthClass]++;
                } else {
                    misses.add(new Miss(sampleId(img, q), img, slots[q], areas[q], truthClass, predicted,
                            probs[q][truthClass], scores[q][truthClass], scores[q][predicted],
                            done.get(sampleId(img, q)).path("answer").asText()));
                }
            }
            int[] truth = readLabels(img.semantic());
            if (!ade) {
                for (int j = 0; j < truth.length; j++) {
                    truth[j] = trainIdOfLabelId.getOrDefault(truth[j], 255); // labels ignored in evaluation
                }
            }
            sem.add(OpenVocabInference.semantic(pan, slots, probs, k), truth);
            OpenVocabInference.Panoptic p = OpenVocabInference.panoptic(pan, slots, probs, k, things);
            List<PanopticQuality.TrueSegment> gt = new ArrayList<>();
            for (JsonNode s : img.segmentsInfo()) {
                gt.add(new PanopticQuality.TrueSegment(s.path("id").asLong(), s.path("category_id").asInt(),
                        s.path("iscrowd").asInt() == 1, s.path("area").asLong()));
            }
            List<PanopticQuality.PredictedSegment> pred = new ArrayList<>();
            for (OpenVocabInference.Segment s : p.segments()) {
                pred.add(new PanopticQuality.PredictedSegment(s.id(), classes.datasetId(s.classId())));
            }
            pq.add(pan, gt, p.ids(), pred);
            List<OpenVocabInference.Instance> instances = OpenVocabInference.instances(slots, probs, k, things,
                    areas);
            if (ade) {
                List<Rle> masks = OpenVocabInference.slotRles(pan, size[0], size[1], slots);
                for (OpenVocabInference.Instance in : instances) {
                    detections.add(new MaskAp.Detection(img.imageId(), classes.datasetId(in.classId()),
                            masks.get(in.slot()), in.score()));
                }
            } else {
                Map<Long, Integer> slotOf = new HashMap<>();
                for (int q = 0; q < slots.length; q++) {
                    slotOf.put(slots[q], q);
                }
                int[] region = new int[pan.length];
                for (int j = 0; j < pan.length; j++) {
                    region[j] = slotOf.getOrDefault(pan[j], -1);
                }
                List<CityscapesInstanceAp.RegionPrediction> preds = new ArrayList<>();
                for (OpenVocabInference.Instance in : instances) {
                    // the score as the prediction file writes it: the float32 value printed in full
                    preds.add(new CityscapesInstanceAp.RegionPrediction(classes.datasetId(in.classId()), in.score(),
                            in.slot()));
                }
                cityAp.addRegions(readLabels(img.instances()), region, slots.length, preds);
            }
        }
        SemSegScores.Result s = sem.result();
        double cityscapesIou = sem.cityscapesMeanIou();
        PanopticQuality.Result pr = pq.result();
        MaskAp.Result ap = ade ? maskAp(root, selected, detections) : null;
        double[][] cityTable = ade ? null : cityAp.apTable();
        double mIoU = ade ? s.mIoU() : cityscapesIou;
        double apAll = ade ? cocoStat(ap, 0) : 100 * CityscapesInstanceAp.meanAp(cityTable);
        double ap50 = ade ? cocoStat(ap, 1) : 100 * CityscapesInstanceAp.meanAp50(cityTable);

        ObjectNode summary = Reports.JSON.createObjectNode();
        summary.put("benchmark", "ovseg-" + dataset);
        summary.put("data", root.toAbsolutePath().normalize().toString());
        summary.put("answerer", run.path("answerer").asText());
        summary.set("decoding", run.path("decoding"));
        summary.put("images", selected.size());
        summary.put("images_in_data", allImages);
        summary.put("segments_asked", askedOf.stream().mapToInt(Integer::intValue).sum());
        Reports.putRatio(summary, "PQ", 100 * pr.all().pq());
        Reports.putRatio(summary, "SQ", 100 * pr.all().sq());
        Reports.putRatio(summary, "RQ", 100 * pr.all().rq());
        Reports.putRatio(summary, "PQ_th", 100 * pr.things().pq());
        Reports.putRatio(summary, "PQ_st", 100 * pr.stuff().pq());
        Reports.putRatio(summary, "mIoU", mIoU);
        Reports.putRatio(summary, "fwIoU", s.fwIoU());
        Reports.putRatio(summary, "mACC", s.mACC());
        Reports.putRatio(summary, "pACC", s.pACC());
        Reports.putRatio(summary, "AP", apAll);
        Reports.putRatio(summary, "AP50", ap50);
        if (ap != null) {
            Reports.putRatio(summary, "AP75", cocoStat(ap, 2));
            Reports.putRatio(summary, "APs", cocoStat(ap, 3));
            Reports.putRatio(summary, "APm", cocoStat(ap, 4));
            Reports.putRatio(summary, "APl", cocoStat(ap, 5));
        }
        double[] paper = PAPER.get(dataset);
        ObjectNode po = summary.putObject("paper_osprey_7b");
        po.put("PQ", paper[0]);
        po.put("AP", paper[1]);
        po.put("mIoU", paper[2]);
        ObjectNode per = summary.putObject("per_class");
        for (OvsegClasses.ClassInfo c : classes.classes()) {
            ObjectNode n = per.putObject(c.names().getFirst());
            n.put("IoU", s.iou()[c.contiguousId()]);
            double[] pc = pr.perClass().get(c.datasetId());
            if (pc != null) {
                n.put("PQ", 100 * pc[0]);
            }
            n.put("segments", asked[c.contiguousId()]);
            n.put("segments_right", right[c.contiguousId()]);
        }
        misses.sort(MOST_WRONG_FIRST);
        List<Miss> worst = misses.subList(0, Math.min(WORST, misses.size()));
        summary.put("segments_right", Arrays.stream(right).sum());
        ArrayNode worstJson = summary.putArray("worst");
        for (Miss m : worst) {
            ObjectNode n = worstJson.addObject();
            n.put("id", m.id());
            n.put("image_id", m.image().imageId());
            n.put("image", m.image().image().toString());
            n.put("segment", m.segment());
            n.put("area", m.area());
            n.put("truth", className(classes, m.truth()));
            n.put("predicted", className(classes, m.predicted()));
            n.put("truth_probability", m.truthProbability());
            n.put("truth_score", m.truthScore());
            n.put("predicted_score", m.predictedScore());
            n.put("answer", m.answer());
        }

        StringBuilder b = new StringBuilder("# Open-vocabulary segmentation with ground-truth masks: ")
                .append(dataset.equals("ade") ? "ADE20K-150" : "Cityscapes").append("\n\n");
        b.append("- model: `").append(run.path("answerer").asText()).append("`\n- data: `")
                .append(summary.path("data").asText()).append("`\n- decoding: ")
                .append(Reports.decoding(run)).append("\n- images: ").append(selected.size()).append(" of ")
                .append(allImages).append(", ").append(summary.path("segments_asked").asInt())
                .append(" segments asked\n\n");
        b.append("| metric | osprey4j | paper (Osprey-7B) |\n|---|---:|---:|\n");
        b.append(row("PQ", 100 * pr.all().pq(), paper[0]));
        b.append(row("AP", apAll, paper[1]));
        b.append(row("mIoU", mIoU, paper[2]));
        b.append("\n| | PQ | SQ | RQ | categories |\n|---|---:|---:|---:|---:|\n");
        for (var e : List.of(Map.entry("all", pr.all()), Map.entry("things", pr.things()),
                Map.entry("stuff", pr.stuff()))) {
            b.append("| ").append(e.getKey()).append(" | ").append(num(100 * e.getValue().pq())).append(" | ")
                    .append(num(100 * e.getValue().sq())).append(" | ").append(num(100 * e.getValue().rq()))
                    .append(" | ").append(e.getValue().n()).append(" |\n");
        }
        if (ap != null) {
            b.append("\nmIoU as detectron2's SemSegEvaluator: fwIoU " + num(s.fwIoU()) + ", mACC " + num(s.mACC())
                    + ", pACC " + num(s.pACC()) + ". Mask AP as COCOeval (segm): AP50 " + num(cocoStat(ap, 1))
                    + ", AP75 " + num(cocoStat(ap, 2)) + ", APs " + num(cocoStat(ap, 3)) + ", APm "
                    + num(cocoStat(ap, 4)) + ", APl " + num(cocoStat(ap, 5)) + ".");
        } else {
            b.append("\nmIoU and AP as cityscapesScripts' evalPixelLevelSemanticLabeling (IoU over gtFine labelIds) "
                    + "and evalInstanceLevelSemanticLabeling (over gtFine instanceIds): AP50 " + num(ap50)
                    + ". SemSegEvaluator's mIoU would be " + num(s.mIoU()) + " (it leaves out classes without "
                    + "ground truth).");
        }
        b.append("\n\nThe paper's figures are over the whole validation set with the official weights; a --limit or "
                + "--shard run covers a part of it (PQ, mIoU and AP are then over the images evaluated).\n\n");
        List<OvsegClasses.ClassInfo> lowest = classes.classes().stream()
                .filter(c -> !Double.isNaN(s.iou()[c.contiguousId()]))
                .sorted((x, y) -> Double.compare(s.iou()[x.contiguousId()], s.iou()[y.contiguousId()]))
                .limit(20).toList();
        b.append("## Classes with the lowest IoU\n\n| class | IoU | PQ | segments asked | classified right |\n"
                + "|---|---:|---:|---:|---:|\n");
        for (OvsegClasses.ClassInfo c : lowest.subList(0, Math.min(WORST, lowest.size()))) {
            b.append("| ").append(c.names().getFirst()).append(" | ").append(num(s.iou()[c.contiguousId()]))
                    .append(" | ").append(num(classPq(pr, c))).append(" | ").append(asked[c.contiguousId()])
                    .append(" | ").append(right[c.contiguousId()]).append(" |\n");
        }
        b.append("\n").append(Figures.chart(out, "chart.png", List.of(
                new Figures.Bars("Overall vs the paper", "score", List.of("osprey4j", "paper"),
                        List.of("PQ", "AP", "mIoU"), List.of(List.of(bar(100 * pr.all().pq()), bar(apAll), bar(mIoU)),
                                List.of(paper[0], paper[1], paper[2]))),
                new Figures.Bars("Things vs stuff (x100)", "score", List.of("PQ", "SQ", "RQ"),
                        List.of("all", "things", "stuff"),
                        List.of(List.of(bar(100 * pr.all().pq()), bar(100 * pr.things().pq()),
                                        bar(100 * pr.stuff().pq())),
                                List.of(bar(100 * pr.all().sq()), bar(100 * pr.things().sq()),
                                        bar(100 * pr.stuff().sq())),
                                List.of(bar(100 * pr.all().rq()), bar(100 * pr.things().rq()),
                                        bar(100 * pr.stuff().rq())))),
                new Figures.Bars("Classes with the lowest IoU", "score", List.of("IoU", "PQ"),
                        lowest.stream().map(c -> c.names().getFirst()).toList(),
                        List.of(lowest.stream().map(c -> (Number) bar(s.iou()[c.contiguousId()])).toList(),
                                lowest.stream().map(c -> (Number) bar(classPq(pr, c))).toList())))));
        int segments = summary.path("segments_asked").asInt();
        b.append("## The most wrong segments\n\n").append(misses.size()).append(" of ").append(segments)
                .append(" segments asked got another class than their own");
        if (worst.isEmpty()) {
            b.append(".\n");
        } else {
            b.append("; the ").append(worst.size()).append(" whose true class got the lowest probability "
                    + "(larger segments first on ties):\n\n| segment | true class | predicted | P(true class) | "
                    + "pixels | answer |\n|---|---|---|---:|---:|---|\n");
            for (Miss m : worst) {
                b.append("| `").append(m.id()).append("` | ").append(className(classes, m.truth())).append(" | ")
                        .append(className(classes, m.predicted())).append(" | ")
                        .append(String.format(Locale.ROOT, "%.4f", m.truthProbability())).append(" | ")
                        .append(m.area()).append(" | ").append(Reports.oneLine(m.answer())).append(" |\n");
            }
            b.append("\n### The most wrong segments, drawn\n\n");
            for (Miss m : worst.subList(0, Math.min(WORST_DRAWN, worst.size()))) {
                b.append(drawn(out, m)).append("  \n`").append(m.id()).append("`: true class ")
                        .append(className(classes, m.truth())).append(", predicted ")
                        .append(className(classes, m.predicted())).append(", answered \"")
                        .append(Reports.oneLine(m.answer())).append("\"\n\n");
            }
        }
        b.append("\nEvery answer, with its class scores, is in `samples.jsonl`.\n");
        String md = b.toString();
        Reports.write(out, summary, md);
        return new Result(summary, md, selected.size(), askedNow, resumed);
    }

    /** The segment's image with its mask tinted and outlined, as {@code worst/IMAGE_SLOT.png}. */
    private static String drawn(Path out, Miss m) {
        try {
            long[] pan = readPanoptic(m.image().panoptic());
            int[] size = pngSize(m.image().panoptic());
            Mask mask = Mask.fromPredicate(size[0], size[1], (x, y) -> pan[y * size[0] + x] == m.segment());
            return Figures.worstCase(out, m.id(), m.image().image(), List.of(mask));
        } catch (IOException e) {
            return "(image not drawn: " + e.getMessage() + ")";
        }
    }

    private static String className(OvsegClasses classes, int contiguousId) {
        return classes.classes().get(contiguousId).names().getFirst();
    }

    /** A class's PQ x100 (0 where it has no true or predicted segment, as panopticapi has it; NaN if unlisted). */
    private static double classPq(PanopticQuality.Result pr, OvsegClasses.ClassInfo c) {
        double[] pc = pr.perClass().get(c.datasetId());
        return pc == null ? Double.NaN : 100 * pc[0];
    }

    /** A chart's bar: an undefined figure is drawn as 0 (the tables say n/a). */
    private static double bar(double v) {
        return Double.isNaN(v) ? 0 : v;
    }

    private static String row(String name, double v, double paper) {
        return String.format(Locale.ROOT, "| %s | %s | %.2f |%n", name, num(v), paper);
    }

    /** A figure with two decimals, "n/a" when undefined. */
    static String num(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
    }

    /** One of COCOeval's numbers x100, NaN where COCOeval has -1 (as detectron2 reports it). */
    static double cocoStat(MaskAp.Result ap, int i) {
        return ap.stats()[i] >= 0 ? 100 * ap.stats()[i] : Double.NaN;
    }

    /** COCOeval segm over the evaluated images with the instance JSON's ground truth. */
    private static MaskAp.Result maskAp(Path root, List<Image> selected, List<MaskAp.Detection> detections)
            throws IOException {
        JsonNode json = readJson(root.resolve("ADEChallengeData2016/ade20k_instance_val.json"));
        Set<String> wanted = new TreeSet<>();
        selected.forEach(i -> wanted.add(i.imageId()));
        Map<String, int[]> sizes = new HashMap<>();
        for (JsonNode im : json.path("images")) {
            sizes.put(im.path("id").asText(), new int[] {im.path("height").asInt(), im.path("width").asInt()});
        }
        List<MaskAp.Truth> truths = new ArrayList<>();
        for (JsonNode a : json.path("annotations")) {
            String img = a.path("image_id").asText();
            if (!wanted.contains(img)) {
                continue;
            }
            int[] hw = sizes.get(img);
            if (hw == null) {
                throw new IOException("ade20k_instance_val.json: annotation " + a.path("id") + " is on image " + img
                        + ", which its images do not list");
            }
            Rle m = CocoMasks.toRle(SegmentationJson.read(a.path("segmentation")), hw[0], hw[1]);
            truths.add(new MaskAp.Truth(a.path("id").asLong(), img, a.path("category_id").asInt(), m,
                    a.path("area").asDouble(), a.path("iscrowd").asInt() == 1));
        }
        List<Integer> cats = new ArrayList<>();
        json.path("categories").forEach(c -> cats.add(c.path("id").asInt()));
        cats.sort(null);
        return MaskAp.evaluate(new ArrayList<>(wanted), cats, truths, detections);
    }
}
