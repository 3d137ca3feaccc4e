package osprey4j.data.datasets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.data.coco.Segmentation;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reads a synthetic COCO instances file the size of {@code instances_train2017.json} (about 450 MB: 118,287
 * images, 860,001 annotations with polygons, 1% crowd RLE; annotations first and not grouped by image, the
 * hard case for a streaming reader) and prints the time and peak heap. Off by default; run it with
 * <pre>
 * ./mvnw -q test -pl osprey-data -am -Dtest=CocoReadBenchmarkTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dosprey.bench=true -Dosprey.test.flags=-Xmx1g
 * </pre>
 * and read the figures in {@code osprey-data/target/surefire-reports/*CocoReadBenchmarkTest-output.txt}.
 * The file is made in a temporary directory and deleted afterwards. Nothing is asserted about time.
 */
@EnabledIfSystemProperty(named = "osprey.bench", matches = "true")
class CocoReadBenchmarkTest {
    static final int IMAGES = 118_287;
    static final int ANNOTATIONS = 860_001;

    @Test
    void readsAnInstancesTrain2017SizedFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("instances_train2017_synthetic.json");
        long t0 = System.nanoTime();
        long polygonsWritten = write(file);
        long t1 = System.nanoTime();
        System.out.printf("generated %s: %.1f MB in %.1f s%n", file.getFileName(), Files.size(file) / 1e6,
                (t1 - t0) / 1e9);

        System.gc();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            pool.resetPeakUsage();
        }
        long start = System.nanoTime();
        ReadReport report = ReadReport.lenient();
        CocoStyleFile coco = CocoStyleFile.index(file, report);
        long indexed = System.nanoTime();
        long annotations = 0;
        long polygons = 0;
        long coordinates = 0;
        try (Stream<ImageAnnotations> images = coco.images()) {
            for (Iterator<ImageAnnotations> it = images.iterator(); it.hasNext(); ) {
                for (CocoAnnotation a : it.next().annotations()) {
                    annotations++;
                    if (a.segmentation() instanceof Segmentation.Polygons p) {
                        polygons += p.polygons().size();
                        for (double[] poly : p.polygons()) {
                            coordinates += poly.length;
                        }
                    }
                }
            }
        }
        long end = System.nanoTime();
        long peakHeap = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peakHeap += pool.getPeakUsage().getUsed();
            }
        }
        System.out.printf("index pass %.1f s, grouped read %.1f s, total %.1f s; %d images, %d annotations, "
                        + "%d polygons, %d coordinates; peak heap (sum of pool peaks) %.0f MB of max %.0f MB; %s%n",
                (indexed - start) / 1e9, (end - indexed) / 1e9, (end - start) / 1e9, coco.imageList().size(),
                annotations, polygons, coordinates, peakHeap / 1048576.0,
                Runtime.getRuntime().maxMemory() / 1048576.0, report);
        assertEquals(ANNOTATIONS, annotations);
        assertEquals(polygonsWritten, polygons);
    }

    /** Writes the synthetic file; returns the number of polygons in it. */
    static long write(Path file) throws IOException {
        SplittableRandom rnd = new SplittableRandom(2017);
        long polygons = 0;
        try (Writer w = new BufferedWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8), 1 << 20)) {
            w.write("{\"info\": {\"description\": \"synthetic\"}, \"licenses\": [], \"annotations\": [");
            StringBuilder sb = new StringBuilder(4096);
            for (int a = 0; a < ANNOTATIONS; a++) {
                sb.setLength(0);
                long image = 1 + rnd.nextInt(IMAGES);   // scattered: annotations of an image are far apart
                boolean crowd = rnd.nextInt(100) == 0;
                sb.append(a == 0 ? "" : ", ").append("{\"segmentation\": ");
                if (crowd) {
                    sb.append("{\"counts\": [");
                    for (int k = 0; k < 60; k++) {
                        sb.append(k == 0 ? "" : ", ").append(rnd.nextInt(400));
                    }
                    sb.append("], \"size\": [480, 640]}");
                } else {
                    int n = 1 + (rnd.nextInt(10) == 0 ? 1 : 0);
                    sb.append('[');
                    for (int k = 0; k < n; k++) {
                        int points = 12 + rnd.nextInt(18);
                        sb.append(k == 0 ? "[" : ", [");
                        for (int q = 0; q < 2 * points; q++) {
                            sb.append(q == 0 ? "" : ", ").append(rnd.nextInt(640)).append('.')
                                    .append(10 + rnd.nextInt(90));
                        }
                        sb.append(']');
                    }
                    sb.append(']');
                    polygons += n;
                }
                sb.append(", \"area\": ").append(rnd.nextInt(100000)).append(".5, \"iscrowd\": ").append(crowd ? 1 : 0)
                        .append(", \"image_id\": ").append(image).append(", \"bbox\": [")
                        .append(rnd.nextInt(600)).append(".12, ").append(rnd.nextInt(400)).append(".34, ")
                        .append(rnd.nextInt(200)).append(".56, ").append(rnd.nextInt(200)).append(".78], \"category_id\": ")
                        .append(1 + rnd.nextInt(80)).append(", \"id\": ").append(a + 1).append('}');
                w.append(sb);
            }
            w.write("], \"images\": [");
            for (int i = 1; i <= IMAGES; i++) {
                w.write((i == 1 ? "" : ", ") + "{\"license\": 3, \"file_name\": \"" + String.format("%012d", i)
                        + ".jpg\", \"coco_url\": \"http://images.cocodataset.org/train2017/" + String.format("%012d", i)
                        + ".jpg\", \"height\": 480, \"width\": 640, \"date_captured\": \"2013-11-14 11:18:45\", "
                        + "\"flickr_url\": \"http://farm9.staticflickr.com/x.jpg\", \"id\": " + i + "}");
            }
            w.write("], \"categories\": [");
            for (int c = 1; c <= 80; c++) {
                w.write((c == 1 ? "" : ", ") + "{\"supercategory\": \"thing\", \"id\": " + c + ", \"name\": \"cat" + c + "\"}");
            }
            w.write("]}");
        }
        return polygons;
    }
}
