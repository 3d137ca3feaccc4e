package osprey4j.core.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Deleting a directory tree: the temporary and work directories that commands and jobs leave behind. */
public final class FileTrees {
    private FileTrees() {
    }

    /** Deletes {@code root} and everything below it (children first); nothing happens if it does not exist. */
    public static void delete(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** {@link #delete}, failing with an {@link UncheckedIOException}. */
    public static void deleteUnchecked(Path root) {
        try {
            delete(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@link #delete} as far as it goes: for temporary files whose leftovers are not worth failing over. */
    public static void deleteQuietly(Path root) {
        try {
            delete(root);
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: a leftover temporary directory is named as one
        }
    }
}
