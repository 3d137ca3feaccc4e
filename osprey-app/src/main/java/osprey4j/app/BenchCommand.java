package osprey4j.app;

import picocli.CommandLine.Command;

/** {@code osprey bench ...}: performance figures for the hot paths, next to a peer's. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks of the hot paths, printed next to a peer measured in the same run.",
        subcommands = {BenchGemmCommand.class, BenchVisionCommand.class, BenchSamCommand.class,
                BenchTrainCommand.class, BenchServeCommand.class,
                BenchDecodeCommand.class, BenchPrefillCommand.class, BenchE2eCommand.class})
final class BenchCommand {
}
