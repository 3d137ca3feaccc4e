package osprey4j.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import osprey4j.core.mask.Mask;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.model.GenerationOptions;
import osprey4j.model.image.RgbImage;
import osprey4j.model.sam.AutomaticMaskGenerator;
import osprey4j.service.DescribeRequest;
import osprey4j.service.DescribeResult;
import osprey4j.service.GeneratedMask;
import osprey4j.service.InvalidRequestException;
import osprey4j.service.OspreyService;
import osprey4j.service.RegionDescription;
import osprey4j.service.SegmentService;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * {@code osprey spark describe}: every region of every image of a COCO-style annotation file described, as
 * {@code osprey describe --masks} describes one image's regions, split by image across Spark's executors. Each
 * executor loads the model once; each image is read and encoded once for all its regions.
 *
 * <p>With a SAM checkpoint instead of annotations ({@code --everything --sam CKPT}), every image of the folder is
 * described as {@code osprey describe --everything} describes one: its regions are SAM's automatic masks, made on
 * the executor (SAM loaded once per executor JVM), numbered 1..N in the generator's order. The images are the
 * folder's image files (png, jpg, jpeg, bmp, gif, webp, tif, tiff; subfolders included), sorted by their path
 * relative to it, which is their {@code image}; their {@code image_id} is their 1-based place in that order.
 *
 * <p>Output: one row per region, the fields of {@code osprey describe}'s JSON lines after the image's id and file
 * name: {@code image_id, image, id, bbox, area, question, answer, tokens, prompt_tokens}.
 */
public final class DescribeJob {
    /** The output's columns. */
    public static final StructType SCHEMA = new StructType(new StructField[] {
            DataTypes.createStructField("image_id", DataTypes.LongType, false),
            DataTypes.createStructField("image", DataTypes.StringType, false),
            DataTypes.createStructField("id", DataTypes.LongType, false),
            DataTypes.createStructField("bbox", DataTypes.createArrayType(DataTypes.DoubleType, false), false),
            DataTypes.createStructField("area", DataTypes.LongType, false),
            DataTypes.createStructField("question", DataTypes.StringType, false),
            DataTypes.createStructField("answer", DataTypes.StringType, false),
            DataTypes.createStructField("tokens", DataTypes.createArrayType(DataTypes.IntegerType, false), false),
            DataTypes.createStructField("prompt_tokens", DataTypes.IntegerType, false)});

    private DescribeJob() {
    }

    /**
     * What to describe and how.
     *
     * @param model       the model directory (every executor must be able to read it)
     * @param images      the image folder
     * @param annotations the COCO-style annotation file (null with {@code sam})
     * @param out         the output directory (must not exist)
     * @param partitions  tasks (0: four per core)
     * @param sam         the SAM checkpoint whose automatic masks are every image's regions (null: the annotations')
     * @param amg         the automatic mask generator's options (with {@code sam}; null for its defaults)
     */
    public record Options(Path model, Path images, Path annotations, String out, OutputFormat format,
                          DescribeRequest.Detail detail, GenerationOptions generation, int partitions, Path sam,
                          AutomaticMaskGenerator.Options amg) {
        /** Regions from the annotation file. */
        public Options(Path model, Path images, Path annotations, String out, OutputFormat format,
                       DescribeRequest.Detail detail, GenerationOptions generation, int partitions) {
            this(model, images, annotations, out, format, detail, generation, partitions, null, null);
        }

        /** Regions from SAM's automatic masks for every image of the folder. */
        public static Options everything(Path model, Path images, Path sam, AutomaticMaskGenerator.Options amg,
                                         String out, OutputFormat format, DescribeRequest.Detail detail,
                                         GenerationOptions generation, int partitions) {
            return new Options(model, images, null, out, format, detail, generation, partitions, sam, amg);
        }
    }

    /** The automatic mask generator's options as they travel to executors. */
    record Segmenting(String sam, int pointsPerSide, int pointsPerBatch, double predIouThresh,
                      double stabilityScoreThresh, double stabilityScoreOffset, double boxNmsThresh, int cropNLayers,
                      double cropNmsThresh, double cropOverlapRatio, int cropNPointsDownscaleFactor,
                      int minMaskRegionArea) implements Serializable {
        static Segmenting of(String sam, AutomaticMaskGenerator.Options o) {
            return new Segmenting(sam, o.pointsPerSide(), o.pointsPerBatch(), o.predIouThresh(),
                    o.stabilityScoreThresh(), o.stabilityScoreOffset(), o.boxNmsThresh(), o.cropNLayers(),
                    o.cropNmsThresh(), o.cropOverlapRatio(), o.cropNPointsDownscaleFactor(), o.minMaskRegionArea());
        }

        AutomaticMaskGenerator.Options options() {
            return new AutomaticMaskGenerator.Options(pointsPerSide, pointsPerBatch, predIouThresh,
                    stabilityScoreThresh, stabilityScoreOffset, boxNmsThresh, cropNLayers, cropNmsThresh,
                    cropOverlapRatio, cropNPointsDownscaleFactor, minMaskRegionArea);
        }
    }

