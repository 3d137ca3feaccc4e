package osprey4j.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.mask.MaskPng;
import osprey4j.model.image.RgbImage;
import osprey4j.model.sam.SamPrompt;
import osprey4j.model.sam.AutomaticMaskGenerator;
import osprey4j.service.GeneratedMask;
import osprey4j.service.SegmentRequest;
import osprey4j.service.SegmentResult;
import osprey4j.service.SegmentService;
import osprey4j.service.ServiceJson;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code osprey segment}: SAM turns clicks and a box into a mask. */
@Command(name = "segment", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Segments an object with SAM (Segment Anything): the clicks and the box together are one prompt, and"
                        + " the mask SAM gives for it is written as a PNG (255 inside, 0 outside) of the image's size.",
                "Coordinates are pixels of the original image. Takes the official checkpoints (sam_vit_b_01ec64.pth,"
                        + " sam_vit_l_0b3195.pth, sam_vit_h_4b8939.pth) or safetensors copies of them.",
                "With --multimask SAM proposes three masks (its choice for an ambiguous single click); --out gets the"
                        + " one with the highest predicted IoU and --json lists all three.",
                "--everything runs SAM's automatic mask generator instead (a grid of clicks, optionally over crops,"
                        + " filtered and de-duplicated as the official SamAutomaticMaskGenerator does) and writes its"
                        + " records as a JSON array: segmentation (COCO RLE), area, bbox, predicted_iou, point_coords,"
                        + " stability_score, crop_box."})
final class SegmentCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--sam", required = true, paramLabel = "CKPT", description = "SAM checkpoint (.pth or .safetensors).")
    Path sam;

    @Option(names = "--image", required = true, paramLabel = "IMG", description = "The image (PNG, JPEG...).")
    Path image;

    /** One prompt element; picocli keeps them in command-line order. */
    static final class PromptPart {
        @Option(names = "--point", paramLabel = "x,y[,label]", required = true,
                description = "A click; label 1 (default) is on the object, 0 is not on it.")
        String point;

        @Option(names = "--box", paramLabel = "x1,y1,x2,y2", required = true,
                description = "A box around the object (at most one).")
        String box;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..*", heading = "Prompt (clicks and at most one box):%n")
    List<PromptPart> prompt;

    @Option(names = "--everything", description = "Segment everything (no prompt): --out gets the records as JSON.")
    boolean everything;

    @Mixin
    AmgOptionsMixin amg;

    @Option(names = "--multimask", description = "Let SAM propose three masks and keep the best (default: one mask).")
    boolean multimask;

    @Option(names = "--out", paramLabel = "MASK.png", description = "Where to write the mask (PNG), or with"
            + " --everything the records (.json).")
    Path out;

    @Option(names = "--json", description = "Print {\"masks\": [{\"segmentation\" (COCO RLE), \"area\", \"bbox\","
            + " \"predicted_iou\"}...], \"best\", \"encode_ms\", \"decode_ms\"} on stdout.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (out == null && !json) {
            throw new UsageException("say where the " + (everything ? "records go: --out masks.json" : "mask goes: --out MASK.png")
                    + ", or --json to print " + (everything ? "them" : "it"));
        }
        if (everything) {
            return everything();
        }
        if (prompt == null || prompt.isEmpty()) {
            throw new UsageException("give a prompt (--point x,y[,label] and/or --box x1,y1,x2,y2) or --everything");
        }
        if (out != null && !out.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
            throw new UsageException("--out " + out + ": the mask is written as a PNG; name it *.png");
        }
        List<SamPrompt.Point> points = new ArrayList<>();
        SamPrompt.Box box = null;
        for (PromptPart p : prompt) {
            if (p.point != null) {
                points.add(SamInputs.point(p.point));
            } else if (box != null) {
                throw new UsageException("--box " + p.box + ": SAM takes one box per prompt (give one --box)");
            } else {
                box = SamInputs.box(p.box);
            }
        }
        RgbImage img = ModelSupport.readImage(image);
        SegmentRequest request = new SegmentRequest(image.toString(), points, box, multimask);
        ModelSupport.asUsage(() -> {
            request.prompt().check(img.width(), img.height());
            return null;
        });
        try (SegmentService service = SamInputs.load(sam)) {
            SegmentResult result = ModelSupport.serviceCall(() -> service.segment(img, request));
            if (out != null) {
                AtomicFiles.write(out, tmp -> MaskPng.write(result.bestMask().segmentation(), tmp));
            }
            if (json) {
                PrintWriter w = spec.commandLine().getOut();
                w.println(ServiceJson.mapper().writeValueAsString(result));
                w.flush();
            }
        }
        return 0;
    }

    private int everything() throws IOException {
        if (prompt != null && !prompt.isEmpty()) {
            throw new UsageException("--everything takes no --point or --box");
        }
        if (multimask) {
            throw new UsageException("--multimask is for prompts; --everything always uses SAM's three masks per click");
        }
        if (out != null && !out.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".json")) {
            throw new UsageException("--out " + out + ": --everything writes JSON records; name it *.json");
        }
        AutomaticMaskGenerator.Options options = amg.options();
        RgbImage img = ModelSupport.readImage(image);
        try (SegmentService service = SamInputs.load(sam)) {
            List<GeneratedMask> records = service.everything(img, options);
            byte[] bytes = ServiceJson.mapper().writeValueAsBytes(records);
            if (out != null) {
                AtomicFiles.write(out, tmp -> java.nio.file.Files.write(tmp, bytes));
                spec.commandLine().getErr().println(OneLineErrors.prefix(spec.commandLine()) + records.size()
                        + " masks written to " + out);
                spec.commandLine().getErr().flush();
            }
            if (json) {
                PrintWriter w = spec.commandLine().getOut();
                w.println(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
                w.flush();
            }
        }
        return 0;
    }
}
