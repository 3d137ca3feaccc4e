package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import osprey4j.core.io.AtomicFiles;
import osprey4j.data.datasets.CocoStyleFile;
import osprey4j.data.datasets.DatasetFormatException;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.samples.EvalSamples;
import osprey4j.data.samples.Recipe;
import osprey4j.data.samples.SampleJsonl;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TrainingSample;
import osprey4j.data.samples.TrainingSamples;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code osprey data ...}: dataset files and the samples made from them. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Read datasets (COCO, LVIS, PACO, RefCOCO, Visual Genome, Osprey-724K, evaluation files).",
        subcommands = {DataCommand.Samples.class, InstructCommand.class, WorldCommand.class, StatsCommand.class})
final class DataCommand {

    /** Evaluation sets, next to the training recipes. */
    static final List<String> EVAL_SETS = List.of("lvis_eval", "paco_eval", "pope", "refcocog_eval");

    @Command(name = "samples", mixinStandardHelpOptions = true,
            description = "Build the samples the reference trains (or evaluates) on, as JSON lines.")
    static final class Samples implements Callable<Integer> {
        @Option(names = "--dataset", required = true, paramLabel = "NAME",
                description = "coco, lvis, paco, pascal_part, part_imagenet, refcoco, refcoco+, refcocog, vg, "
                        + "coco_captions, osprey_detailed_description, osprey_conversation, osprey_part_level, "
                        + "osprey_short_form, osprey_lvis_positive_negative; or lvis_eval, paco_eval, pope, "
                        + "refcocog_eval")
        String dataset;

        @Option(names = "--annotations", required = true, paramLabel = "FILE", description = "the dataset's JSON file")
        Path annotations;

        @Option(names = "--images", required = true, paramLabel = "DIR", description = "image folder (img_prefix)")
        Path images;

        @Option(names = "--out", paramLabel = "FILE.jsonl", description = "output; standard output when absent")
        Path out;

        @Option(names = "--seed", defaultValue = "0", description = "seed for region order and wording (default 0)")
        long seed;

        @Option(names = "--max-regions", defaultValue = "20", paramLabel = "N",
                description = "regions per image at most (default 20; the dataset's own cap may be lower)")
        int maxRegions;

        @Option(names = "--region-form", paramLabel = "list|inline", defaultValue = "list",
                description = "how Osprey-724K conversations show their regions: list (the reference's: the first "
                        + "question lists region1<mask><pos>,... and questions name regionK) or inline (each mention "
                        + "is that region's <mask><pos>, as people ask 'osprey ask') (default list)")
        String regionForm;

        @Option(names = "--turn-order", paramLabel = "as-written|shuffled", defaultValue = "as-written",
                description = "order of each Osprey-724K record's question-answer pairs: as-written (the "
                        + "reference's) or shuffled (a seeded order per record; needs --region-form inline) "
                        + "(default as-written)")
        String turnOrder;

        @Option(names = "--strict", description = "fail at the first malformed entry instead of skipping it")
        boolean strict;

        @Option(names = "--json", description = "print the summary as JSON")
        boolean json;

        @Override
        public Integer call() throws IOException {
            if (!Files.isRegularFile(annotations)) {
                throw new UsageException("no such file: " + annotations);
            }
            if (maxRegions < 1) {
                throw new UsageException("--max-regions must be at least 1, got " + maxRegions);
            }
            ReadReport report = strict ? ReadReport.strict() : ReadReport.lenient();
            SampleOptions options;
            try {
                options = new SampleOptions(images, seed, maxRegions, regionForm(regionForm), turnOrder(turnOrder));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            long written;
            try {
                written = out == null ? writeTo(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), report,
                        options, false) : writeAtomically(report, options);
            } catch (DatasetFormatException e) {
                throw new UsageException(e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            printSummary(written, report);
            return 0;
        }

        /** Writes next to the target and renames at the end, so a failure leaves no half-written file. */
        private long writeAtomically(ReadReport report, SampleOptions options) throws IOException {
            long[] n = {0};
            AtomicFiles.write(out, tmp -> n[0] = writeTo(Files.newBufferedWriter(tmp, StandardCharsets.UTF_8), report,
                    options, true));
            return n[0];
        }

        private long writeTo(Writer sink, ReadReport report, SampleOptions options, boolean close) throws IOException {
            Writer w = new BufferedWriter(sink, 1 << 16);
            long n = 0;
            try (Stream<TrainingSample> samples = samples(report, options)) {
                for (Iterator<TrainingSample> it = samples.iterator(); it.hasNext(); ) {
                    SampleJsonl.write(it.next(), w);
                    n++;
                }
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } finally {
                w.flush();
                if (close) {
                    w.close();
                }
            }
            return n;
        }

        private Stream<TrainingSample> samples(ReadReport report, SampleOptions options) throws IOException {
            return switch (dataset) {
                case "lvis_eval", "paco_eval" -> EvalSamples.categories(annotations, dataset, options, report);
                case "pope" -> EvalSamples.pope(annotations, options, report);
                case "refcocog_eval" -> EvalSamples.refcocogCaptions(CocoStyleFile.index(annotations, report), options);
                default -> TrainingSamples.build(recipe(), annotations, options, report);
            };
        }

        private Recipe recipe() {
            try {
                return Recipe.byId(dataset);
            } catch (IllegalArgumentException e) {
                throw new UsageException("unknown --dataset '" + dataset + "'; known: "
                        + Arrays.stream(Recipe.values()).map(Recipe::id).toList() + " and " + EVAL_SETS);
            }
        }

        private void printSummary(long written, ReadReport report) throws IOException {
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                ObjectNode o = mapper.createObjectNode();
                o.put("samples", written);
                o.put("entries_accepted", report.accepted());
                o.put("entries_skipped", report.skipped());
                ArrayNode skips = o.putArray("skips");
                report.skips().stream().limit(100).forEach(s -> skips.addObject()
                        .put("file", s.file().toString()).put("line", s.line()).put("column", s.column())
                        .put("section", s.section()).put("index", s.entryIndex()).put("field", s.field())
                        .put("reason", s.reason()));
                (out == null ? System.err : System.out).println(mapper.writeValueAsString(o));
            } else {
                var stream = out == null ? System.err : System.out;
                stream.println(written + " samples; " + report);
                report.skips().stream().limit(20).forEach(s -> stream.println("  skipped " + s));
            }
        }
    }

    /** {@code --turn-order}: as-written or shuffled. */
    static osprey4j.data.samples.TurnOrder turnOrder(String name) {
        return switch (name) {
            case "as-written" -> osprey4j.data.samples.TurnOrder.AS_WRITTEN;
            case "shuffled" -> osprey4j.data.samples.TurnOrder.SHUFFLED;
            default -> throw new UsageException("--turn-order must be as-written or shuffled, got " + name);
        };
    }

    /** {@code --region-form}: list or inline. */
    static osprey4j.data.samples.RegionForm regionForm(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "list" -> osprey4j.data.samples.RegionForm.LIST;
            case "inline" -> osprey4j.data.samples.RegionForm.INLINE;
            default -> throw new UsageException("--region-form must be list or inline, got " + name);
        };
    }
}
