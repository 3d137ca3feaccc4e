package osprey4j.app;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import osprey4j.core.mask.Mask;
import osprey4j.model.image.RgbImage;
import osprey4j.service.InspectRequest;
import osprey4j.service.InspectResult;
import osprey4j.service.OspreyService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code osprey inspect}: the intermediate tensors of one question, for comparison with the reference. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Runs one question up to the first generated position and writes the intermediate tensors to a"
                        + " safetensors file, named as in the reference parity dumps:",
                "  pixel_values [3,S,S], stem, res2..res5 [C,H,W], image_tokens [N,D], mask_tokens and pos_tokens"
                        + " [regions,D], input_ids (I64, -200 = image), inputs_embeds [L,D], logits [vocab]"
                        + " (first generated position). All floats F32."})
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelAndImageOptions input;

    @Option(names = "--mask", required = true, paramLabel = "PNG", arity = "1..*",
            description = "Region masks in order (<region1> is the first), of the image's size.")
    List<Path> masks;

    @Option(names = "--question", required = true, paramLabel = "TEXT",
            description = "The question, with <region1>, <region2>... (as for 'osprey ask').")
    String question;

    @Option(names = "--dump", required = true, paramLabel = "OUT.safetensors", description = "Where to write.")
    Path dump;

    @Option(names = "--json", description = "Print the written tensors' names, dtypes and shapes as JSON.")
    boolean json;

    @Override
    public Integer call() {
        Path target = dump.toAbsolutePath();
        if (target.getParent() == null || !Files.isDirectory(target.getParent())) {
            throw new UsageException("output directory not found: " + target.getParent());
        }
        RgbImage img = ModelSupport.readImage(input.image);
        List<Mask> regionMasks = new ArrayList<>();
        for (int i = 0; i < masks.size(); i++) {
            regionMasks.add(RegionInputs.readPng(masks.get(i), i + 1, img.width(), img.height()));
        }
        InspectRequest request = ModelSupport.asUsage(() -> new InspectRequest(input.image.toString(), regionMasks,
                masks.stream().map(Path::toString).toList(), question, dump.toString()));

        InspectResult result;
        try (OspreyService service = ModelSupport.loadService(input.model, spec.commandLine())) {
            result = ModelSupport.serviceCall(() -> service.inspect(img, request, ModelSupport.warner(spec.commandLine())));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode root = JsonNodeFactory.instance.objectNode();
            root.put("dump", dump.toString());
            ObjectNode list = root.putObject("tensors");
            result.tensors().forEach((name, t) -> {
                ObjectNode o = list.putObject(name);
                o.put("dtype", t.dtype());
                ArrayNode shape = o.putArray("shape");
                t.shape().forEach(shape::add);
            });
            out.println(root);
        } else {
            out.println("wrote " + dump + ": " + String.join(", ", result.tensors().keySet()));
        }
        out.flush();
        return 0;
    }
}
