package osprey4j.data.datasets;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import osprey4j.data.coco.Segmentation;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A COCO-layout annotation file: COCO instances and captions, LVIS v1, PACO-LVIS, the RefCOCO family as Osprey
 * uses it ({@code finetune_*_with_mask.json}), Visual Genome with masks, Pascal-Part and PartImageNet. The root is
 * an object whose {@code images}, {@code annotations}, {@code categories} and (PACO) {@code attributes} arrays may
 * come in any order; other members ({@code info}, {@code licenses}, ...) are skipped.
 *
 * <p>Memory stays small for any file size. {@link #index} makes one streaming pass that keeps the images,
 * categories and attributes (small) and, per annotation, only where it lies in the file and which image it
 * belongs to (32 bytes). {@link #images()} then groups annotations by image and parses each one on demand
 * with a positioned read of its bytes, so at most one image's annotations are in memory at a time.
 * The file must therefore stay unchanged between {@code index} and the end of the stream.
 */
public final class CocoStyleFile {
    private final Path file;
    private final ReadReport report;
    private final List<CocoImage> images;
    private final Map<Long, CocoCategory> categories;
    private final List<CocoAttribute> attributes;
    // Annotations that passed the first pass, grouped by image: those of image i are
    // order[imageStart[i] .. imageStart[i+1]), in file order; order[] indexes the arrays below.
    private final int[] imageStart;
    private final int[] order;
    private final long[] annOffset;
    private final int[] annLength;
    private final int[] annLine;
    private final int[] annColumn;
    private final int[] annIndex;

    private CocoStyleFile(Path file, ReadReport report, List<CocoImage> images, Map<Long, CocoCategory> categories,
                          List<CocoAttribute> attributes, int[] imageStart, int[] order, AnnotationIndex idx) {
        this.file = file;
        this.report = report;
        this.images = images;
        this.categories = categories;
        this.attributes = attributes;
        this.imageStart = imageStart;
        this.order = order;
        this.annOffset = idx.offset;
        this.annLength = idx.length;
        this.annLine = idx.line;
        this.annColumn = idx.column;
        this.annIndex = idx.index;
    }

    public Path file() {
        return file;
    }

    public ReadReport report() {
        return report;
    }

    /** The images in file order, duplicates (by id) and malformed entries removed. */
    public List<CocoImage> imageList() {
        return images;
    }

    /** Categories by id (empty for files without a {@code categories} array: captions, Visual Genome). */
    public Map<Long, CocoCategory> categories() {
        return categories;
    }

    /** PACO attributes; empty elsewhere. */
    public List<CocoAttribute> attributes() {
        return attributes;
    }

    /** Annotations that passed the first pass (the second may still skip malformed ones). */
    public int annotationCount() {
        return order.length;
    }

    /**
     * Every image with its annotations, images in file order and annotations in file order within an image
     * (as pycocotools' {@code getImgIds}/{@code getAnnIds} give them). Images without annotations are included.
     * Close the stream (try-with-resources) to release the file if it is not consumed to the end.
     */
    public Stream<ImageAnnotations> images() {
        Grouped it = new Grouped();
        return StreamSupport.stream(Spliterators.spliterator(it, images.size(),
                Spliterator.ORDERED | Spliterator.NONNULL | Spliterator.SIZED), false).onClose(it::close);
    }

    /** Reads the file once and returns the index; entry problems go to {@code report}. */
    public static CocoStyleFile index(Path file, ReadReport report) throws IOException {
        List<CocoImage> images = null;
        Map<Long, CocoCategory> categories = new LinkedHashMap<>();
        List<CocoAttribute> attributes = new ArrayList<>();
        AnnotationIndex anns = new AnnotationIndex();
        try (InputStream in = Files.newInputStream(file); JsonParser p = Json.FACTORY.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw Json.topLevel(file, p, "$", "expected a JSON object with 'images' and 'annotations' (COCO layout), found "
                        + Json.describe(p.currentToken()));
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String section = p.currentName();
                p.nextToken();
                switch (section) {
                    case "images" -> images = readImages(file, p, report);
                    case "annotations" -> indexAnnotations(file, p, report, anns);
                    case "categories" -> readCategories(file, p, report, categories);
                    case "attributes" -> readAttributes(file, p, report, attributes);
                    default -> p.skipChildren();
                }
            }
        } catch (JsonProcessingException e) {
            throw Json.syntax(file, 0, e);
        }
        if (images == null) {
            throw new DatasetFormatException(file, 1, 1, "images", "missing: a COCO-layout file needs an 'images' array");
        }
        return group(file, report, images, categories, attributes, anns);
    }

    private static CocoStyleFile group(Path file, ReadReport report, List<CocoImage> images,
                                       Map<Long, CocoCategory> categories, List<CocoAttribute> attributes,
                                       AnnotationIndex anns) {
        Map<Long, Integer> ordinal = HashMap.newHashMap(images.size());
        for (int i = 0; i < images.size(); i++) {
            ordinal.put(images.get(i).id(), i);
        }
        int n = anns.size;
        int[] imageOf = new int[n];
        int[] imageStart = new int[images.size() + 1];
        for (int k = 0; k < n; k++) {
            Integer o = ordinal.get(anns.imageId[k]);
            if (o == null) {
                imageOf[k] = -1;
                report.skip(new ReadReport.Skip(file, anns.line[k], anns.column[k], anns.index[k], "annotations",
                        "image_id", "no image with id " + anns.imageId[k]));
            } else {
                imageOf[k] = o;
                imageStart[o + 1]++;
            }
        }
        for (int i = 0; i < images.size(); i++) {
            imageStart[i + 1] += imageStart[i];
        }
        int[] fill = Arrays.copyOf(imageStart, images.size());
        int[] order = new int[imageStart[images.size()]];
        for (int k = 0; k < n; k++) {   // counting sort: stable, so file order is kept within an image
            if (imageOf[k] >= 0) {
                order[fill[imageOf[k]]++] = k;
            }
        }
        return new CocoStyleFile(file, report, List.copyOf(images), Collections.unmodifiableMap(categories),
                List.copyOf(attributes), imageStart, order, anns);
    }

    // ---- first pass ------------------------------------------------------------------------------------------

    private static void expectArray(Path file, JsonParser p, String section) {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw Json.topLevel(file, p, section, "expected an array, found " + Json.describe(p.currentToken()));
        }
    }

    /** Calls {@code entry} for each object in the array at the parser; non-objects are skipped and counted. */
    private static void forEachObject(Path file, JsonParser p, ReadReport report, String section,
                                      EntryReader entry) throws IOException {
        expectArray(file, p, section);
        long index = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            JsonLocation at = p.currentTokenLocation();
            if (t != JsonToken.START_OBJECT) {
                report.skip(new ReadReport.Skip(file, at.getLineNr(), at.getColumnNr(), index, section, "$",
                        "expected an object, found " + Json.describe(t)));
                Json.finishValue(p);
            } else {
                String problemField = null;
                String problem = null;
                try {
                    entry.read(p, at, index);
                } catch (EntryProblem e) {
                    problemField = e.field;
                    problem = e.getMessage();
                }
                if (problem != null) {
                    report.skip(new ReadReport.Skip(file, at.getLineNr(), at.getColumnNr(), index, section,
                            problemField, problem));
                }
            }
            index++;
        }
    }

    @FunctionalInterface
    private interface EntryReader {
        /** Reads one object entry (the parser is at its START_OBJECT) up to and including its END_OBJECT. */
        void read(JsonParser p, JsonLocation at, long index) throws IOException, EntryProblem;
    }

    private static List<CocoImage> readImages(Path file, JsonParser p, ReadReport report) throws IOException {
        List<CocoImage> images = new ArrayList<>();
        Map<Long, Long> seen = new HashMap<>();
        forEachObject(file, p, report, "images", (q, at, index) -> {
            var b = new Object() {
                Long id;
                String fileName;
                String cocoUrl;
                int width;
                int height;
                String caption;
                long[] neg = new long[0];
                long[] notExhaustive = new long[0];
            };
            Json.fields(q, name -> {
                switch (name) {
                    case "id" -> b.id = Json.integer(q, "id");
                    case "file_name" -> b.fileName = Json.string(q, "file_name");
                    case "coco_url" -> b.cocoUrl = Json.string(q, "coco_url");
                    case "width" -> b.width = Json.positiveInt(q, "width");
                    case "height" -> b.height = Json.positiveInt(q, "height");
                    case "caption" -> b.caption = Json.string(q, "caption");
                    case "neg_category_ids" -> b.neg = Json.longs(q, "neg_category_ids");
                    case "not_exhaustive_category_ids" -> b.notExhaustive = Json.longs(q, "not_exhaustive_category_ids");
                    default -> Json.finishValue(q);
                }
            });
            if (b.id == null) {
                throw new EntryProblem("id", "missing");
            }
            String name = b.fileName;
            if (name == null && b.cocoUrl != null) {   // LVIS v1 names images only through their URL
                name = b.cocoUrl.substring(b.cocoUrl.lastIndexOf('/') + 1);
            }
            if (name == null || name.isEmpty()) {
                throw new EntryProblem("file_name", "missing (and no coco_url to take it from)");
            }
            if (b.width == 0) {
                throw new EntryProblem("width", "missing");
            }
            if (b.height == 0) {
                throw new EntryProblem("height", "missing");
            }
            Long first = seen.putIfAbsent(b.id, index);
            if (first != null) {
                throw new EntryProblem("id", "duplicate image id " + b.id + " (first at images[" + first + "])");
            }
            images.add(new CocoImage(b.id, name, b.width, b.height, b.caption, b.neg, b.notExhaustive, at.getLineNr()));
            report.accept();
        });
        return images;
    }

    private static void indexAnnotations(Path file, JsonParser p, ReadReport report, AnnotationIndex anns)
            throws IOException {
        forEachObject(file, p, report, "annotations", (q, at, index) -> {
            var b = new Object() {
                Long imageId;
            };
            Json.fields(q, name -> {
                if (name.equals("image_id")) {
                    b.imageId = Json.integer(q, "image_id");
                } else {
                    Json.finishValue(q);
                }
            });
            if (b.imageId == null) {
                throw new EntryProblem("image_id", "missing");
            }
            long start = at.getByteOffset();
            long end = q.currentLocation().getByteOffset();
            if (start < 0 || end <= start || end - start > Integer.MAX_VALUE) {
                throw new IllegalStateException("no byte offsets from the JSON parser for " + file);
            }
            anns.add(start, (int) (end - start), b.imageId, at.getLineNr(), at.getColumnNr(), Math.toIntExact(index));
        });
    }

    private static void readCategories(Path file, JsonParser p, ReadReport report, Map<Long, CocoCategory> out)
            throws IOException {
        forEachObject(file, p, report, "categories", (q, at, index) -> {
            var b = new Object() {
                Long id;
                String name;
                String supercategory;
                List<String> synonyms = List.of();
                String frequency;
            };
            Json.fields(q, name -> {
                switch (name) {
                    case "id" -> b.id = Json.integer(q, "id");
                    case "name" -> b.name = Json.string(q, "name");
                    case "supercategory" -> b.supercategory = Json.string(q, "supercategory");
                    case "synonyms" -> b.synonyms = List.copyOf(Json.strings(q, "synonyms"));
                    case "frequency" -> b.frequency = Json.string(q, "frequency");
                    default -> Json.finishValue(q);
                }
            });
            if (b.id == null) {
                throw new EntryProblem("id", "missing");
            }
            if (b.name == null) {
                throw new EntryProblem("name", "missing");
            }
            if (out.putIfAbsent(b.id, new CocoCategory(b.id, b.name, b.supercategory, b.synonyms, b.frequency)) != null) {
                throw new EntryProblem("id", "duplicate category id " + b.id);
            }
        });
    }

    private static void readAttributes(Path file, JsonParser p, ReadReport report, List<CocoAttribute> out)
            throws IOException {
        forEachObject(file, p, report, "attributes", (q, at, index) -> {
            var b = new Object() {
                Long id;
                String name;
                String type;
            };
            Json.fields(q, name -> {
                switch (name) {
                    case "id" -> b.id = Json.integer(q, "id");
                    case "name" -> b.name = Json.string(q, "name");
                    case "type" -> b.type = Json.string(q, "type");
                    default -> Json.finishValue(q);
                }
            });
            if (b.id == null) {
                throw new EntryProblem("id", "missing");
            }
            if (b.name == null) {
                throw new EntryProblem("name", "missing");
            }
            out.add(new CocoAttribute(b.id, b.name, b.type));
        });
    }

    // ---- second pass -----------------------------------------------------------------------------------------

    /** Parses one annotation object (the parser is at its START_OBJECT). */
    static CocoAnnotation parseAnnotation(JsonParser q, long index, long line, Json.DoubleList scratch)
            throws IOException, EntryProblem {
        var b = new Object() {
            long id = -1;
            Long imageId;
            Long categoryId;
            Segmentation segmentation;
            double[] bbox;
            double area = Double.NaN;
            boolean crowd;
            String caption;
            boolean ignore;
            long[] attributeIds = new long[0];
            Long objectAnnotationId;
        };
        Json.fields(q, name -> {
            switch (name) {
                case "id" -> b.id = Json.integer(q, "id");
                case "image_id" -> b.imageId = Json.integer(q, "image_id");
                case "category_id" -> b.categoryId = Json.integer(q, "category_id");
                case "segmentation" -> b.segmentation = Json.segmentation(q, "segmentation", scratch);
                case "bbox" -> {
                    b.bbox = Json.numbers(q, "bbox", scratch);
                    if (b.bbox.length != 4) {
                        throw new EntryProblem("bbox", "expected [x, y, w, h], found " + b.bbox.length + " numbers");
                    }
                }
                case "area" -> b.area = Json.number(q, "area");
                case "iscrowd" -> b.crowd = Json.flag(q, "iscrowd");
                case "caption" -> b.caption = Json.string(q, "caption");
                case "ignore" -> b.ignore = Json.flag(q, "ignore");
                case "attribute_ids" -> b.attributeIds = Json.longs(q, "attribute_ids");
                case "obj_ann_id" -> b.objectAnnotationId = Json.integer(q, "obj_ann_id");
                default -> Json.finishValue(q);
            }
        });
        if (b.imageId == null) {
            throw new EntryProblem("image_id", "missing");
        }
        return new CocoAnnotation(b.id, b.imageId, b.categoryId, b.segmentation, b.bbox, b.area, b.crowd, b.caption,
                b.ignore, b.attributeIds, b.objectAnnotationId, index, line);
    }

    private final class Grouped implements Iterator<ImageAnnotations> {
        private final Json.DoubleList scratch = new Json.DoubleList();
        private FileChannel channel;
        private ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        private int next;

        @Override
        public boolean hasNext() {
            boolean more = next < images.size();
            if (!more) {
                close();
            }
            return more;
        }

        @Override
        public ImageAnnotations next() {
            if (next >= images.size()) {
                throw new NoSuchElementException();
            }
            int i = next++;
            List<CocoAnnotation> anns = new ArrayList<>(imageStart[i + 1] - imageStart[i]);
            for (int j = imageStart[i]; j < imageStart[i + 1]; j++) {
                CocoAnnotation a = read(order[j]);
                if (a != null) {
                    anns.add(a);
                }
            }
            return new ImageAnnotations(images.get(i), anns);
        }

        private CocoAnnotation read(int k) {
            try {
                if (channel == null) {
                    channel = FileChannel.open(file, StandardOpenOption.READ);
                }
                int len = annLength[k];
                if (buffer.capacity() < len) {
                    buffer = ByteBuffer.allocate(Math.max(len, buffer.capacity() * 2));
                }
                buffer.clear().limit(len);
                long pos = annOffset[k];
                while (buffer.hasRemaining()) {
                    if (channel.read(buffer, pos + buffer.position()) < 0) {
                        throw new IOException(file + " is shorter than when it was indexed");
                    }
                }
                try (JsonParser q = Json.FACTORY.createParser(buffer.array(), 0, len)) {
                    q.nextToken();
                    CocoAnnotation a = parseAnnotation(q, annIndex[k], annLine[k], scratch);
                    if (a.categoryId() != null && !categories.isEmpty() && !categories.containsKey(a.categoryId())) {
                        throw new EntryProblem("category_id", "no category with id " + a.categoryId());
                    }
                    report.accept();
                    return a;
                } catch (EntryProblem e) {
                    report.skip(new ReadReport.Skip(file, annLine[k], annColumn[k], annIndex[k], "annotations",
                            e.field, e.getMessage()));
                    return null;
                } catch (JsonProcessingException e) {
                    throw Json.syntax(file, annLine[k] - 1, e);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void close() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } finally {
                    channel = null;
                }
            }
        }
    }

    /** Where each annotation lies in the file; parallel growable arrays (32 bytes an annotation). */
    private static final class AnnotationIndex {
        long[] offset = new long[1024];
        int[] length = new int[1024];
        long[] imageId = new long[1024];
        int[] line = new int[1024];
        int[] column = new int[1024];
        int[] index = new int[1024];
        int size;

        void add(long off, int len, long image, int ln, int col, int idx) {
            if (size == offset.length) {
                int n = size * 2;
                offset = Arrays.copyOf(offset, n);
                length = Arrays.copyOf(length, n);
                imageId = Arrays.copyOf(imageId, n);
                line = Arrays.copyOf(line, n);
                column = Arrays.copyOf(column, n);
                index = Arrays.copyOf(index, n);
            }
            offset[size] = off;
            length[size] = len;
            imageId[size] = image;
            line[size] = ln;
            column[size] = col;
            index[size] = idx;
            size++;
        }
    }
}
