package osprey4j.app;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code osprey bench decode}: tokens/s of one-token steps of the LLaMA decoder, next to llama.cpp's tg. */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = {
                "Tokens/s of osprey4j's LLaMA decoder generating --tokens tokens one at a time after a short prompt"
                        + " (llama-bench's tg test), on a LLaMA-7B-shaped model with random weights (hidden 4096,"
                        + " 32 layers, 32 heads, MLP 11008, vocab 32000) in BF16, Q8_0 and Q4_0.",
                "The model is written once in the Hugging Face layout under --work (streamed, tensor by tensor) and"
                        + " reused. Prints each type's weight bytes per token and their rate as a fraction of the memory"
                        + " bandwidth measured in the same run (%%roof). With --llama-cpp DIR, llama.cpp converts the"
                        + " same weights with its own converter and llama-bench times them with the same threads in"
                        + " the same run."
        })
final class BenchDecodeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    BenchLlmOptions options;

    @Option(names = "--tokens", paramLabel = "N", description = "Generated tokens timed per repetition (default 128).")
    int tokens = 128;

    @Override
    public Integer call() throws Exception {
        return new BenchLlm(options, BenchLlm.Mode.DECODE, tokens, spec.commandLine().getOut(),
                spec.commandLine().getErr()).run();
    }
}
