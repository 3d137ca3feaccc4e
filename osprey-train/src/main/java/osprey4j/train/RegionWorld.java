package osprey4j.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.datasets.CocoAnnotation;
import osprey4j.data.datasets.CocoAttribute;
import osprey4j.data.datasets.CocoCategory;
import osprey4j.data.datasets.CocoStyleFile;
import osprey4j.data.datasets.ImageAnnotations;
import osprey4j.data.datasets.ReadReport;

/**
 * The annotated regions of a world as the pretrainings read them ({@link TowerPretraining},
 * {@link MaskShapePretraining}): a PACO-style {@code parts.json} as {@code osprey data world} writes it, each image's
 * objects and parts with their category, part and colour labels.
 */
final class RegionWorld {
    private RegionWorld() {
    }

    /** The label spaces, from the training world's annotation file. */
    record Labels(Map<Long, Integer> category, Map<Long, Integer> part, Map<Long, Integer> colour) {
        static Labels of(CocoStyleFile file) {
            Map<Long, Integer> cat = new LinkedHashMap<>();
            Map<Long, Integer> part = new LinkedHashMap<>();
            for (CocoCategory c : file.categories().values()) {
                (c.name().contains(":") ? part : cat).put(c.id(), (c.name().contains(":") ? part : cat).size());
            }
            Map<Long, Integer> colour = new LinkedHashMap<>();
            for (CocoAttribute a : file.attributes()) {
                if ("color".equals(a.type())) {
                    colour.put(a.id(), colour.size());
                }
            }
            if (cat.isEmpty() || colour.isEmpty()) {
                throw new IllegalArgumentException(file.file() + " has no object categories or no colour attributes "
                        + "(expected a PACO-style parts.json as 'osprey data world' writes)");
            }
            return new Labels(cat, part, colour);
        }
    }

    /**
     * One annotated image, read into pixels and masks only when a step needs it (worlds can be large). Labels are
     * indices into {@link Labels}, -1 where a region has none (a part has no category or colour, an object no part).
     */
    record Source(Path image, int height, int width, List<Segmentation> masks, int[] category, int[] colour,
                  int[] part) {
    }

    /** A world's images with at least one region, and the label spaces they were read with. */
    record World(Labels labels, List<Source> sources) {
    }

    /**
     * Every annotated image of {@code worldDir} ({@code parts.json} and {@code images/}). {@code labels} null takes
     * the label spaces from this world (the training world); a held-out world is read with the training world's,
     * and its regions of a category that world did not have are left out.
     */
    static World read(Path worldDir, Labels labels) throws IOException {
        Path file = worldDir.resolve("parts.json");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(worldDir + " has no parts.json (a world from 'osprey data world')");
        }
        CocoStyleFile coco = CocoStyleFile.index(file, ReadReport.lenient());
        Labels lab = labels == null ? Labels.of(coco) : labels;
        List<Source> out = new ArrayList<>();
        try (Stream<ImageAnnotations> images = coco.images()) {
            for (ImageAnnotations ia : (Iterable<ImageAnnotations>) images::iterator) {
                List<Segmentation> masks = new ArrayList<>();
                List<int[]> labelRows = new ArrayList<>();
                for (CocoAnnotation a : ia.annotations()) {
                    if (a.segmentation() == null || a.categoryId() == null) {
                        continue;
                    }
                    Integer cat = lab.category().get(a.categoryId());
                    Integer part = lab.part().get(a.categoryId());
                    if (cat == null && part == null) {
                        continue;   // a category the training world did not have
                    }
                    int colour = -1;
                    for (long id : a.attributeIds()) {
                        colour = lab.colour().getOrDefault(id, colour);
                    }
                    masks.add(a.segmentation());
                    labelRows.add(new int[] {cat == null ? -1 : cat, cat == null ? -1 : colour, part == null ? -1 : part});
                }
                if (masks.isEmpty()) {
                    continue;
                }
                int n = labelRows.size();
                int[] c = new int[n], col = new int[n], pt = new int[n];
                for (int r = 0; r < n; r++) {
                    c[r] = labelRows.get(r)[0];
                    col[r] = labelRows.get(r)[1];
                    pt[r] = labelRows.get(r)[2];
                }
                out.add(new Source(worldDir.resolve("images").resolve(ia.image().fileName()), ia.image().height(),
                        ia.image().width(), List.copyOf(masks), c, col, pt));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + " has no annotated images");
        }
        return new World(lab, out);
    }
}
