package osprey4j.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import osprey4j.core.io.FileTrees;
import osprey4j.data.world.SyntheticWorld;
import osprey4j.model.GenerationOptions;
import osprey4j.spark.SparkBench;
import osprey4j.spark.SparkSetup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code osprey spark bench}: the describe job on local[1] and local[2] next to the single-machine describe. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Images per second of 'osprey spark describe' on local[1] and local[2] next to the "
                + "single-machine describe of the same images in the same process (model loaded once, warmed up; "
                + "best of --rounds, alternating). Without --annotations, a synthetic world of --world-images "
                + "128x128 images is made for the run.",
                "Greedy decoding, --max-new-tokens per region. Prints ms per region, the figure to scale a "
                        + "cluster from."})
final class BenchSparkCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
    Path model;

    @Option(names = "--images", paramLabel = "DIR", description = "image folder (with --annotations)")
    Path images;

    @Option(names = "--annotations", paramLabel = "FILE", description = "COCO-style annotation file")
    Path annotations;

    @Option(names = "--world-images", paramLabel = "N", defaultValue = "12",
            description = "images of the synthetic world made when no --annotations (default ${DEFAULT-VALUE})")
    int worldImages;

    @Option(names = "--masters", split = ",", paramLabel = "URL,URL", defaultValue = "local[1],local[2]",
            description = "Spark masters to compare (default ${DEFAULT-VALUE})")
    List<String> masters;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "2", description = "rounds (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "32",
            description = "tokens per answer at most (default ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Override
    public Integer call() throws IOException {
        if (rounds < 1 || maxNewTokens < 1 || worldImages < 1) {
            throw new UsageException("--rounds, --max-new-tokens and --world-images must be at least 1");
        }
        if ((images == null) != (annotations == null)) {
            throw new UsageException("--images and --annotations go together");
        }
        for (String m : masters) {
            SparkCommand.usage(() -> SparkSetup.of(m, "check", java.util.Map.of()));
        }
        PrintWriter out = spec.commandLine().getOut();
        Path world = null;
        Path imageDir = images;
        Path annotationFile = annotations;
        if (annotations == null) {
            world = Files.createTempDirectory("osprey-spark-bench-world").resolve("world");
            SyntheticWorld.generate(new SyntheticWorld.Options(worldImages, 2024, 128, 128, 1), world, null);
            imageDir = world.resolve("images");
            annotationFile = world.resolve("instances.json");
            System.err.printf("made a synthetic world of %d images in %s%n", worldImages, world);
        }
        SparkBench.Options o = new SparkBench.Options(model, imageDir, annotationFile, masters, rounds,
                GenerationOptions.greedy(maxNewTokens), java.util.Map.of());
        List<SparkBench.Row> rows = SparkCommand.job(() -> {
            try {
                return SparkBench.run(o, System.err);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        out.printf(Locale.ROOT, "describe, %d images, %d regions, %d tokens, %d cores, best of %d:%n",
                rows.get(0).images(), rows.get(0).regions(), rows.get(0).tokens(),
                Runtime.getRuntime().availableProcessors(), rounds);
        out.printf(Locale.ROOT, "%-20s %9s %9s %10s %8s %10s%n", "run", "seconds", "images/s", "ms/region", "vs single",
                "start-up s");
        double single = rows.get(0).seconds();
        for (SparkBench.Row r : rows) {
            out.printf(Locale.ROOT, "%-20s %9.2f %9.2f %10.1f %7.2fx %10s%n", r.name(), r.seconds(),
                    r.imagesPerSecond(), r.msPerRegion(), single / r.seconds(),
                    r.startSeconds() > 0 ? String.format(Locale.ROOT, "%.1f", r.startSeconds()) : "-");
        }
        out.flush();
        if (world != null) {
            FileTrees.delete(world.getParent());
        }
        return 0;
    }
}
