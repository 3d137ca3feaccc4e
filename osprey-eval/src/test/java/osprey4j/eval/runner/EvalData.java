package osprey4j.eval.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Small evaluation files in the official layouts, with placeholder image files. */
final class EvalData {
    static final String[] CATEGORIES = {"baseball_bat", "dog", "mug:handle", "car_(automobile)", "person"};

    private EvalData() {
    }

    /** An LVIS/PACO-style category file: {@code images} images, image i with (i % 3) + 1 regions. */
    static Path categoryFile(Path dir, int images) throws IOException {
        Files.createDirectories(dir.resolve("images"));
        StringBuilder b = new StringBuilder("[");
        int c = 0;
        for (int i = 0; i < images; i++) {
            String name = String.format("%012d.jpg", i);
            Files.writeString(dir.resolve("images").resolve(name), "placeholder");
            int regions = i % 3 + 1;
            List<String> cats = new ArrayList<>();
            List<String> anns = new ArrayList<>();
            for (int r = 0; r < regions; r++) {
                cats.add('"' + CATEGORIES[c++ % CATEGORIES.length] + '"');
                int x = 2 + 5 * r;
                anns.add("{\"segmentation\": [[" + x + ",2," + (x + 4) + ",2," + (x + 4) + ",9," + x + ",9]]}");
            }
            if (i > 0) {
                b.append(',');
            }
            b.append("{\"file_name\": \"").append(name).append("\", \"height\": 16, \"width\": 24, ")
                    .append("\"categories\": ").append(cats).append(", \"annotations\": ").append(anns).append('}');
        }
        Path f = dir.resolve("lvis_val_1k_category.json");
        Files.writeString(f, b.append(']').toString());
        return f;
    }

    /** A POPE file: {@code n} questions over n / 2 images, labels alternating yes/no. */
    static Path popeFile(Path dir, int n) throws IOException {
        Files.createDirectories(dir.resolve("images"));
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String image = "COCO_val2014_" + String.format("%012d.jpg", i / 2);
            Files.writeString(dir.resolve("images").resolve(image), "placeholder");
            b.append("{\"question_id\": ").append(i + 1).append(", \"image\": \"").append(image)
                    .append("\", \"text\": \"Is there a thing").append(i).append(" in the image?\", \"label\": \"")
                    .append(i % 2 == 0 ? "yes" : "no").append("\"}\n");
        }
        Path f = dir.resolve("coco_pope_random.json");
        Files.writeString(f, b.toString());
        return f;
    }
}
