package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import osprey4j.data.instruct.MiniLmEmbedder;
import osprey4j.eval.world.OspreyAnswerer;
import osprey4j.eval.world.QuestionType;
import osprey4j.eval.world.WorldEval;
import osprey4j.model.Osprey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code osprey eval ...}: evaluations with resumable outputs and a report. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a model; outputs are resumable and end with a report.",
        subcommands = {EvalCommand.World.class})
final class EvalCommand {

    /** {@code osprey eval world}: the demo model's quality figure on a held-out synthetic world. */
    @Command(name = "world", mixinStandardHelpOptions = true,
            description = {"Ask a model the training templates' questions about a held-out synthetic world (made "
                    + "by 'osprey data world' with a seed not used in training) and score the answers against the "
                    + "annotations: category (short form), yes/no (positives and mined negatives), part names, the "
                    + "colour in detailed descriptions, and two-region relations, each against its bar.",
                    "Writes DIR/samples.jsonl (one line per question, appended as it goes; a rerun skips the "
                            + "questions already there), DIR/summary.json and DIR/report.md."})
    static final class World implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
        Path model;

        @Option(names = "--data", required = true, paramLabel = "WORLD_DIR",
                description = "synthetic world directory (instances.json, parts.json, images/)")
        Path data;

        @Option(names = "--out", required = true, paramLabel = "DIR",
                description = "output directory (created; an earlier run's is resumed)")
        Path out;

        @Option(names = "--limit", defaultValue = "0", paramLabel = "N",
                description = "ask only the first N questions (default 0: all)")
        int limit;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
                description = "wording and negative seed of the question templates (default 0)")
        long seed;

        @Option(names = "--region-form", paramLabel = "list|inline", defaultValue = "list",
                description = "how questions show their regions: list (the reference's training form: every region "
                        + "of the record listed, questions name regionK) or inline (as people ask 'osprey ask': each "
                        + "named region is its own <mask><pos>, only those masks given) (default list)")
        String regionForm;

        @Option(names = "--json", description = "print the summary as JSON")
        boolean json;

        @Override
        public Integer call() throws IOException {
            osprey4j.data.samples.RegionForm form = DataCommand.regionForm(regionForm);
            if (limit < 0) {
                throw new UsageException("--limit must be 0 (all) or positive, got " + limit);
            }
            if (!Files.isDirectory(data)) {
                throw new UsageException("world directory not found: " + data);
            }
            if (!Files.isRegularFile(data.resolve("instances.json"))) {
                throw new UsageException(data + " is not a synthetic world (no instances.json); make one with "
                        + "'osprey data world'");
            }
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new UsageException("--out " + out + " exists and is not a directory");
            }
            PrintWriter err = spec.commandLine().getErr();
            WorldEval.Report report;
            try (Osprey osprey = ModelSupport.loadModel(model, spec.commandLine());
                 OspreyAnswerer answerer = new OspreyAnswerer(osprey)) {
                WorldEval.Options options = new WorldEval.Options(data, out, seed, limit, MiniLmEmbedder.get(),
                        line -> {
                            err.println(line);
                            err.flush();
                        }, form);
                report = WorldEval.run(options, answerer);
            }
            PrintWriter o = spec.commandLine().getOut();
            if (json) {
                o.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(WorldEval.json(report)));
            } else {
                for (QuestionType t : QuestionType.values()) {
                    WorldEval.Score s = report.byType().get(t);
                    o.println(String.format(Locale.ROOT, "%-34s %5d/%-5d %s (bar %.0f%%)", t.label(), s.correct(),
                            s.asked(), s.asked() == 0 ? "   -  " : String.format(Locale.ROOT, "%5.1f%%",
                                    100 * s.accuracy()), 100 * t.bar()));
                }
                o.println(report.questions() + " questions (" + report.askedNow() + " asked now, " + report.resumed()
                        + " resumed) -> " + out.resolve(WorldEval.REPORT));
            }
            o.flush();
            return 0;
        }
    }
}
