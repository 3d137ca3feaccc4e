package osprey4j.app;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import osprey4j.core.mask.Mask;
import osprey4j.model.GenerationOptions;
import osprey4j.model.TokenListener;
import osprey4j.model.image.RgbImage;
import osprey4j.service.AskRequest;
import osprey4j.service.AskResult;
import osprey4j.service.OspreyService;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code osprey ask}: one answer about regions of an image. */
@Command(name = "ask", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Answers a question about regions of an image, streaming the answer as it is generated.",
                "<region1>, <region2>... in the question refer to the regions in the order given (raw <mask><pos>"
                        + " is also accepted, one per region in order). The question follows the reference's"
                        + " image preamble (\"<image>\\nThis provides an overview of the picture.\\n\") unless it"
                        + " contains <image>; then it is the whole user message, verbatim.",
                "models/demo is a small model of a synthetic world (simple objects with parts and colours on"
                        + " plain backgrounds, 128x128 pixels), trained by osprey4j from scratch: it answers about"
                        + " scenes like those of 'osprey data world', not about real photos. For real images point"
                        + " --model at the official Osprey-7B directory (config.json, the weights, tokenizer.model"
                        + " and the ConvNeXt CLIP file named by mm_vision_tower)."})
final class AskCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelAndImageOptions input;

    @ArgGroup(exclusive = true, multiplicity = "1..*", heading = "Regions (one or more, in order):%n")
    List<RegionInputs.Region> regions;

    @Option(names = "--question", required = true, paramLabel = "TEXT",
            description = "The question, with <region1>, <region2>...")
    String question;

    @Option(names = "--sam", paramLabel = "CKPT", description = "SAM checkpoint (sam_vit_b_01ec64.pth or a safetensors"
            + " copy): --point and --box regions become SAM's mask of the object.")
    Path sam;

    @Mixin
    GenerationMixin generation;

    @Option(names = "--json", description = "Print {\"text\", \"tokens\", \"prompt_tokens\", \"timings\"} as JSON"
            + " instead of streaming the text.")
    boolean json;

    @Override
    public Integer call() {
        GenerationOptions options = generation.options(spec.commandLine().getParseResult());
        long t0 = System.nanoTime();
        RgbImage img = ModelSupport.readImage(input.image);
        List<Mask> masks = RegionInputs.masks(regions, input.image, img, sam);
        // The request checks the question's region references before the (slow) model load.
        AskRequest request = ModelSupport.asUsage(() -> new AskRequest(input.image.toString(), masks, question,
                options));
        PrintWriter out = spec.commandLine().getOut();
        try (OspreyService service = ModelSupport.loadService(input.model, spec.commandLine())) {
            double loadMs = (System.nanoTime() - t0) / 1e6;
            TokenListener listener = json ? TokenListener.NONE : (id, text) -> {
                if (!text.isEmpty()) {
                    out.print(text);
                    out.flush();
                }
            };
            AskResult answer = ModelSupport.serviceCall(() -> service.ask(img, request, listener,
                    ModelSupport.warner(spec.commandLine())));
            if (json) {
                ObjectNode root = JsonNodeFactory.instance.objectNode();
                root.put("text", answer.text());
                root.set("tokens", ModelSupport.ids(answer.tokens()));
                root.put("prompt_tokens", answer.promptTokens());
                root.set("timings", ModelSupport.timings(answer.timings(), loadMs));
                out.println(root);
            } else {
                out.println();
            }
            out.flush();
        }
        return 0;
    }
}
