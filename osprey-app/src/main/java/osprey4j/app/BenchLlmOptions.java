package osprey4j.app;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** The options {@code osprey bench decode} and {@code osprey bench prefill} share. */
final class BenchLlmOptions {
    @Option(names = "--types", split = ",", paramLabel = "TYPE",
            description = "Weight types to time: bf16, q8_0, q4_0 (default: all three).")
    List<String> types = List.of("bf16", "q8_0", "q4_0");

    @Option(names = "--layers", paramLabel = "N",
            description = "Decoder layers (default 32, LLaMA-7B's; fewer for quick runs).")
    int layers = 32;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for both sides (default: the compute pool's, i.e. all cores or -Dosprey.threads).")
    Integer threads;

    @Option(names = "--reps", paramLabel = "N", description = "Timed repetitions per type (default 3).")
    int reps = 3;

    @Option(names = "--work", paramLabel = "DIR",
            description = "Where the random model, its quantised copies and the peer's GGUF files are kept and reused"
                    + " (default: osprey-bench-llm in the temporary directory). LLaMA-7B needs about 50 GB with the peer.")
    Path work = Path.of(System.getProperty("java.io.tmpdir"), "osprey-bench-llm");

    @Option(names = "--llama-cpp", paramLabel = "DIR",
            description = "A llama.cpp source tree built with cmake (build/bin/llama-bench, llama-quantize): its"
                    + " convert_hf_to_gguf.py converts the same weights and llama-bench times them in the same run.")
    Path llamaCpp;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON to FILE.")
    Path json;

    @Option(names = "--python", hidden = true, paramLabel = "PATH",
            description = "Python for llama.cpp's converter (default /usr/bin/python3).")
    String python = "/usr/bin/python3";

    @Option(names = "--bandwidth-mb", hidden = true, paramLabel = "MB",
            description = "Size of the bandwidth buffer in MiB (default 1024).")
    int bandwidthMb = 1024;

    @Option(names = "--warmup-s", hidden = true, paramLabel = "S",
            description = "Untimed warm-up per type: runs are repeated until S seconds have passed (default 3).")
    double warmupSeconds = 3;

    // A smaller model than LLaMA-7B, for tests.
    @Option(names = "--hidden", hidden = true, paramLabel = "N", description = "hidden_size (default 4096).")
    int hidden = 4096;

    @Option(names = "--heads", hidden = true, paramLabel = "N", description = "Attention heads (default 32).")
    int heads = 32;

    @Option(names = "--intermediate", hidden = true, paramLabel = "N", description = "MLP width (default 11008).")
    int intermediate = 11008;

    @Option(names = "--vocab", hidden = true, paramLabel = "N", description = "Vocabulary size (default 32000).")
    int vocab = 32000;
}