    /** The generation options as they travel to executors. */
    record Decoding(boolean greedy, float temperature, float topP, int topK, long seed, int maxNewTokens)
            implements Serializable {
        static Decoding of(GenerationOptions g) {
            return new Decoding(g.greedy(), g.temperature(), g.topP(), g.topK(), g.seed(), g.maxNewTokens());
        }

        GenerationOptions options() {
            return new GenerationOptions(greedy, temperature, topP, topK, seed, maxNewTokens);
        }
    }

    /** One image's describe, run on an executor ({@code segmenting}: regions from SAM; null: the input's). */
    record Work(String model, DescribeRequest.Detail detail, Decoding decoding, Segmenting segmenting)
            implements BatchJob.ImageWork<ImageInput> {
        Work(String model, DescribeRequest.Detail detail, Decoding decoding) {
            this(model, detail, decoding, null);
        }

        @Override
        public List<Row> rows(ImageInput input, JobCounters counters) {
            RgbImage image = readImage(input, counters);
            if (image == null) {
                return List.of();
            }
            List<DescribeRequest.Region> regions;
            if (segmenting != null) {
                regions = samRegions(image, segmenting);
                if (regions.isEmpty()) {
                    counters.skip("SAM found no masks", input.fileName());
                    return List.of();
                }
            } else {
                regions = decodeRegions(input, image, counters);
                if (regions.isEmpty()) {
                    counters.skip("image without valid regions", input.fileName());
                    return List.of();
                }
            }
            OspreyService service = ExecutorModels.service(model, BatchJob.executorThreads());
            DescribeRequest request = new DescribeRequest(input.path(), regions, detail, decoding.options());
            DescribeResult result;
            try {
                result = service.describe(image, request, null, null);
            } catch (InvalidRequestException e) {
                counters.skip("refused by the model", input.fileName() + ": " + e.getMessage());
                return List.of();
            }
            List<Row> rows = new ArrayList<>(result.regions().size());
            for (RegionDescription d : result.regions()) {
                rows.add(RowFactory.create(input.imageId(), input.fileName(), d.id(), d.bbox(), d.area(), d.question(),
                        d.answer(), d.tokens(), d.promptTokens()));
                counters.region(d.tokens().length);
            }
            counters.image();
            return rows;
        }
    }

    /** Checks the input, reads the annotations, starts Spark, runs the job and stops Spark. */
    public static BatchJob.Result run(Options o, SparkSetup setup, PrintStream progress) {
        Inputs in = prepare(o);
        SparkSession spark = setup.start();
        try {
            return run(spark, o, in, progress);
        } finally {
            spark.stop();
        }
    }

    /** The job on a running session (the input is checked and read first). */
    public static BatchJob.Result run(SparkSession spark, Options o, PrintStream progress) {
        return run(spark, o, prepare(o), progress);
    }

    /** The driver's reading of the input. */
    record Inputs(List<ImageInput> images, List<String[]> skipped) {
    }

    static Inputs prepare(Options o) {
        checkModel(o.model());
        checkOutput(o.out());
        if (o.sam() != null) {
            if (o.annotations() != null) {
                throw new IllegalArgumentException("regions come from annotations or from SAM's automatic masks,"
                        + " not both");
            }
            if (!Files.isRegularFile(o.sam())) {
                throw new IllegalArgumentException("SAM checkpoint not found: " + o.sam());
            }
            List<ImageInput> images = folderImages(o.images());
            if (images.isEmpty()) {
                throw new IllegalArgumentException(o.images() + " has no image files");
            }
            return new Inputs(images, List.of());
        }
        if (o.annotations() == null) {
            throw new IllegalArgumentException("no annotation file (or SAM checkpoint) to take regions from");
        }
        List<String[]> skipped = new ArrayList<>();
        List<ImageInput> images = CocoInputs.read(o.annotations(), o.images(),
                (reason, example) -> skipped.add(new String[] {reason, example}));
        if (images.isEmpty()) {
            throw new IllegalArgumentException(o.annotations() + " has no image with regions");
        }
        return new Inputs(images, skipped);
    }

