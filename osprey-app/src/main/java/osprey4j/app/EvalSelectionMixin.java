package osprey4j.app;

import osprey4j.eval.runner.Shard;
import osprey4j.model.GenerationOptions;
import picocli.CommandLine.Option;

/**
 * What every paper evaluation takes, on one machine ({@code osprey eval lvis|paco|pope|refcocog|ferret|description|
 * ovseg}) and on Spark ({@code osprey spark eval ...}): which samples to ask, and how answers are decoded. Checked
 * here once, before any model is loaded.
 */
final class EvalSelectionMixin {
    @Option(names = "--limit", defaultValue = "0", paramLabel = "N",
            description = "only the first N samples (ovseg: images) (default 0: all)")
    int limit;

    @Option(names = "--shard", defaultValue = "0/1", paramLabel = "i/n",
            description = "only the images at positions i mod n (default 0/1: all); run n of them into n folders to "
                    + "split the work")
    String shard;

    @Option(names = "--greedy", description = "greedy decoding instead of the reference's sampling")
    boolean greedy;

    @Option(names = "--seed", paramLabel = "S",
            description = "sampling seed (default 0); the reference samples at temperature 0.2, top-k 50")
    Long seed;

    @Option(names = "--max-new-tokens", defaultValue = "1024", paramLabel = "N",
            description = "upper bound on an answer's tokens (default 1024, the reference's)")
    int maxNewTokens;

    /**
     * Refuses a bad selection or decoding in one line; returns {@code --shard}, parsed.
     *
     * @param otherSeeds whether the command was also given seeds another way ({@code --seeds}), which
     *                   {@code --greedy} excludes too
     */
    Shard check(boolean otherSeeds) {
        if (limit < 0) {
            throw new UsageException("--limit must be 0 (all) or positive, got " + limit);
        }
        if (maxNewTokens < 1) {
            throw new UsageException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        }
        if (greedy && (seed != null || otherSeeds)) {
            throw new UsageException("--greedy takes no seed: give either --greedy or a seed");
        }
        return ModelSupport.asUsage(() -> Shard.parse(shard));
    }

    /** Greedy, or the reference's sampling with {@code --seed} (default {@link GenerationOptions#DEFAULT_SEED}). */
    GenerationOptions decoding() {
        return greedy ? GenerationOptions.greedy(maxNewTokens)
                : GenerationOptions.reference().withSeed(seed == null ? GenerationOptions.DEFAULT_SEED : seed)
                .withMaxNewTokens(maxNewTokens);
    }
}
