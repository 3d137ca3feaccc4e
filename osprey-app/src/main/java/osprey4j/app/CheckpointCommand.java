package osprey4j.app;

import picocli.CommandLine.Command;

/** {@code osprey checkpoint ...}: look inside checkpoint files. */
@Command(name = "checkpoint", mixinStandardHelpOptions = true,
        description = "Inspect checkpoint files (safetensors, PyTorch .bin/.pt, sharded directories).",
        subcommands = {})
final class CheckpointCommand {
}
