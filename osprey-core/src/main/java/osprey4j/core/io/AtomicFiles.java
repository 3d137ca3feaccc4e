package osprey4j.core.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Output that appears whole or not at all: files are written beside their target under a temporary name and
 * renamed into place at the end, so a crash or an error leaves either the old file or the complete new one, and
 * never a half-written one. Temporary files are created with the usual permissions (unlike
 * {@link Files#createTempFile}, whose owner-only mode would carry over to the output).
 */
public final class AtomicFiles {
    private static final AtomicLong COUNTER = new AtomicLong();

    /** Writes the file at the path it is given (which does not exist yet). */
    @FunctionalInterface
    public interface Body {
        void write(Path file) throws IOException;
    }

    private AtomicFiles() {
    }

    /** A name in the target's folder that no other writer (thread or process) uses: {@code .NAME.PID-N.part}. */
    public static Path temporarySibling(Path target) {
        Path abs = target.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + "." + ProcessHandle.current().pid() + "-"
                + COUNTER.incrementAndGet() + ".part");
    }

    /** Renames {@code tmp} over {@code target}, atomically where the file system can. */
    public static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Publishes a directory written under a temporary name as {@code target}: given the permissions of a normal
     * directory (a temporary directory is created for its owner only, where the file system has POSIX permissions)
     * and renamed into place, atomically where the file system can. {@code target} must be absent or an empty
     * directory, which is replaced.
     */
    public static void publishDirectory(Path tmp, Path target) throws IOException {
        if (Files.isDirectory(target)) {
            Files.delete(target); // fails unless empty
        }
        try {
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the temporary directory's permissions stay
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target);
        }
    }

    /**
     * Writes {@code target} through {@code body} into a temporary sibling that is renamed into place once the
     * body returns; if anything fails, the temporary file is removed and {@code target} is left as it was.
     */
    public static void write(Path target, Body body) throws IOException {
        Path tmp = temporarySibling(target);
        boolean moved = false;
        try {
            body.write(tmp);
            moveIntoPlace(tmp, target.toAbsolutePath());
            moved = true;
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original failure is the one worth reporting
                }
            }
        }
    }
}
