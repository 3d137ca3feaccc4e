package osprey4j.data.datasets;

import osprey4j.data.coco.Segmentation;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads the LVIS/PACO evaluation files of the reference ({@code *_val_1k_category.json}). Schema, from the
 * reference's evaluator: a root array of objects with {@code file_name}, {@code height}, {@code width},
 * {@code categories} (a list of names) and {@code annotations} (a list of objects with a {@code segmentation}),
 * the i-th name belonging to the i-th region. All five are required, and the two lists must be of equal length;
 * an image that breaks this is skipped and counted.
 */
public final class CategoryEval {
    private CategoryEval() {
    }

    public static Stream<CategoryEvalEntry> read(Path file, ReadReport report) throws IOException {
        Json.DoubleList scratch = new Json.DoubleList();
        return RootArrayReader.stream(file, report, "category-evaluation", (p, index, line) -> {
            var b = new Object() {
                String fileName;
                int width;
                int height;
                List<String> categories;
                List<Segmentation> regions;
            };
            Json.fields(p, name -> {
                switch (name) {
                    case "file_name" -> b.fileName = Json.string(p, "file_name");
                    case "width" -> b.width = Json.positiveInt(p, "width");
                    case "height" -> b.height = Json.positiveInt(p, "height");
                    case "categories" -> b.categories = Json.strings(p, "categories");
                    case "annotations" -> b.regions = Osprey724k.regions(p, scratch);
                    default -> Json.finishValue(p);
                }
            });
            Json.requirePresent(b.fileName, "file_name");
            if (b.width == 0) {
                throw new EntryProblem("width", "missing");
            }
            if (b.height == 0) {
                throw new EntryProblem("height", "missing");
            }
            Json.requirePresent(b.categories, "categories");
            Json.requirePresent(b.regions, "annotations");
            if (b.categories.size() != b.regions.size()) {
                throw new EntryProblem("categories", b.categories.size() + " names for " + b.regions.size()
                        + " regions");
            }
            return new CategoryEvalEntry(b.fileName, b.width, b.height, b.categories, b.regions, index, line);
        });
    }
}
