package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.data.world.SyntheticWorld;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code osprey data world}: the synthetic world (images, instance and part masks, attributes, captions). */
@Command(name = "world", mixinStandardHelpOptions = true,
        description = {"Generate synthetic scenes with exact instance and part masks, attributes and captions.",
                "Writes DIR/images/*.png, DIR/instances.json (COCO, RLE masks), DIR/parts.json (PACO-LVIS style "
                        + "objects, parts and attributes) and DIR/captions.json (COCO captions). The same seed and "
                        + "size give byte-identical output."})
final class WorldCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--images", required = true, paramLabel = "N", description = "how many images (1-999999)")
    int images;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "random seed (default 0)")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (absent or empty)")
    Path out;

    @Option(names = "--size", defaultValue = "512", paramLabel = "N|WxH",
            description = "image size in pixels, square N or WxH (default 512)")
    String size;

    @Option(names = "--threads", paramLabel = "N",
            description = "worker threads (default and at most: the compute pool's size, all cores unless "
                    + "-Dosprey.threads says otherwise); the output does not depend on it")
    Integer threads;

    @Option(names = "--json", description = "print the summary as JSON")
    boolean json;

    @Override
    public Integer call() throws IOException {
        int[] wh = parseSize(size);
        SyntheticWorld.Options options;
        try {
            options = new SyntheticWorld.Options(images, seed, wh[0], wh[1],
                    threads == null ? ComputePool.threads() : threads);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        var progress = new ProgressLine(err, start);
        SyntheticWorld.Summary summary;
        try {
            summary = SyntheticWorld.generate(options, out, progress);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        } catch (AccessDeniedException e) {
            throw new UsageException("cannot write to --out " + out + ": permission denied (" + e.getFile() + ")");
        } catch (FileSystemException e) {
            throw new UsageException("cannot write to --out " + out + ": " + e.getMessage());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode n = mapper.createObjectNode();
            n.put("out", out.toString());
            n.put("images", summary.images());
            n.put("objects", summary.objects());
            n.put("parts", summary.parts());
            n.put("captions", summary.captions());
            n.put("width", wh[0]);
            n.put("height", wh[1]);
            n.put("seconds", Math.round(seconds * 1000) / 1000.0);
            n.put("images_per_second", Math.round(summary.images() / seconds * 10) / 10.0);
            o.println(mapper.writeValueAsString(n));
        } else {
            o.printf(Locale.ROOT,
                    "%d images (%dx%d), %d objects, %d parts, %d captions in %.1f s (%.1f images/s) -> %s%n",
                    summary.images(), wh[0], wh[1], summary.objects(), summary.parts(), summary.captions(), seconds,
                    summary.images() / seconds, out);
        }
        o.flush();
        return 0;
    }

    static int[] parseSize(String s) {
        String[] p = s.toLowerCase(Locale.ROOT).split("x", -1);
        try {
            if (p.length == 1) {
                int n = Integer.parseInt(p[0].strip());
                return new int[] {n, n};
            }
            if (p.length == 2) {
                return new int[] {Integer.parseInt(p[0].strip()), Integer.parseInt(p[1].strip())};
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new UsageException("--size must be N or WxH (e.g. 512 or 640x480), got '" + s + "'");
    }

    /** Prints "world: 250/1000 images (120.3 images/s)" to stderr at most every two seconds, and at the end. */
    private static final class ProgressLine implements SyntheticWorld.Progress {
        private final PrintWriter err;
        private final long start;
        private long lastPrint;

        ProgressLine(PrintWriter err, long start) {
            this.err = err;
            this.start = start;
            this.lastPrint = start;
        }

        @Override
        public synchronized void imageDone(int done, int total) {
            long now = System.nanoTime();
            if (now - lastPrint >= 2_000_000_000L || done == total && total >= 100) {
                lastPrint = now;
                err.printf(Locale.ROOT, "world: %d/%d images (%.1f images/s)%n", done, total,
                        done / ((now - start) / 1e9));
                err.flush();
            }
        }
    }
}
