package osprey4j.data.instruct;

import osprey4j.core.mask.Mask;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.datasets.CocoAnnotation;
import osprey4j.data.datasets.CocoAttribute;
import osprey4j.data.datasets.CocoCategory;
import osprey4j.data.datasets.CocoImage;
import osprey4j.data.datasets.CocoStyleFile;
import osprey4j.data.datasets.ImageAnnotations;
import osprey4j.data.datasets.ReadReport;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads the annotation files into {@link Scene}s. The layout is the synthetic world's (and COCO/LVIS/PACO's):
 * an instances file, optionally a PACO-style parts file and a COCO captions file. A part is any annotation with an
 * {@code obj_ann_id}, wherever it appears (PACO keeps objects and parts in one file); it is attached to that object.
 * Crowd regions and regions without a mask are left out: a region in Osprey is a mask.
 */
public final class SceneReader {
    /** The files of one run. {@code parts}, {@code captions} and {@code images} may be {@code null}. */
    public record Inputs(Path instances, Path parts, Path captions, Path images) {
        /** The world layout: {@code DIR/instances.json}, {@code DIR/parts.json}, {@code DIR/captions.json}. */
        public static Inputs directory(Path dir, Path images) {
            Path parts = dir.resolve("parts.json");
            Path captions = dir.resolve("captions.json");
            Path imageDir = images != null ? images : Files.isDirectory(dir.resolve("images")) ? dir.resolve("images") : null;
            return new Inputs(dir.resolve("instances.json"), Files.isRegularFile(parts) ? parts : null,
                    Files.isRegularFile(captions) ? captions : null, imageDir);
        }
    }

    /**
     * The names a scene is written with: category names and attributes by id, gathered from every input file.
     * Serialisable, so that a scene can be built wherever its {@link SceneInput} travels.
     */
    public record Vocabulary(Map<Long, String> categoryNames, Map<Long, CocoAttribute> attributes)
            implements Serializable {
        public Vocabulary {
            categoryNames = new HashMap<>(categoryNames);
            attributes = new HashMap<>(attributes);
        }
    }

    /**
     * One image's share of the input, everything {@link #scene(Vocabulary, SceneInput, Path)} needs: the image,
     * its annotations in file order, the parts of the parts file that belong to its objects (in file order) and
     * its captions. Serialisable, for batch jobs that split the work by image.
     */
    public record SceneInput(CocoImage image, List<CocoAnnotation> annotations, List<CocoAnnotation> parts,
                             List<String> captions) implements Serializable {
        public SceneInput {
            annotations = List.copyOf(annotations);
            parts = List.copyOf(parts);
            captions = List.copyOf(captions);
        }
    }

    private final CocoStyleFile instances;
    private final Map<Long, String> categoryNames = new HashMap<>();
    private final Map<Long, CocoAttribute> attributes = new HashMap<>();
    private final Map<Long, List<CocoAnnotation>> partsByObject = new HashMap<>();
    private final Map<Long, List<String>> captionsByImage = new HashMap<>();
    private final Path images;

    private SceneReader(CocoStyleFile instances, Path images) {
        this.instances = instances;
        this.images = images;
    }

    public static SceneReader open(Inputs in, ReadReport report) throws IOException {
        SceneReader r = new SceneReader(CocoStyleFile.index(in.instances(), report), in.images());
        r.learn(r.instances);
        if (in.parts() != null) {
            CocoStyleFile parts = CocoStyleFile.index(in.parts(), report);
            r.learn(parts);
            try (Stream<ImageAnnotations> s = parts.images()) {
                s.forEach(ia -> ia.annotations().forEach(r::rememberIfPart));
            }
        }
        if (in.captions() != null) {
            CocoStyleFile captions = CocoStyleFile.index(in.captions(), report);
            try (Stream<ImageAnnotations> s = captions.images()) {
                s.forEach(ia -> ia.annotations().stream().filter(a -> a.caption() != null).forEach(a ->
                        r.captionsByImage.computeIfAbsent(a.imageId(), k -> new ArrayList<>()).add(a.caption().strip())));
            }
        }
        return r;
    }

    private void learn(CocoStyleFile f) {
        for (CocoCategory c : f.categories().values()) {
            categoryNames.putIfAbsent(c.id(), c.name());
        }
        for (CocoAttribute a : f.attributes()) {
            attributes.putIfAbsent(a.id(), a);
        }
    }

    private boolean rememberIfPart(CocoAnnotation a) {
        if (a.objectAnnotationId() == null || a.segmentation() == null || a.crowd()) {
            return false;
        }
        partsByObject.computeIfAbsent(a.objectAnnotationId(), k -> new ArrayList<>()).add(a);
        return true;
    }

    /** Every category name, readable form, for negative mining. */
    public List<String> categoryNames() {
        return categoryNames.values().stream().filter(n -> n.indexOf(':') < 0).map(SceneReader::readable)
                .distinct().sorted().toList();
    }

    public int imageCount() {
        return instances.imageList().size();
    }

    /**
     * The scenes in file order. Parts found in the instances file itself are attached too; an image's parts always
     * precede use because the whole image's annotations are read at once.
     */
    public Stream<Scene> scenes() {
        Vocabulary v = new Vocabulary(categoryNames, attributes);
        return sceneInputs().map(in -> scene(v, in, images));
    }

    /** The category names and attributes of every input file (a copy). */
    public Vocabulary vocabulary() {
        return new Vocabulary(categoryNames, attributes);
    }

    /** The image folder colours are measured in, or {@code null}. */
    public Path images() {
        return images;
    }

    /** Each image's share of the input, in file order: what {@link #scenes()} builds its scenes from. */
    public Stream<SceneInput> sceneInputs() {
        return instances.images().map(this::input);
    }

