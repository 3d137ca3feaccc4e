package osprey4j.data.world;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.io.FileTrees;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Rle;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.Segmentation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Generates the synthetic world: procedurally drawn scenes with exact instance and part masks, attributes and
 * captions, written as a COCO-style dataset.
 *
 * <p><b>Output layout</b> of {@code osprey data world --out DIR}:
 * <pre>
 * DIR/images/000001.png ...  RGB PNGs, one per image (file names are the 1-based image id, 6+ digits)
 * DIR/instances.json         COCO instances: images, annotations (compressed-RLE segmentation, area, bbox,
 *                            iscrowd 0, category_id, and PACO-style attribute_ids), categories (id, name,
 *                            supercategory), attributes (the same list as in parts.json)
 * DIR/parts.json             PACO-LVIS style: the same images; categories are the object categories (same ids)
 *                            followed by part categories named "object:part"; annotations are the objects (same
 *                            ids as in instances.json) and their visible parts, each part with obj_ann_id naming
 *                            its object; every annotation has attribute_ids into the top-level "attributes"
 *                            (color, pattern_marking, size, shading)
 * DIR/captions.json          COCO captions: images and annotations {id, image_id, caption}, 3-5 per image
 * </pre>
 * Ids: image i (1-based) has objects {@code i*1000 + 1..}, parts {@code i*1000 + 100..} and captions
 * {@code i*1000 + 900..}. Only visible pixels are annotated: an object's mask is the union of its parts' masks,
 * and no two object masks overlap.
 *
 * <p><b>Determinism.</b> Image i is drawn from a random stream seeded by (seed, i) alone, so images can be made in
 * any order on any number of threads and the output is byte-identical for the same seed and size.
 */
public final class SyntheticWorld {
    /** Where generated annotation ids start within an image's id block. */
    private static final int PART_ID_OFFSET = 100;
    private static final int CAPTION_ID_OFFSET = 900;
    private static final JsonFactory JSON = new JsonFactory();
    /** Images drawn before their annotations are written out; bounds memory on large runs. */
    private static final int BATCH = 256;

    private SyntheticWorld() {
    }

    /**
     * @param threads how many workers draw images (1 for sequential); output does not depend on it
     */
    public record Options(int images, long seed, int width, int height, int threads) {
        public Options {
            if (images < 1 || images > 999_999) {
                throw new IllegalArgumentException("the number of images must be between 1 and 999999, got " + images);
            }
            if (width < 32 || height < 32 || width > 4096 || height > 4096) {
                throw new IllegalArgumentException("image size must be between 32 and 4096 pixels a side, got "
                        + width + "x" + height);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            }
        }

        /** Objects whose visible area is below this many pixels are dropped (0.04% of the image, at least 24). */
        long minVisiblePixels() {
            return Math.max(24, (long) width * height / 2500);
        }
    }

    /** Called after each image; {@code done} counts finished images (called from worker threads). */
    @FunctionalInterface
    public interface Progress {
        void imageDone(int done, int total);
    }

    public record Summary(int images, long objects, long parts, long captions) {
    }

    /** One annotated region as written: object or part. */
    private record Region(long id, int categoryId, Segmentation.CompressedRle rle, long area, double[] bbox,
                          int[] attributeIds, long objectId) {
    }

    /** What one image contributes to the JSON files. */
    private record ImageResult(List<Region> objects, List<Region> parts, List<String> captions) {
    }

    /**
     * Generates {@code options.images()} images into {@code out}, which must not exist or be empty. Everything is
     * written to a temporary sibling directory first and moved into place at the end, so a failure leaves no
     * half-written dataset.
     *
     * @throws IllegalArgumentException if {@code out} is a file or a non-empty directory
     * @throws IOException if the output cannot be written
     */
    public static Summary generate(Options options, Path out, Progress progress) throws IOException {
        return generate(options, out, progress, BATCH);
    }

