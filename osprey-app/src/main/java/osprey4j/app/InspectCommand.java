package osprey4j.app;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import osprey4j.core.io.SafetensorsWriter;
import osprey4j.core.prompt.ChatTemplate;
import osprey4j.core.prompt.QuestionPrompt;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.data.mask.Mask;
import osprey4j.model.ImageSession;
import osprey4j.model.Osprey;
import osprey4j.model.image.RgbImage;
import osprey4j.model.vision.ConvNextTower;
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
        List<Tensor> maskTensors = ModelSupport.tensors(regionMasks);
        ModelSupport.asUsage(() -> QuestionPrompt.of(ChatTemplate.OSPREY_V1, question, maskTensors.size()));

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (ModelSupport.Restore logs = ModelSupport.routeComponentWarnings(spec.commandLine());
             Osprey osprey = ModelSupport.loadModel(input.model, spec.commandLine())) {
            ImageSession session = osprey.encode(img);
            Osprey.PreparedPrompt prompt = ModelSupport.asUsage(() -> osprey.prepare(session, maskTensors, question));
            float[] logits = osprey.firstLogits(prompt);

            ConvNextTower.Features f = session.features();
            tensors.put("pixel_values", session.pixelValues());
            tensors.put("stem", f.stem());
            tensors.put("res2", f.res2());
            tensors.put("res3", f.res3());
            tensors.put("res4", f.res4());
            tensors.put("res5", f.res5());
            tensors.put("image_tokens", session.imageTokens());
            tensors.put("mask_tokens", prompt.maskTokens());
            tensors.put("pos_tokens", prompt.posTokens());
            tensors.put("input_ids", longs(prompt.inputIds()));
            tensors.put("inputs_embeds", prompt.embeddings());
            tensors.put("logits", Tensor.copyOf(logits, logits.length));
            tensors.replaceAll((name, t) -> t.dtype() == DType.F32 || t.dtype() == DType.I64 ? t : t.to(DType.F32));

            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("image", input.image.toString());
            metadata.put("masks", String.join(",", masks.stream().map(Path::toString).toList()));
            metadata.put("question", question);
            metadata.put("prompt", prompt.prompt());
            metadata.put("model", input.model.toString());
            SafetensorsWriter.write(dump, tensors, metadata);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode root = JsonNodeFactory.instance.objectNode();
            root.put("dump", dump.toString());
            ObjectNode list = root.putObject("tensors");
            tensors.forEach((name, t) -> {
                ObjectNode o = list.putObject(name);
                o.put("dtype", t.dtype().name());
                ArrayNode shape = o.putArray("shape");
                for (long d : t.shape()) {
                    shape.add(d);
                }
            });
            out.println(root);
        } else {
            out.println("wrote " + dump + ": " + String.join(", ", tensors.keySet()));
        }
        out.flush();
        return 0;
    }

    private static Tensor longs(int[] ids) {
        Tensor t = Tensor.zeros(DType.I64, ids.length);
        for (int i = 0; i < ids.length; i++) {
            t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, ids[i]);
        }
        return t;
    }
}
