package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Rle;
import osprey4j.eval.metrics.OvsegClasses;

/**
 * A tiny dataset in the layouts {@code osprey eval ovseg} reads (two 32&times;24 images per dataset, a few stuff and
 * thing segments, void pixels), for trying the command and testing it. Not a quality benchmark.
 */
public final class OvsegSampleData {
    /** One segment of a sample image: a rectangle of one class (contiguous id) with its panoptic id. */
    public record Segment(long id, int classId, int x0, int y0, int x1, int y1) {
    }

    public static final int WIDTH = 32;
    public static final int HEIGHT = 24;

    private OvsegSampleData() {
    }

    /** The images' segments per dataset: stuff, things, and a void strip left uncovered. */
    public static Map<String, List<Segment>> segments(String dataset) {
        Map<String, List<Segment>> m = new LinkedHashMap<>();
        if (dataset.equals("ade")) {
            // wall 0, floor 3, bed 7 (thing), sky 2, person 12 (thing)
            m.put("ADE_val_00000001", List.of(new Segment(5, 0, 0, 0, 32, 12), new Segment(9, 3, 0, 12, 16, 24),
                    new Segment(301, 7, 16, 12, 28, 24)));
            m.put("ADE_val_00000002", List.of(new Segment(4, 2, 0, 0, 32, 10), new Segment(1201, 12, 2, 10, 10, 24),
                    new Segment(1202, 12, 12, 10, 20, 24), new Segment(7, 0, 20, 10, 32, 24)));
        } else {
            // road 0, sky 10, person 11, car 13 (trainIds); things of at least 100 pixels, as Cityscapes' AP counts
            m.put("frankfurt_000000_000001", List.of(new Segment(10000, 10, 0, 0, 32, 6),
                    new Segment(26001, 13, 0, 6, 12, 16), new Segment(24001, 11, 14, 6, 24, 16),
                    new Segment(7000, 0, 0, 16, 32, 24)));
            m.put("lindau_000000_000002", List.of(new Segment(7000, 0, 0, 12, 32, 24),
                    new Segment(24001, 11, 2, 0, 12, 12), new Segment(24002, 11, 14, 0, 24, 12)));
        }
        return m;
    }

