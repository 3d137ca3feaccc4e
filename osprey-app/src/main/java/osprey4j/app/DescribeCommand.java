package osprey4j.app;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import osprey4j.core.io.AtomicFiles;
import osprey4j.data.coco.CocoMasks;
import osprey4j.model.Answer;
import osprey4j.model.GenerationOptions;
import osprey4j.model.ImageSession;
import osprey4j.model.Osprey;
import osprey4j.model.image.RgbImage;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code osprey describe}: a description of every region of an image, encoding the image once. */
@Command(name = "describe", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Describes every region of an image, one JSON line per region in FILE.jsonl:",
                "  {\"id\", \"bbox\" [x,y,w,h], \"area\", \"question\", \"answer\", \"tokens\", \"prompt_tokens\"}.",
                "The image is encoded once; each region is asked the question of the reference demo:",
                "  --short     \"" + DescribeCommand.SHORT_QUESTION + "\"",
                "  --detailed  \"" + DescribeCommand.DETAILED_QUESTION + "\"",
                "after the demo's opening \"<image>\\n\\nThis provides an overview of the picture.\\n\".",
                "Progress goes to stderr; FILE.jsonl appears only when every region is done."})
final class DescribeCommand implements Callable<Integer> {
    /** The reference demo's opening of the user message (osprey_inference.py, begin_str). */
    static final String DEMO_OPENING = "<image>\n\nThis provides an overview of the picture.\n";
    /** The reference demo's short-description question. */
    static final String SHORT_QUESTION = "Please give me a short description of <mask><pos>. Using a short phrase.";
    /** The reference demo's detailed-description question. */
    static final String DETAILED_QUESTION = "Can you give me a detailed description of <mask><pos>?";

    @Spec
    CommandSpec spec;

    @Mixin
    ModelAndImageOptions input;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--masks", required = true, paramLabel = "COCO.json",
                description = "Regions from a COCO-style annotation file for this image (polygons or RLE): a COCO"
                        + " file, a list of annotations, one annotation or one segmentation.")
        Path masks;

        @Option(names = "--everything", required = true,
                description = "Segment everything with SAM (--sam CKPT); not yet supported.")
        boolean everything;
    }

    @Option(names = "--sam", paramLabel = "CKPT", description = "SAM checkpoint for --everything (not yet supported).")
    Path sam;

    @ArgGroup(exclusive = true)
    Detail detail;

    static final class Detail {
        @Option(names = "--short", required = true, description = "Short descriptions (the default).")
        boolean shortDescription;

        @Option(names = "--detailed", required = true, description = "Detailed descriptions.")
        boolean detailed;
    }

    @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "Where the lines go.")
    Path out;

    @Mixin
    GenerationMixin generation;

    @Option(names = "--json", description = "Print a summary {\"out\", \"regions\", \"load_ms\", \"total_ms\"} as JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        GenerationOptions options = generation.options(spec.commandLine().getParseResult());
        if (source.everything || sam != null) {
            throw new UsageException("--everything needs SAM (--sam CKPT) to segment the image, which is not yet"
                    + " supported; give the regions with --masks COCO.json");
        }
        String question = DEMO_OPENING
                + (detail != null && detail.detailed ? DETAILED_QUESTION : SHORT_QUESTION);
        Path target = out.toAbsolutePath();
        if (target.getParent() == null || !Files.isDirectory(target.getParent())) {
            throw new UsageException("output directory not found: " + target.getParent());
        }
        long t0 = System.nanoTime();
        RgbImage img = ModelSupport.readImage(input.image);
        List<CocoRegions.Region> regions = CocoRegions.read(source.masks, input.image, img.width(), img.height());
        PrintWriter err = spec.commandLine().getErr();
        String prefix = OneLineErrors.prefix(spec.commandLine());
        int done = 0;
        double loadMs;
        Path tmp = AtomicFiles.temporarySibling(target);
        try (ModelSupport.Restore logs = ModelSupport.routeComponentWarnings(spec.commandLine());
             Osprey osprey = ModelSupport.loadModel(input.model, spec.commandLine());
             BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            loadMs = (System.nanoTime() - t0) / 1e6;
            ImageSession session = osprey.encode(img);
            err.printf("%sencoded %s (%dx%d) in %.0f ms; %d region(s)%n", prefix, input.image.getFileName(), img.width(),
                    img.height(), session.encodeMs(), regions.size());
            err.flush();
            for (CocoRegions.Region region : regions) {
                Answer a = ModelSupport.asUsage(() -> osprey.ask(session, List.of(region.mask()),
                        question, options));
                ObjectNode line = JsonNodeFactory.instance.objectNode();
                line.put("id", region.id());
                ArrayNode bbox = line.putArray("bbox");
                for (double v : CocoMasks.toBbox(region.mask())) {
                    bbox.add(v);
                }
                line.put("area", region.mask().area());
                line.put("question", question);
                line.put("answer", a.text());
                line.set("tokens", ModelSupport.ids(a.tokens()));
                line.put("prompt_tokens", a.promptTokens());
                w.write(line.toString());
                w.write('\n');
                w.flush();
                done++;
                err.printf("%s[%d/%d] region %d: %s (%.0f ms)%n", prefix, done, regions.size(), region.id(),
                        abbreviate(a.text()), a.timings().regionsMs() + a.timings().prefillMs()
                                + a.timings().decodeMs());
                err.flush();
            }
        } catch (RuntimeException | IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        move(tmp, target);
        PrintWriter stdout = spec.commandLine().getOut();
        if (json) {
            ObjectNode summary = JsonNodeFactory.instance.objectNode();
            summary.put("out", out.toString());
            summary.put("regions", done);
            summary.put("load_ms", ModelSupport.round(loadMs));
            summary.put("total_ms", ModelSupport.round((System.nanoTime() - t0) / 1e6));
            stdout.println(summary);
        } else {
            stdout.println("wrote " + out + ": " + done + " region(s)");
        }
        stdout.flush();
        return 0;
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() <= 60 ? one : one.substring(0, 57) + "...";
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            AtomicFiles.moveIntoPlace(tmp, target);
        } catch (IOException | UncheckedIOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }
}