    /** As {@link #generate(Options, Path, Progress)}, drawing {@code batch} images between writes. */
    static Summary generate(Options options, Path out, Progress progress, int batch) throws IOException {
        Path target = out.toAbsolutePath().normalize();
        if (Files.exists(target)) {
            if (!Files.isDirectory(target)) {
                throw new IllegalArgumentException("output " + out + " exists and is not a directory");
            }
            try (Stream<Path> entries = Files.list(target)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException("output directory " + out + " is not empty");
                }
            }
        }
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path work = workDirectory(target);
        try {
            Summary summary = generateInto(options, work, progress, batch);
            Files.deleteIfExists(target);
            Files.move(work, target, StandardCopyOption.ATOMIC_MOVE);
            return summary;
        } finally {
            if (Files.exists(work)) {
                FileTrees.delete(work);
            }
        }
    }

    /** A fresh sibling of the target (created with the usual permissions, unlike a temporary directory). */
    private static Path workDirectory(Path target) throws IOException {
        String base = target.getFileName() + ".partial-" + ProcessHandle.current().pid() + "-";
        for (int i = 0; ; i++) {
            try {
                return Files.createDirectory(target.resolveSibling(base + i));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // another run of this process got there first; try the next name
            }
        }
    }

    /**
     * Draws the images in batches of {@code batch} and appends each batch's annotations to the three JSON files in
     * image order, so memory stays bounded however many images are asked for.
     */
    private static Summary generateInto(Options options, Path dir, Progress progress, int batch)
            throws IOException {
        Path images = Files.createDirectories(dir.resolve("images"));
        int n = options.images();
        AtomicInteger done = new AtomicInteger();
        long objects = 0, parts = 0, captions = 0;
        try (JsonGenerator inst = openJson(dir.resolve("instances.json"));
             JsonGenerator part = openJson(dir.resolve("parts.json"));
             JsonGenerator caps = openJson(dir.resolve("captions.json"))) {
            startFile(inst, options, "object instances");
            startFile(part, options, "objects and parts with attributes (PACO-LVIS layout)");
            startFile(caps, options, "captions");
            for (int from = 0; from < n; from += batch) {
                ImageResult[] drawn = drawBatch(options, from, Math.min(n, from + batch), images, progress, done);
                for (int b = 0; b < drawn.length; b++) {
                    ImageResult r = drawn[b];
                    long imageId = from + b + 1L;
                    for (Region o : r.objects) {
                        writeRegion(inst, imageId, o);
                        writeRegion(part, imageId, o);
                    }
                    for (Region p : r.parts) {
                        writeRegion(part, imageId, p);
                    }
                    writeCaptions(caps, imageId, r.captions);
                    objects += r.objects.size();
                    parts += r.parts.size();
                    captions += r.captions.size();
                }
            }
            finishInstances(inst);
            finishParts(part);
            finishCaptions(caps);
        }
        return new Summary(n, objects, parts, captions);
    }

    /** Draws images [from, to) on up to {@code options.threads()} workers; results are indexed from {@code from}. */
    private static ImageResult[] drawBatch(Options options, int from, int to, Path images, Progress progress,
                                           AtomicInteger done) {
        ImageResult[] results = new ImageResult[to - from];
        AtomicInteger next = new AtomicInteger(from);
        int total = options.images();
        // Workers pull image indices from a shared counter: balanced, and each image depends only on its index.
        ComputePool.parallelFor(Math.min(options.threads(), to - from), 1, (a, b) -> {
            for (int i; (i = next.getAndIncrement()) < to; ) {
                try {
                    results[i - from] = drawImage(options, i, images);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                if (progress != null) {
                    progress.imageDone(done.incrementAndGet(), total);
                }
            }
        });
        return results;
    }

    /** The random stream of image {@code index}: a function of (seed, index) only. */
    static SplittableRandom randomFor(long seed, int index) {
        return new SplittableRandom(mix(mix(seed) ^ (index + 1) * 0x9E3779B97F4A7C15L));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Samples scenes until one keeps at least two visible objects; the result holds only visible objects. */
    static Scene visibleScene(Options options, SplittableRandom rng) {
        SceneSampler sampler = new SceneSampler(options.width(), options.height());
        for (int attempt = 0; attempt < 100; attempt++) {
            Scene scene = Rasterizer.dropHidden(sampler.sample(rng, 2, 10), options.minVisiblePixels());
            if (scene.objects().size() >= 2) {
                return scene;
            }
        }
        throw new IllegalStateException("could not place two visible objects in a " + options.width() + "x"
                + options.height() + " image");
    }

    /** Renders image {@code index} of a run: its scene comes from the stream {@link #randomFor}(seed, index). */
    static Rasterizer.Rendering render(Options options, int index) {
        return Rasterizer.render(visibleScene(options, randomFor(options.seed(), index)));
    }

    private static ImageResult drawImage(Options options, int index, Path images) throws IOException {
        // One stream per image: the scene first, then the captions, so the image depends on (seed, index) alone.
        SplittableRandom rng = randomFor(options.seed(), index);
        Rasterizer.Rendering r = Rasterizer.render(visibleScene(options, rng));
        Files.write(images.resolve(fileName(index)), PngEncoder.encode(r.rgb(), r.width(), r.height()));

        long base = (index + 1L) * 1000;
        List<Region> objects = new ArrayList<>();
        List<Region> parts = new ArrayList<>();
        for (Rasterizer.VisibleObject o : r.objects()) {
            WorldObject w = o.object();
            long objectId = base + objects.size() + 1;
            int[] attrs = {Attributes.colour(w.colour()), Attributes.pattern(w.pattern()), Attributes.size(w.size()),
                    Attributes.shading(w.shaded())};
            objects.add(region(objectId, w.category().id(), o.mask(), o.rle(), attrs, -1));
            for (Rasterizer.VisiblePart p : o.parts()) {
                Paint paint = p.part().paint();
                int[] partAttrs = {Attributes.colour(paint.colour()), Attributes.pattern(paint.pattern()),
                        Attributes.shading(paint.shaded())};
                parts.add(region(base + PART_ID_OFFSET + parts.size(), partCategoryId(w.category(), p.part().name()),
                        p.mask(), p.rle(), partAttrs, objectId));
            }
        }
        return new ImageResult(objects, parts, Captioner.captions(r, rng));
    }

    private static Region region(long id, int categoryId, Mask mask, Rle rle, int[] attributeIds, long objectId) {
        return new Region(id, categoryId, CocoMasks.compressed(rle), mask.area(), mask.bbox().toXywh(), attributeIds,
                objectId);
    }

    static String fileName(int index) {
        return String.format("%06d.png", index + 1);
    }

    // ---- categories ----------------------------------------------------------------------------------------

    /** Part category ids follow the object categories, in catalogue order. */
    static int partCategoryId(Category category, String part) {
        int id = Catalog.CATEGORIES.size();
        for (Category c : Catalog.CATEGORIES) {
            for (String p : c.parts()) {
                id++;
                if (c == category && p.equals(part)) {
                    return id;
                }
            }
        }
        throw new IllegalArgumentException("no part '" + part + "' in category " + category.name());
    }

    // ---- JSON -------------------------------------------------------------------------------------------------

    private static JsonGenerator openJson(Path file) throws IOException {
        JsonGenerator g = JSON.createGenerator(new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 16),
                JsonEncoding.UTF8);
        g.setPrettyPrinter(new EntryPerLine());
        return g;
    }

    /** The root object's {@code info} and {@code images}, then opens {@code annotations}. */
    private static void startFile(JsonGenerator g, Options o, String what) throws IOException {
        g.writeStartObject();
        writeInfo(g, o, what);
        writeImages(g, o);
        g.writeArrayFieldStart("annotations");
    }

    private static void finishInstances(JsonGenerator g) throws IOException {
        g.writeEndArray();
        g.writeArrayFieldStart("categories");
        for (Category c : Catalog.CATEGORIES) {
            writeCategory(g, c.id(), c.name(), c.supercategory());
        }
        g.writeEndArray();
        writeAttributes(g);
        endFile(g);
    }

    private static void finishParts(JsonGenerator g) throws IOException {
        g.writeEndArray();
        g.writeArrayFieldStart("categories");
        for (Category c : Catalog.CATEGORIES) {
            writeCategory(g, c.id(), c.name(), c.supercategory());
        }
        for (Category c : Catalog.CATEGORIES) {
            for (String p : c.parts()) {
                writeCategory(g, partCategoryId(c, p), c.partCategory(p), c.name());
            }
        }
        g.writeEndArray();
        writeAttributes(g);
        endFile(g);
    }

    private static void finishCaptions(JsonGenerator g) throws IOException {
        g.writeEndArray();
        endFile(g);
    }

    private static void endFile(JsonGenerator g) throws IOException {
        g.writeEndObject();
        g.writeRaw('\n');
    }

    private static void writeInfo(JsonGenerator g, Options o, String what) throws IOException {
        g.writeObjectFieldStart("info");
        g.writeStringField("description", "osprey4j synthetic world: " + what);
        g.writeStringField("version", "1");
        g.writeNumberField("seed", o.seed());
        g.writeNumberField("images", o.images());
        g.writeNumberField("width", o.width());
        g.writeNumberField("height", o.height());
        g.writeEndObject();
    }

    private static void writeImages(JsonGenerator g, Options o) throws IOException {
        g.writeArrayFieldStart("images");
        for (int i = 0; i < o.images(); i++) {
            g.writeStartObject();
            g.writeNumberField("id", i + 1);
            g.writeStringField("file_name", fileName(i));
            g.writeNumberField("width", o.width());
            g.writeNumberField("height", o.height());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void writeRegion(JsonGenerator g, long imageId, Region r) throws IOException {
        g.writeStartObject();
        g.writeNumberField("id", r.id);
        g.writeNumberField("image_id", imageId);
        g.writeNumberField("category_id", r.categoryId);
        g.writeObjectFieldStart("segmentation");
        g.writeArrayFieldStart("size");
        g.writeNumber(r.rle.height());
        g.writeNumber(r.rle.width());
        g.writeEndArray();
        g.writeStringField("counts", r.rle.counts());
        g.writeEndObject();
        g.writeNumberField("area", r.area);
        g.writeArrayFieldStart("bbox");
        for (double v : r.bbox) {
            g.writeNumber((long) v);
        }
        g.writeEndArray();
        g.writeNumberField("iscrowd", 0);
        if (r.objectId >= 0) {
            g.writeNumberField("obj_ann_id", r.objectId);
        }
        g.writeArrayFieldStart("attribute_ids");
        for (int a : r.attributeIds) {
            g.writeNumber(a);
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void writeCaptions(JsonGenerator g, long imageId, List<String> captions) throws IOException {
        long base = imageId * 1000 + CAPTION_ID_OFFSET;
        for (int c = 0; c < captions.size(); c++) {
            g.writeStartObject();
            g.writeNumberField("id", base + c);
            g.writeNumberField("image_id", imageId);
            g.writeStringField("caption", captions.get(c));
            g.writeEndObject();
        }
    }

    private static void writeAttributes(JsonGenerator g) throws IOException {
        g.writeArrayFieldStart("attributes");
        for (Attributes.Attribute a : Attributes.ALL) {
            g.writeStartObject();
            g.writeNumberField("id", a.id());
            g.writeStringField("name", a.name());
            g.writeStringField("type", a.type());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void writeCategory(JsonGenerator g, int id, String name, String supercategory) throws IOException {
        g.writeStartObject();
        g.writeNumberField("id", id);
        g.writeStringField("name", name);
        g.writeStringField("supercategory", supercategory);
        g.writeEndObject();
    }

    /** Compact JSON with one entry of each top-level array per line: readable, diffable, still small. */
    private static final class EntryPerLine extends MinimalPrettyPrinter {
        private static boolean topLevelArray(JsonGenerator g) {
            JsonStreamContext c = g.getOutputContext();
            return c.inArray() && c.getParent() != null && c.getParent().getParent() != null
                    && c.getParent().getParent().inRoot();
        }

        @Override
        public void beforeArrayValues(JsonGenerator g) throws IOException {
            if (topLevelArray(g)) {
                g.writeRaw('\n');
            }
        }

        @Override
        public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(topLevelArray(g) ? ",\n" : ",");
        }
    }
}
