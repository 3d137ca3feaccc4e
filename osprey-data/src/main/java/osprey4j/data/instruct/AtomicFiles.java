package osprey4j.data.instruct;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/** Names for files written beside their target and renamed into place (created with the usual permissions). */
final class AtomicFiles {
    private static final AtomicLong COUNTER = new AtomicLong();

    private AtomicFiles() {
    }

    /** A name in the target's folder that no other writer (thread or process) uses: {@code .NAME.PID-N.part}. */
    static Path temporarySibling(Path target) {
        Path abs = target.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + "." + ProcessHandle.current().pid() + "-"
                + COUNTER.incrementAndGet() + ".part");
    }
}