    /** Writes the dataset under {@code root} (ADEChallengeData2016/ or cityscapes/). */
    public static void write(Path root, String dataset) throws IOException {
        OvsegClasses classes = OvsegClasses.of(dataset);
        Map<String, List<Segment>> images = segments(dataset);
        ObjectNode pan = Reports.JSON.createObjectNode();
        ArrayNode panImages = pan.putArray("images");
        ArrayNode panAnns = pan.putArray("annotations");
        ArrayNode cats = pan.putArray("categories");
        for (OvsegClasses.ClassInfo c : classes.classes()) {
            ObjectNode o = cats.addObject();
            o.put("id", c.datasetId());
            o.put("name", c.names().getFirst());
            o.put("isthing", c.isThing() ? 1 : 0);
        }
        ObjectNode inst = Reports.JSON.createObjectNode();
        ArrayNode instImages = inst.putArray("images");
        ArrayNode instAnns = inst.putArray("annotations");
        ArrayNode instCats = inst.putArray("categories");
        for (OvsegClasses.ClassInfo c : classes.classes()) {
            if (c.isThing()) {
                instCats.addObject().put("id", c.datasetId()).put("name", c.names().getFirst());
            }
        }
        boolean ade = dataset.equals("ade");
        Path base = root.resolve(ade ? "ADEChallengeData2016" : "cityscapes");
        int n = 0;
        for (Map.Entry<String, List<Segment>> e : images.entrySet()) {
            String id = e.getKey();
            long[] ids = new long[WIDTH * HEIGHT];
            int[] labels = new int[WIDTH * HEIGHT];
            java.util.Arrays.fill(labels, 255);
            int[] labelIds = new int[WIDTH * HEIGHT]; // Cityscapes: 0 (unlabeled) where void
            int[] instanceIds = new int[WIDTH * HEIGHT];
            ArrayNode segs = Reports.JSON.createArrayNode();
            for (Segment s : e.getValue()) {
                for (int y = s.y0(); y < s.y1(); y++) {
                    for (int x = s.x0(); x < s.x1(); x++) {
                        ids[y * WIDTH + x] = s.id();
                        labels[y * WIDTH + x] = s.classId();
                        int labelId = classes.datasetId(s.classId());
                        labelIds[y * WIDTH + x] = labelId;
                        instanceIds[y * WIDTH + x] = classes.classes().get(s.classId()).isThing() ? (int) s.id()
                                : labelId;
                    }
                }
                long area = (long) (s.x1() - s.x0()) * (s.y1() - s.y0());
                segs.addObject().put("id", s.id()).put("category_id", classes.datasetId(s.classId()))
                        .put("iscrowd", 0).put("area", area);
                if (classes.classes().get(s.classId()).isThing()) {
                    Mask m = Mask.fromPredicate(WIDTH, HEIGHT, (x, y) -> x >= s.x0() && x < s.x1() && y >= s.y0()
                            && y < s.y1());
                    ObjectNode a = instAnns.addObject();
                    a.put("id", instAnns.size());
                    a.put("image_id", id);
                    a.put("category_id", classes.datasetId(s.classId()));
                    a.put("iscrowd", 0);
                    a.put("area", area);
                    a.putObject("segmentation").put("counts", Rle.encode(m).toCompressedString())
                            .putArray("size").add(HEIGHT).add(WIDTH);
                }
            }
            String panName;
            Path image;
            Path semantic;
            if (ade) {
                panName = id + ".png";
                image = base.resolve("images/validation/" + id + ".jpg");
                semantic = base.resolve("annotations_detectron2/validation/" + panName);
            } else {
                String city = id.substring(0, id.indexOf('_'));
                panName = id + "_gtFine_panoptic.png";
                image = base.resolve("leftImg8bit/val/" + city + "/" + id + "_leftImg8bit.png");
                semantic = base.resolve("gtFine/val/" + city + "/" + id + "_gtFine_labelTrainIds.png");
            }
            writeImage(image, n++);
            writePanoptic(base.resolve((ade ? "ade20k_panoptic_val/" : "gtFine/cityscapes_panoptic_val/") + panName),
                    ids);
            writeLabels(semantic, labels);
            if (!ade) {
                Path dir = semantic.getParent();
                writeLabels(dir.resolve(id + "_gtFine_labelIds.png"), labelIds);
                writeInstanceIds(dir.resolve(id + "_gtFine_instanceIds.png"), instanceIds);
            }
            panImages.addObject().put("id", id).put("file_name", panName).put("height", HEIGHT).put("width", WIDTH);
            ObjectNode ann = panAnns.addObject();
            ann.put("image_id", id);
            ann.put("file_name", panName);
            ann.set("segments_info", segs);
            instImages.addObject().put("id", id).put("file_name", id + ".jpg").put("height", HEIGHT)
                    .put("width", WIDTH);
        }
        Path panJson = base.resolve(ade ? "ade20k_panoptic_val.json" : "gtFine/cityscapes_panoptic_val.json");
        Files.createDirectories(panJson.getParent());
        Files.writeString(panJson, Reports.JSON.writeValueAsString(pan));
        if (ade) {
            Files.writeString(base.resolve("ade20k_instance_val.json"), Reports.JSON.writeValueAsString(inst));
        }
    }

    /** The class of each segment, by panoptic id, for one image. */
    public static Map<Long, Integer> classOfSegment(String dataset, String imageId) {
        Map<Long, Integer> m = new LinkedHashMap<>();
        for (Segment s : segments(dataset).get(imageId)) {
            m.put(s.id(), s.classId());
        }
        return m;
    }

    private static void writeImage(Path f, int seed) throws IOException {
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                img.setRGB(x, y, (x * 7 + seed * 50) % 256 << 16 | (y * 10) % 256 << 8 | 120);
            }
        }
        Files.createDirectories(f.getParent());
        ImageIO.write(img, f.toString().endsWith(".jpg") ? "jpg" : "png", f.toFile());
    }

    private static void writePanoptic(Path f, long[] ids) throws IOException {
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_3BYTE_BGR);
        var r = img.getRaster();
        for (int i = 0; i < ids.length; i++) {
            long id = ids[i];
            r.setPixel(i % WIDTH, i / WIDTH, new int[] {(int) (id % 256), (int) (id / 256 % 256),
                    (int) (id / 65536 % 256)});
        }
        Files.createDirectories(f.getParent());
        ImageIO.write(img, "png", f.toFile());
    }

    private static void writeInstanceIds(Path f, int[] ids) throws IOException {
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_USHORT_GRAY);
        var r = img.getRaster();
        for (int i = 0; i < ids.length; i++) {
            r.setSample(i % WIDTH, i / WIDTH, 0, ids[i]);
        }
        Files.createDirectories(f.getParent());
        ImageIO.write(img, "png", f.toFile());
    }

    private static void writeLabels(Path f, int[] labels) throws IOException {
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_BYTE_GRAY);
        var r = img.getRaster();
        for (int i = 0; i < labels.length; i++) {
            r.setSample(i % WIDTH, i / WIDTH, 0, labels[i]);
        }
        Files.createDirectories(f.getParent());
        ImageIO.write(img, "png", f.toFile());
    }
}
