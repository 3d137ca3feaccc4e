package osprey4j.eval.runner;

import java.nio.file.Path;
import osprey4j.eval.bench.PaperEval;
import osprey4j.model.GenerationOptions;

/** A POPE run slow enough to be killed mid-way: {@code KillableRun DATA IMAGES OUT}. Used by {@link KillResumeTest}. */
public final class KillableRun {
    private KillableRun() {
    }

    public static void main(String[] args) throws Exception {
        ScriptedAsker asker = new ScriptedAsker(q -> q.contains("thing1 ") ? "No." : "Yes, there is.", -1, 40);
        PaperEval.POPE.run(Path.of(args[0]), Path.of(args[1]), new EvalRun.Options("pope", Path.of(args[2]), 0,
                Shard.ALL, GenerationOptions.reference().withSeed(5), null), asker);
    }
}
