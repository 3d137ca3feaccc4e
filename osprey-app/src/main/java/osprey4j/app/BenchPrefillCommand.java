package osprey4j.app;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code osprey bench prefill}: tokens/s of a prompt run in one step by the LLaMA decoder, next to llama.cpp's pp. */
@Command(name = "prefill", mixinStandardHelpOptions = true,
        description = {
                "Tokens/s of osprey4j's LLaMA decoder running a --prompt-token prompt in one step (llama-bench's pp"
                        + " test), on a LLaMA-7B-shaped model with random weights (hidden 4096, 32 layers, 32 heads,"
                        + " MLP 11008, vocab 32000) in BF16, Q8_0 and Q4_0.",
                "The model is written once in the Hugging Face layout under --work (streamed, tensor by tensor) and"
                        + " reused. Prints GFLOP/s and their fraction of the F32 FMA peak measured in the same run."
                        + " With --llama-cpp DIR, llama.cpp converts the same weights with its own converter and"
                        + " llama-bench times them with the same threads in the same run."
        })
final class BenchPrefillCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    BenchLlmOptions options;

    @Option(names = "--prompt", paramLabel = "N", description = "Prompt tokens (default 512).")
    int prompt = 512;

    @Override
    public Integer call() throws Exception {
        return new BenchLlm(options, BenchLlm.Mode.PREFILL, prompt, spec.commandLine().getOut(),
                spec.commandLine().getErr()).run();
    }
}
