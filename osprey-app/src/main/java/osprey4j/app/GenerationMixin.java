package osprey4j.app;

import osprey4j.model.GenerationOptions;
import picocli.CommandLine.Option;

/**
 * The generation options shared by {@code ask} and {@code describe}. Without any, answers are sampled as the
 * reference's demo samples them ({@link GenerationOptions#reference()}: temperature 0.2, transformers' default
 * top-k 50, up to 1024 new tokens), with seed 0 so a run can be repeated.
 */
final class GenerationMixin {
    @Option(names = "--greedy", description = "Take the most likely token at every step (deterministic).")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T",
            description = "Sampling temperature (default: ${DEFAULT-VALUE}, the reference demo's).",
            defaultValue = "" + GenerationOptions.REFERENCE_TEMPERATURE)
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling mass in (0, 1] (default: "
            + "${DEFAULT-VALUE}: off).", defaultValue = "" + GenerationOptions.REFERENCE_TOP_P)
    float topP;

    @Option(names = "--top-k", paramLabel = "K", description = "Sample among the K most likely tokens, 0 = all "
            + "(default: ${DEFAULT-VALUE}, transformers' default).", defaultValue = "" + GenerationOptions.REFERENCE_TOP_K)
    int topK;

    @Option(names = "--seed", paramLabel = "S", description = "Sampling seed (default: ${DEFAULT-VALUE}).",
            defaultValue = "" + GenerationOptions.DEFAULT_SEED)
    long seed;

    @Option(names = "--max-new-tokens", paramLabel = "N",
            description = "Stop after N generated tokens (default: ${DEFAULT-VALUE}, the reference's).",
            defaultValue = "" + GenerationOptions.REFERENCE_MAX_NEW_TOKENS)
    int maxNewTokens;

    /** The options, checked; sampling options together with --greedy are a usage error. */
    GenerationOptions options(picocli.CommandLine.ParseResult parsed) {
        if (greedy) {
            for (String sampling : new String[] {"--temperature", "--top-p", "--top-k", "--seed"}) {
                if (parsed.hasMatchedOption(sampling)) {
                    throw new UsageException("--greedy and " + sampling + " cannot be combined (greedy decoding"
                            + " does not sample)");
                }
            }
        }
        try {
            return new GenerationOptions(greedy, temperature, topP, topK, seed, maxNewTokens);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
