package osprey4j.app;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --model DIR --image IMG} pair every model command takes (a picocli mixin). */
final class ModelAndImageOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Osprey checkpoint directory: models/demo (a small model of a synthetic world) or the official Osprey-7B.")
    Path model;

    @Option(names = "--image", required = true, paramLabel = "IMG", description = "The image (PNG, JPEG...).")
    Path image;
}