    private SceneInput input(ImageAnnotations ia) {
        List<CocoAnnotation> parts = new ArrayList<>();
        java.util.Set<Long> objectIds = new java.util.HashSet<>();
        for (CocoAnnotation a : ia.annotations()) {
            if (a.objectAnnotationId() == null && objectIds.add(a.id())) {
                parts.addAll(partsByObject.getOrDefault(a.id(), List.of()));
            }
        }
        return new SceneInput(ia.image(), ia.annotations(), parts,
                captionsByImage.getOrDefault(ia.image().id(), List.of()));
    }

    /**
     * The scene of one image, as {@link #scenes()} gives it.
     *
     * @param images the image folder colours are measured in, or {@code null} (a missing image file counts as none)
     */
    public static Scene scene(Vocabulary vocabulary, SceneInput ia, Path images) {
        Map<Long, String> categoryNames = vocabulary.categoryNames();
        Map<Long, CocoAttribute> attributes = vocabulary.attributes();
        Map<Long, List<CocoAnnotation>> partsByObject = new HashMap<>();
        for (CocoAnnotation p : ia.parts()) {
            partsByObject.computeIfAbsent(p.objectAnnotationId(), k -> new ArrayList<>()).add(p);
        }
        int w = ia.image().width();
        int h = ia.image().height();
        List<CocoAnnotation> objects = new ArrayList<>();
        Map<Long, List<CocoAnnotation>> localParts = new HashMap<>();
        for (CocoAnnotation a : ia.annotations()) {
            if (a.segmentation() == null || a.crowd() || a.categoryId() == null) {
                continue;
            }
            if (a.objectAnnotationId() != null) {
                localParts.computeIfAbsent(a.objectAnnotationId(), k -> new ArrayList<>()).add(a);
            } else {
                objects.add(a);
            }
        }
        BufferedImage pixels = loadImage(images, ia.image().fileName());
        List<SceneObject> out = new ArrayList<>(objects.size());
        for (CocoAnnotation a : objects) {
            Mask mask = CocoMasks.decode(a.segmentation(), h, w);
            if (mask.isEmpty()) {
                continue;
            }
            List<Part> parts = new ArrayList<>();
            List<CocoAnnotation> partsOf = new ArrayList<>(localParts.getOrDefault(a.id(), List.of()));
            partsOf.addAll(partsByObject.getOrDefault(a.id(), List.of()));
            for (CocoAnnotation p : partsOf) {
                String name = categoryNames.getOrDefault(p.categoryId(), "part");
                String partName = readable(name.substring(name.indexOf(':') + 1));
                parts.add(new Part(p.id(), partName, otherAttributes(attributes, p), colourAttribute(attributes, p),
                        p.segmentation(),
                        p.bbox() != null ? p.bbox() : CocoMasks.toBbox(p.segmentation(), h, w)));
            }
            double[] centre = centroid(mask);
            String colour = colourAttribute(attributes, a);
            if (colour == null && pixels != null) {
                colour = Colours.nearestName(Colours.meanInside(pixels, mask));
            }
            out.add(new SceneObject(a.id(), readable(categoryNames.getOrDefault(a.categoryId(), "object")),
                    a.categoryId(), a.segmentation(), a.bbox() != null ? a.bbox() : CocoMasks.toBbox(mask),
                    centre[0] / w, centre[1] / h, (double) mask.area() / ((double) w * h), colour,
                    otherAttributes(attributes, a), parts));
        }
        return new Scene(ia.image(), out, ia.captions());
    }

    private static String colourAttribute(Map<Long, CocoAttribute> attributes, CocoAnnotation a) {
        for (long id : a.attributeIds()) {
            CocoAttribute at = attributes.get(id);
            if (at != null && isColour(at)) {
                return readable(at.name());
            }
        }
        return null;
    }

    private static List<Attribute> otherAttributes(Map<Long, CocoAttribute> attributes, CocoAnnotation a) {
        List<Attribute> out = new ArrayList<>();
        for (long id : a.attributeIds()) {
            CocoAttribute at = attributes.get(id);
            if (at != null && !isColour(at)) {
                out.add(new Attribute(readable(at.name()), at.type() == null ? null : at.type().toLowerCase(Locale.ROOT)));
            }
        }
        return out;
    }

    private static boolean isColour(CocoAttribute a) {
        return a.type() != null && a.type().toLowerCase(Locale.ROOT).startsWith("colo");
    }

    private static BufferedImage loadImage(Path images, String fileName) {
        if (images == null) {
            return null;
        }
        Path p = images.resolve(fileName);
        if (!Files.isRegularFile(p)) {
            return null;
        }
        try {
            return ImageIO.read(p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + p + ": " + e.getMessage(), e);
        }
    }

    /** Mean (x, y) of the mask's pixels, in pixel units (pixel centres at +0.5). */
    static double[] centroid(Mask mask) {
        Mask.Box b = mask.bbox();
        double sx = 0, sy = 0;
        long n = 0;
        for (int y = b.y(); y < b.y() + b.height(); y++) {
            for (int x = b.x(); x < b.x() + b.width(); x++) {
                if (mask.get(x, y)) {
                    sx += x + 0.5;
                    sy += y + 0.5;
                    n++;
                }
            }
        }
        return new double[]{sx / n, sy / n};
    }

    /**
     * A category name as prose: LVIS's underscores become spaces and its disambiguating suffix is dropped
     * ({@code "bow_(weapon)"} is a bow).
     */
    static String readable(String name) {
        String s = name.replace('_', ' ');
        int paren = s.indexOf(" (");
        if (paren > 0) {
            s = s.substring(0, paren);
        }
        return s.strip();
    }
}