    /** The per-image work of these options. */
    static Work work(Options o) {
        Segmenting segmenting = o.sam() == null ? null : Segmenting.of(o.sam().toAbsolutePath().normalize().toString(),
                o.amg() == null ? AutomaticMaskGenerator.Options.defaults() : o.amg());
        return new Work(o.model().toAbsolutePath().normalize().toString(), o.detail(),
                Decoding.of(o.generation() == null ? GenerationOptions.reference() : o.generation()), segmenting);
    }

    private static final Set<String> IMAGE_SUFFIXES = Set.of("png", "jpg", "jpeg", "bmp", "gif", "webp", "tif",
            "tiff");

    /**
     * The folder's image files (subfolders included) sorted by their path relative to it, each with no regions
     * (SAM makes them on the executor) and its 1-based place in that order as its id.
     */
    static List<ImageInput> folderImages(Path images) {
        if (!Files.isDirectory(images)) {
            throw new IllegalArgumentException("image folder not found: " + images);
        }
        Path root = images.toAbsolutePath().normalize();
        List<String> names;
        try (Stream<Path> all = Files.walk(root)) {
            names = all.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                int dot = n.lastIndexOf('.');
                return dot > 0 && IMAGE_SUFFIXES.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
            }).map(p -> root.relativize(p).toString().replace(java.io.File.separatorChar, '/')).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalArgumentException("cannot list " + images + ": " + e.getMessage(), e);
        }
        List<ImageInput> out = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
            out.add(new ImageInput(i + 1, names.get(i), root.resolve(names.get(i)).toString(), List.of()));
        }
        return out;
    }

    /** SAM's automatic masks as regions 1..N in the generator's order, as {@code osprey describe --everything}. */
    private static List<DescribeRequest.Region> samRegions(RgbImage image, Segmenting s) {
        SegmentService sam = ExecutorModels.segmenter(s.sam(), BatchJob.executorThreads());
        List<GeneratedMask> masks = sam.everything(image, s.options());
        List<DescribeRequest.Region> regions = new ArrayList<>(masks.size());
        for (int i = 0; i < masks.size(); i++) {
            regions.add(new DescribeRequest.Region(i + 1, masks.get(i).segmentation()));
        }
        return regions;
    }

    private static BatchJob.Result run(SparkSession spark, Options o, Inputs in, PrintStream progress) {
        return new BatchJob<>("describe", SCHEMA, work(o)).run(spark, in.images(), in.skipped(), o.partitions(),
                o.out(), o.format(), progress);
    }

    /** A model directory with its config, as every model command wants it. */
    public static void checkModel(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model directory not found: " + dir);
        }
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(dir + " has no config.json (expected an Osprey checkpoint in the"
                    + " Hugging Face layout)");
        }
    }

    /** A local output path must not exist yet (Spark writes a new directory); other URIs are Spark's to check. */
    public static void checkOutput(String out) {
        if (out.contains("://")) {
            return;
        }
        Path p = Path.of(out.startsWith("file:") ? out.substring(5) : out);
        if (Files.exists(p)) {
            throw new IllegalArgumentException("output " + out + " exists already (Spark writes a new directory)");
        }
        Path parent = p.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new IllegalArgumentException("output directory's parent not found: " + parent);
        }
    }

    private static RgbImage readImage(ImageInput input, JobCounters counters) {
        Path path = Path.of(input.path());
        if (!Files.isRegularFile(path)) {
            counters.skip("image file not found", input.fileName());
            return null;
        }
        try {
            return RgbImage.read(path);
        } catch (Exception e) {
            counters.skip("unreadable image", input.fileName() + ": " + e.getMessage());
            return null;
        }
    }

    private static final ThreadLocal<ObjectMapper> JSON = ThreadLocal.withInitial(ObjectMapper::new);

    /** The regions at the image's size, as {@code osprey describe --masks} decodes them; bad ones are skipped. */
    private static List<DescribeRequest.Region> decodeRegions(ImageInput input, RgbImage image, JobCounters counters) {
        List<DescribeRequest.Region> regions = new ArrayList<>(input.regions().size());
        for (ImageInput.Region r : input.regions()) {
            try {
                Mask mask = CocoMasks.decode(SegmentationJson.read(JSON.get().readTree(r.segmentation())),
                        image.height(), image.width());
                regions.add(new DescribeRequest.Region(r.id(), mask));
            } catch (Exception e) {
                counters.skip("invalid segmentation", input.fileName() + " annotation " + r.id() + ": "
                        + e.getMessage());
            }
        }
        return regions;
    }
}
