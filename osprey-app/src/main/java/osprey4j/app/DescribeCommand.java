package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import osprey4j.model.GenerationOptions;
import osprey4j.model.image.RgbImage;
import osprey4j.service.DescribeProgress;
import osprey4j.service.DescribeRequest;
import osprey4j.service.GeneratedMask;
import osprey4j.service.SegmentService;
import osprey4j.service.OspreyService;
import osprey4j.service.RegionDescription;
import osprey4j.service.ServiceJson;
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
                "  --short     \"" + DescribeRequest.SHORT_QUESTION + "\"",
                "  --detailed  \"" + DescribeRequest.DETAILED_QUESTION + "\"",
                "after the demo's opening \"<image>\\n\\nThis provides an overview of the picture.\\n\".",
                "Progress goes to stderr; FILE.jsonl appears only when every region is done."})
final class DescribeCommand implements Callable<Integer> {
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
                description = "Regions from SAM's automatic mask generator (needs --sam CKPT), in its order;"
                        + " the --points-per-side... options tune it (defaults: the official ones, as the reference"
                        + " demo uses).")
        boolean everything;
    }

    @Option(names = "--sam", paramLabel = "CKPT", description = "SAM checkpoint for --everything (sam_vit_b_01ec64.pth"
            + " or a safetensors copy).")
    Path sam;

    @Mixin
    AmgOptionsMixin amg;

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

    /** SAM's automatic masks as regions 1..N, in the generator's order (the image encoded once for SAM). */
    private List<DescribeRequest.Region> everything(RgbImage img) {
        var options = amg.options();
        PrintWriter err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        List<DescribeRequest.Region> regions = new java.util.ArrayList<>();
        try (SegmentService service = SamInputs.load(sam)) {
            List<GeneratedMask> masks = service.everything(img, options);
            for (int i = 0; i < masks.size(); i++) {
                regions.add(new DescribeRequest.Region(i + 1, masks.get(i).segmentation()));
            }
        }
        err.printf("%sSAM found %d masks in %.0f ms%n", OneLineErrors.prefix(spec.commandLine()), regions.size(),
                (System.nanoTime() - t0) / 1e6);
        err.flush();
        if (regions.isEmpty()) {
            throw new UsageException("SAM found no masks in " + input.image + " with these thresholds"
                    + " (--pred-iou-thresh, --stability-score-thresh); nothing to describe");
        }
        return regions;
    }

    @Override
    public Integer call() throws IOException {
        GenerationOptions options = generation.options(spec.commandLine().getParseResult());
        if (source.everything && sam == null) {
            throw new UsageException("--everything needs SAM to segment the image: add --sam CKPT"
                    + " (e.g. sam_vit_b_01ec64.pth)");
        }
        if (!source.everything && sam != null) {
            throw new UsageException("--sam is used with --everything (regions from --masks need no SAM)");
        }
        DescribeRequest.Detail level = detail != null && detail.detailed ? DescribeRequest.Detail.DETAILED
                : DescribeRequest.Detail.SHORT;
        Path target = out.toAbsolutePath();
        if (target.getParent() == null || !Files.isDirectory(target.getParent())) {
            throw new UsageException("output directory not found: " + target.getParent());
        }
        long t0 = System.nanoTime();
        RgbImage img = ModelSupport.readImage(input.image);
        List<DescribeRequest.Region> regions = source.everything ? everything(img)
                : CocoRegions.read(source.masks, input.image, img.width(), img.height());
        DescribeRequest request = new DescribeRequest(input.image.toString(), regions, level, options);
        PrintWriter err = spec.commandLine().getErr();
        String prefix = OneLineErrors.prefix(spec.commandLine());
        ObjectMapper mapper = ServiceJson.mapper();
        int done;
        double loadMs;
        Path tmp = AtomicFiles.temporarySibling(target);
        try (OspreyService service = ModelSupport.loadService(input.model, spec.commandLine());
             BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            loadMs = (System.nanoTime() - t0) / 1e6;
            DescribeProgress progress = new DescribeProgress() {
                @Override
                public void encoded(int width, int height, double encodeMs, int count) {
                    err.printf("%sencoded %s (%dx%d) in %.0f ms; %d region(s)%n", prefix, input.image.getFileName(),
                            width, height, encodeMs, count);
                    err.flush();
                }

                @Override
                public void described(int n, int total, RegionDescription d, double millis) {
                    try {
                        w.write(mapper.writeValueAsString(d));
                        w.write('\n');
                        w.flush();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    err.printf("%s[%d/%d] region %d: %s (%.0f ms)%n", prefix, n, total, d.id(), abbreviate(d.answer()),
                            millis);
                    err.flush();
                }
            };
            done = ModelSupport.serviceCall(() -> service.describe(img, request, progress,
                    ModelSupport.warner(spec.commandLine()))).regions().size();
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
