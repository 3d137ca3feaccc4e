package osprey4j.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.data.datasets.CocoAnnotation;
import osprey4j.data.datasets.CocoStyleFile;
import osprey4j.data.datasets.DatasetFormatException;
import osprey4j.data.datasets.ImageAnnotations;
import osprey4j.data.datasets.ReadReport;

/**
 * The driver's side of a job's input: a COCO-style annotation file read as a stream (one image's annotations in memory
 * at a time) into one {@link ImageInput} per image with regions. What cannot become work is reported to a sink with a
 * short reason: malformed annotations, annotations without a segmentation, images without regions.
 */
public final class CocoInputs {
    private CocoInputs() {
    }

    /**
     * @param annotations the COCO-style file (images, annotations)
     * @param images      the folder the images' {@code file_name}s are relative to
     * @param skipped     hears (reason, example) for every input left out
     * @throws IllegalArgumentException when the file or folder is missing or the file is not COCO-style
     */
    public static List<ImageInput> read(Path annotations, Path images, BiConsumer<String, String> skipped) {
        if (!Files.isRegularFile(annotations)) {
            throw new IllegalArgumentException("annotation file not found: " + annotations);
        }
        if (!Files.isDirectory(images)) {
            throw new IllegalArgumentException("image folder not found: " + images);
        }
        Path root = images.toAbsolutePath().normalize();
        ReadReport report = ReadReport.lenient();
        List<ImageInput> out = new ArrayList<>();
        try {
            CocoStyleFile file = CocoStyleFile.index(annotations, report);
            try (Stream<ImageAnnotations> all = file.images()) {
                all.forEach(ia -> {
                    List<ImageInput.Region> regions = new ArrayList<>();
                    for (CocoAnnotation a : ia.annotations()) {
                        if (a.segmentation() == null) {
                            skipped.accept("annotation without a segmentation", "annotation " + a.id());
                            continue;
                        }
                        regions.add(new ImageInput.Region(a.id(), SegmentationJson.write(a.segmentation()).toString()));
                    }
                    String name = ia.image().fileName();
                    if (regions.isEmpty()) {
                        skipped.accept("image without regions", name);
                        return;
                    }
                    out.add(new ImageInput(ia.image().id(), name, root.resolve(name).toString(), regions));
                });
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + annotations + ": " + e.getMessage(), e);
        } catch (DatasetFormatException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        for (ReadReport.Skip s : report.skips()) {
            skipped.accept("malformed annotation", s.toString());
        }
        long unlisted = report.skipped() - report.skips().size();
        for (long i = 0; i < unlisted; i++) {
            skipped.accept("malformed annotation", "");
        }
        return out;
    }
}
