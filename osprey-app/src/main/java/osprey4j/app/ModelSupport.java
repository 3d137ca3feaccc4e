package osprey4j.app;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import osprey4j.model.image.RgbImage;
import osprey4j.service.InvalidRequestException;
import osprey4j.service.OspreyService;
import osprey4j.service.Timings;
import picocli.CommandLine;

/** What the model commands share: loading the service and the image, warnings, JSON of answers. */
final class ModelSupport {
    private ModelSupport() {
    }

    /** Loads the model behind the service, printing its warnings as "osprey CMD: warning: ..." lines on stderr. */
    static OspreyService loadService(Path dir, CommandLine cl) {
        checkModelDirectory(dir);
        return OspreyService.load(dir, warner(cl));
    }

    private static void checkModelDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new UsageException("model directory not found: " + dir);
        }
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new UsageException(dir + " has no config.json (expected an Osprey checkpoint in the Hugging Face"
                    + " layout)");
        }
    }

    /** A sink for warnings: one line each on the command's stderr. */
    static java.util.function.Consumer<String> warner(CommandLine cl) {
        PrintWriter err = cl.getErr();
        String prefix = OneLineErrors.prefix(cl) + "warning: ";
        return w -> {
            err.println(prefix + w.replace('\n', ' '));
            err.flush();
        };
    }

    static RgbImage readImage(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException("image file not found: " + file);
        }
        try {
            return RgbImage.read(file);
        } catch (Exception e) {
            throw new UsageException("cannot read image " + file + ": " + OneLineErrors.message(e));
        }
    }

    /** An IllegalArgumentException about the caller's input (a request's own check of its question) as a usage error. */
    static <T> T asUsage(java.util.function.Supplier<T> work) {
        try {
            return work.get();
        } catch (IllegalArgumentException e) {
            throw new UsageException(OneLineErrors.message(e));
        }
    }

    /** A service call, with what the request got wrong ({@link InvalidRequestException}) as a usage error. */
    static <T> T serviceCall(java.util.function.Supplier<T> work) {
        try {
            return work.get();
        } catch (InvalidRequestException e) {
            throw new UsageException(OneLineErrors.message(e));
        }
    }

    static ArrayNode ids(int[] ids) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (int id : ids) {
            a.add(id);
        }
        return a;
    }

    static ObjectNode timings(Timings t, double loadMs) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        if (loadMs >= 0) {
            o.put("load_ms", round(loadMs));
        }
        o.put("encode_ms", round(t.encodeMs()));
        o.put("regions_ms", round(t.regionsMs()));
        o.put("prefill_ms", round(t.prefillMs()));
        o.put("reused_prompt_tokens", t.reusedPromptTokens());
        o.put("decode_ms", round(t.decodeMs()));
        o.put("generated_tokens", t.generatedTokens());
        o.put("decode_tokens_per_s", round(t.decodeTokensPerSecond()));
        return o;
    }

    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
