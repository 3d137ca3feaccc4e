package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import osprey4j.data.datasets.DatasetFormatException;
import osprey4j.data.stats.DatasetStats;
import osprey4j.data.stats.StatsReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code osprey data stats DIR}: counts, question types, answer lengths and category balance of a dataset. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"Statistics of instruction data (the five osprey_*.json files written by 'osprey data "
                + "instruct') and/or a synthetic world ('osprey data world'): counts per subset, question types, "
                + "answer lengths, category balance. Prints Markdown (or JSON with --json) and writes a PNG chart."})
final class StatsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "an instruction-data or world output directory")
    Path dir;

    @Option(names = "--out", paramLabel = "FILE.md", description = "write the Markdown here instead of standard output")
    Path out;

    @Option(names = "--chart", paramLabel = "FILE.png",
            description = "where the chart goes (default: next to --out as .png, else DIR/stats.png)")
    Path chart;

    @Option(names = "--no-chart", description = "do not draw the chart")
    boolean noChart;

    @Option(names = "--json", description = "print the statistics as JSON")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new UsageException("not a directory: " + dir);
        }
        DatasetStats.Report report;
        try {
            report = DatasetStats.of(dir);
        } catch (IllegalArgumentException | DatasetFormatException e) {
            throw new UsageException(e.getMessage());
        }
        Path png = noChart ? null : chart != null ? chart : out != null
                ? out.resolveSibling(out.getFileName().toString().replaceFirst("\\.[^.]*$", "") + ".png")
                : dir.resolve("stats.png");
        if (png != null) {
            try {
                StatsReport.writeChart(report, png);
            } catch (IOException e) {
                throw new UsageException("cannot write the chart " + png + ": " + describe(e));
            }
        }
        String chartLink = png == null ? null : (out != null && png.toAbsolutePath().getParent()
                .equals(out.toAbsolutePath().getParent()) ? png.getFileName().toString() : png.toString());
        String md = StatsReport.markdown(report, chartLink);
        PrintWriter o = spec.commandLine().getOut();
        if (out != null) {
            try {
                Files.writeString(out, md, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UsageException("cannot write --out " + out + ": " + describe(e));
            }
        }
        if (json) {
            o.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(StatsReport.json(report)));
        } else if (out == null) {
            o.print(md);
        } else {
            o.println("wrote " + out + (png == null ? "" : " and " + png));
        }
        o.flush();
        return 0;
    }

    /** "no such directory" rather than the bare path NIO puts in its messages. */
    private static String describe(IOException e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException n -> "no such directory";
            case java.nio.file.AccessDeniedException a -> "permission denied";
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
    }
}
