package osprey4j.core.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The central directory of a zip file that is already mapped, parsed by hand so that entry data can be
 * viewed in place (torch stores tensor data uncompressed). Handles ZIP64 end records and extra fields, which
 * torch writes for multi-gigabyte files. Every offset and size read from the file is checked against the
 * file before use.
 */
final class ZipDirectory {
    private static final int LOCAL_HEADER = 0x04034b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int END_OF_DIRECTORY = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_END_OF_DIRECTORY = 0x06064b50;
    private static final int END_SIZE = 22;
    private static final int CENTRAL_SIZE = 46;
    private static final int LOCAL_SIZE = 30;
    private static final long U32 = 0xFFFF_FFFFL;

    /** One entry as the central directory describes it; {@code method} 0 is STORED, 8 is DEFLATE. */
    record Entry(String name, int method, long compressedSize, long size, long localHeaderOffset) {
    }

    private final MappedFile file;
    private final Map<String, Entry> entries;

    private ZipDirectory(MappedFile file, Map<String, Entry> entries) {
        this.file = file;
        this.entries = entries;
    }

    Map<String, Entry> entries() {
        return entries;
    }

    static ZipDirectory read(MappedFile file) {
        MemorySegment seg = file.segment();
        long size = file.size();
        long end = findEndOfDirectory(file);
        long count = u16(seg, end + 10);
        long cdSize = u32(seg, end + 12);
        long cdOffset = u32(seg, end + 16);
        if (count == 0xFFFF || cdSize == U32 || cdOffset == U32) {
            long locator = end - 20;
            if (locator < 0 || i32(seg, locator) != ZIP64_LOCATOR) {
                throw corrupt(file, "the zip directory needs ZIP64 records but has none");
            }
            long z64 = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, locator + 8);
            if (z64 < 0 || z64 > locator - 56 || i32(seg, z64) != ZIP64_END_OF_DIRECTORY) {
                throw corrupt(file, "bad ZIP64 end-of-directory record");
            }
            count = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, z64 + 32);
            cdSize = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, z64 + 40);
            cdOffset = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, z64 + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > size || cdSize > size - cdOffset) {
            throw corrupt(file, "the zip central directory (offset " + cdOffset + ", " + cdSize
                    + " bytes) lies outside the file");
        }
        if (count < 0 || count > cdSize / CENTRAL_SIZE) {
            throw corrupt(file, "the zip directory claims " + count + " entries in " + cdSize + " bytes");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        long p = cdOffset;
        long cdEnd = cdOffset + cdSize;
        for (long i = 0; i < count; i++) {
            if (p > cdEnd - CENTRAL_SIZE || i32(seg, p) != CENTRAL_HEADER) {
                throw corrupt(file, "zip central directory entry " + i + " is damaged");
            }
            int method = u16(seg, p + 10);
            long compressed = u32(seg, p + 20);
            long uncompressed = u32(seg, p + 24);
            int nameLength = u16(seg, p + 28);
            int extraLength = u16(seg, p + 30);
            int commentLength = u16(seg, p + 32);
            long localOffset = u32(seg, p + 42);
            long next = p + CENTRAL_SIZE + nameLength + extraLength + commentLength;
            if (next > cdEnd) {
                throw corrupt(file, "zip central directory entry " + i + " runs past the directory");
            }
            String name = new String(seg.asSlice(p + CENTRAL_SIZE, nameLength).toArray(ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
            // ZIP64: the 32-bit fields that overflowed are 0xFFFFFFFF and their values follow, in this order.
            long extra = p + CENTRAL_SIZE + nameLength;
            long extraEnd = extra + extraLength;
            while (extra + 4 <= extraEnd) {
                int id = u16(seg, extra);
                int length = u16(seg, extra + 2);
                long data = extra + 4;
                if (data + length > extraEnd) {
                    throw corrupt(file, "bad extra field in zip entry " + name);
                }
                if (id == 0x0001) {
                    long q = data;
                    if (uncompressed == U32) {
                        uncompressed = zip64Field(file, seg, q, data + length, name);
                        q += 8;
                    }
                    if (compressed == U32) {
                        compressed = zip64Field(file, seg, q, data + length, name);
                        q += 8;
                    }
                    if (localOffset == U32) {
                        localOffset = zip64Field(file, seg, q, data + length, name);
                    }
                }
                extra = data + length;
            }
            if (entries.putIfAbsent(name, new Entry(name, method, compressed, uncompressed, localOffset)) != null) {
                throw corrupt(file, "zip entry " + name + " appears twice");
            }
            p = next;
        }
        return new ZipDirectory(file, entries);
    }

    private static long zip64Field(MappedFile file, MemorySegment seg, long at, long limit, String name) {
        if (at + 8 > limit) {
            throw corrupt(file, "truncated ZIP64 field in zip entry " + name);
        }
        long v = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
        if (v < 0) {
            throw corrupt(file, "negative ZIP64 size in zip entry " + name);
        }
        return v;
    }

    /** The end-of-central-directory record: scanned for backwards over the last 64 KiB (the comment limit). */
    private static long findEndOfDirectory(MappedFile file) {
        MemorySegment seg = file.segment();
        long last = file.size() - END_SIZE;
        long first = Math.max(0, last - 0xFFFF);
        for (long p = last; p >= first; p--) {
            if (i32(seg, p) == END_OF_DIRECTORY && p + END_SIZE + u16(seg, p + 20) <= file.size()) {
                return p;
            }
        }
        throw corrupt(file, "no zip end-of-directory record (truncated or not a zip file)");
    }

    /**
     * Where the bytes of {@code entry} start: after its local header, whose name and extra lengths may differ
     * from the central directory's (torch pads the local extra field to align data to 64 bytes).
     */
    long dataOffset(Entry entry) {
        MemorySegment seg = file.segment();
        long local = entry.localHeaderOffset();
        if (local < 0 || local > file.size() - LOCAL_SIZE || i32(seg, local) != LOCAL_HEADER) {
            throw corrupt(file, "zip entry " + entry.name() + " has no valid local header at offset " + local);
        }
        long data = local + LOCAL_SIZE + u16(seg, local + 26) + u16(seg, local + 28);
        if (data > file.size() || entry.compressedSize() > file.size() - data) {
            throw corrupt(file, "zip entry " + entry.name() + " (" + entry.compressedSize() + " bytes at offset "
                    + data + ") runs past the end of the file (truncated?)");
        }
        return data;
    }

    /** The bytes of an entry as they are in the file (compressed or not), viewed in place. */
    MemorySegment rawData(Entry entry) {
        return file.segment().asSlice(dataOffset(entry), entry.compressedSize());
    }

    /** The stored bytes of an uncompressed entry, viewed in place. */
    MemorySegment storedData(Entry entry) {
        if (entry.method() != 0 || entry.compressedSize() != entry.size()) {
            throw corrupt(file, "zip entry " + entry.name() + " is compressed (method " + entry.method()
                    + "); tensor data must be stored uncompressed as torch.save writes it");
        }
        return file.segment().asSlice(dataOffset(entry), entry.size());
    }

    private static CheckpointException corrupt(MappedFile file, String problem) {
        return new CheckpointException(file.path() + ": " + problem);
    }

    private static int i32(MemorySegment seg, long at) {
        return seg.get(ValueLayout.JAVA_INT_UNALIGNED, at);
    }

    private static long u32(MemorySegment seg, long at) {
        return Integer.toUnsignedLong(i32(seg, at));
    }

    private static int u16(MemorySegment seg, long at) {
        return Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, at));
    }
}
