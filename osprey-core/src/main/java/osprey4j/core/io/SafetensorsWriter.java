package osprey4j.core.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Writes safetensors files the way the reference library lays them out: the JSON header padded with spaces
 * so the data section starts 8-byte aligned, tensors ordered by element size (largest first) then by name,
 * so every tensor's data is aligned to its element size. A file with block-quantised tensors (Q8_0, Q4_0)
 * records each such type's layout in its {@code __metadata__} ({@link DType#blockLayoutKey()} to
 * {@link DType#blockLayout()}), which {@link Checkpoints#open} requires of such files.
 *
 * <p>The file appears atomically: data goes to a temporary file in the same directory, which is flushed and
 * then renamed over the target. A failure leaves the target untouched and no temporary file behind.
 */
public final class SafetensorsWriter {
    private static final long CHUNK = 1L << 24;

    private SafetensorsWriter() {
    }

    public static void write(Path path, Map<String, Tensor> tensors) {
        write(path, tensors, Map.of());
    }

    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, Deferred> deferred = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = Objects.requireNonNull(e.getValue(), e.getKey());
            deferred.put(e.getKey(), new Deferred(t.dtype(), t.shape(), arena -> t));
        }
        writeDeferred(path, deferred, metadata);
    }

    /**
     * A tensor known by its dtype and shape up front and made only when its turn to be written comes, in an arena
     * that is closed right after: a writer of quantised weights thus holds one converted tensor at a time, not all.
     *
     * @param make makes the tensor (exactly {@code dtype} and {@code shape}), allocating in the given arena if it
     *             allocates at all
     */
    public record Deferred(DType dtype, long[] shape, java.util.function.Function<Arena, Tensor> make) {
        public Deferred {
            Objects.requireNonNull(dtype, "dtype");
            shape = shape.clone();
            Objects.requireNonNull(make, "make");
        }

        long byteSize() {
            return Tensor.byteSize(dtype, shape);
        }
    }

    /** As {@link #write(Path, Map, Map)}, each tensor made when it is written (see {@link Deferred}). */
    public static void writeDeferred(Path path, Map<String, Deferred> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(path, "path");
        List<Map.Entry<String, Deferred>> ordered = new ArrayList<>(tensors.entrySet());
        for (Map.Entry<String, Deferred> e : ordered) {
            if (e.getKey() == null || e.getKey().isEmpty() || e.getKey().equals(SafetensorsCheckpoint.METADATA_KEY)) {
                throw new IllegalArgumentException("invalid tensor name '" + e.getKey() + "'");
            }
            Objects.requireNonNull(e.getValue(), e.getKey());
        }
        ordered.sort(Comparator.<Map.Entry<String, Deferred>>comparingInt(e -> -e.getValue().dtype().alignment())
                .thenComparing(Map.Entry::getKey));
        byte[] header = header(ordered, withBlockLayouts(ordered, metadata == null ? Map.of() : metadata));

        try {
            AtomicFiles.write(path, tmp -> {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                    writeFully(ch, length);
                    writeFully(ch, ByteBuffer.wrap(header));
                    for (Map.Entry<String, Deferred> e : ordered) {
                        Deferred d = e.getValue();
                        try (Arena arena = Arena.ofConfined()) {
                            Tensor t = d.make().apply(arena);
                            if (t.dtype() != d.dtype() || !java.util.Arrays.equals(t.shape(), d.shape())) {
                                throw new IllegalStateException("tensor '" + e.getKey() + "' was announced as "
                                        + d.dtype() + " " + java.util.Arrays.toString(d.shape()) + " but made as " + t);
                            }
                            writeSegment(ch, t.segment());
                        }
                    }
                    ch.force(true);
                }
            });
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot write the safetensors file (" + e + ")", e);
        }
    }

    /** The metadata plus the layout of every block-quantised type among the tensors. */
    private static Map<String, String> withBlockLayouts(List<Map.Entry<String, Deferred>> tensors,
                                                        Map<String, String> metadata) {
        Map<String, String> all = new LinkedHashMap<>(metadata);
        for (Map.Entry<String, Deferred> e : tensors) {
            DType d = e.getValue().dtype();
            if (d.isBlockQuantized()) {
                String given = all.putIfAbsent(d.blockLayoutKey(), d.blockLayout());
                if (given != null && !given.equals(d.blockLayout())) {
                    throw new IllegalArgumentException("metadata '" + d.blockLayoutKey() + "' is '" + given
                            + "' but this writer stores " + d + " as '" + d.blockLayout() + "'");
                }
            }
        }
        return all;
    }

    private static byte[] header(List<Map.Entry<String, Deferred>> ordered, Map<String, String> metadata) {
        ObjectNode root = SafetensorsCheckpoint.JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsCheckpoint.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Deferred> e : ordered) {
            Deferred t = e.getValue();
            ObjectNode entry = root.putObject(e.getKey());
            entry.put("dtype", t.dtype().safetensorsName());
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            ArrayNode offsets = entry.putArray("data_offsets");
            offsets.add(offset);
            offset += t.byteSize();
            offsets.add(offset);
        }
        byte[] json;
        try {
            json = SafetensorsCheckpoint.JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    /** Native segments are written in place; array-backed ones (Tensor.wrap) through a staging buffer. */
    private static void writeSegment(FileChannel ch, MemorySegment data) throws IOException {
        ByteBuffer staging = data.isNative() ? null : ByteBuffer.allocateDirect((int) Math.min(CHUNK, data.byteSize()));
        for (long off = 0; off < data.byteSize(); off += CHUNK) {
            MemorySegment part = data.asSlice(off, Math.min(CHUNK, data.byteSize() - off));
            if (staging == null) {
                writeFully(ch, part.asByteBuffer());
            } else {
                staging.clear().limit((int) part.byteSize());
                MemorySegment.ofBuffer(staging).copyFrom(part);
                writeFully(ch, staging);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            ch.write(buffer);
        }
    }
}
