package osprey4j.core.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Function;

/**
 * A whole file mapped read-only into a shared arena. Closing unmaps it. All reads go through
 * bounds-checked helpers that turn a bad offset into a {@link CheckpointException} naming the file.
 */
final class MappedFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;

    private MappedFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
    }

    static MappedFile map(Path path) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size == 0) {
                throw new CheckpointException(path + ": the file is empty");
            }
            Arena arena = Arena.ofShared();
            try {
                return new MappedFile(path, arena, channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena));
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot read the file (" + e.getMessage() + ")", e);
        }
    }

    /** Maps {@code path} and reads it with {@code parser}; the mapping is released if the parser throws. */
    static <T> T mapAndParse(Path path, Function<MappedFile, T> parser) {
        MappedFile file = map(path);
        try {
            return parser.apply(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    Path path() {
        return path;
    }

    long size() {
        return segment.byteSize();
    }

    MemorySegment segment() {
        return segment;
    }

    /** Bytes [offset, offset + length), checked to lie inside the file; {@code what} names them in the error. */
    MemorySegment slice(long offset, long length, String what) {
        if (offset < 0 || length < 0 || offset > size() || length > size() - offset) {
            throw new CheckpointException(path + ": " + what + " (bytes " + offset + ".." + (offset + length)
                    + ") lies outside the file of " + size() + " bytes");
        }
        return segment.asSlice(offset, length);
    }

    byte[] bytes(long offset, int length, String what) {
        return slice(offset, length, what).toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public void close() {
        arena.close();
    }
}
