package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import osprey4j.core.tensor.DType;
import osprey4j.service.InvalidRequestException;
import osprey4j.service.QuantizeModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code osprey quantize}: a copy of a model directory with the LLM's linear layers in Q8_0 or Q4_0. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Write a complete model directory whose LLM linear weights (q/k/v/o and gate/up/down "
                + "projections of every layer, and lm_head with --head) are block-quantised with GGML's layouts: "
                + "q8_0 (32 int8 weights and an f16 scale per block, 8.5 bits a weight) or q4_0 (32 4-bit weights "
                + "and an f16 scale, 4.5 bits a weight). Embeddings, norms, the vision tower, the mask extractor and "
                + "the projector are copied unchanged (so is a linear weight whose rows are not a multiple of 32 values), as are config, tokenizer and the CLIP weights file. The "
                + "weights go to OUT/model.safetensors, which records the block layout in its metadata; every "
                + "command that takes --model loads the result."})
final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The model directory to quantise "
            + "(F32, BF16 or F16 weights).")
    Path model;

    @Option(names = "--type", required = true, paramLabel = "q8_0|q4_0", description = "The block type.")
    String type;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The new model directory (must not "
            + "exist, or be empty).")
    Path out;

    @Option(names = "--head", description = "Quantise lm_head.weight too (by default it keeps its type, as "
            + "llama.cpp's q4_0 keeps its output layer at higher precision).")
    boolean head;

    @Option(names = "--json", description = "Print {\"out\", \"type\", \"quantized\", \"kept\", \"source_bytes\", "
            + "\"out_bytes\", \"copied\", \"not_block_aligned\"} as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        DType t = switch (type.toLowerCase(Locale.ROOT)) {
            case "q8_0" -> DType.Q8_0;
            case "q4_0" -> DType.Q4_0;
            default -> throw new UsageException("--type must be q8_0 or q4_0, got '" + type + "'");
        };
        QuantizeModel.Result r;
        try {
            r = QuantizeModel.run(model, t, head, out);
        } catch (InvalidRequestException e) {
            throw new UsageException(e.getMessage());
        }
        PrintWriter pw = spec.commandLine().getOut();
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode root = mapper.createObjectNode();
            root.put("out", r.out().toString());
            root.put("type", r.type().name().toLowerCase(Locale.ROOT));
            root.put("quantized", r.quantized());
            root.put("kept", r.kept());
            root.put("source_bytes", r.sourceBytes());
            root.put("out_bytes", r.outBytes());
            r.copied().forEach(root.putArray("copied")::add);
            r.notBlockAligned().forEach(root.putArray("not_block_aligned")::add);
            pw.println(mapper.writeValueAsString(root));
        } else {
            pw.printf(Locale.ROOT, "%s: %d tensors quantised to %s, %d kept; weights %.1f MB -> %.1f MB; copied %s%n",
                    r.out(), r.quantized(), r.type(), r.kept(), r.sourceBytes() / 1e6, r.outBytes() / 1e6,
                    String.join(", ", r.copied()));
            if (!r.notBlockAligned().isEmpty()) {
                pw.println("kept in their type (rows not a multiple of 32 values): "
                        + String.join(", ", r.notBlockAligned()));
            }
        }
        pw.flush();
        return 0;
    }
}
