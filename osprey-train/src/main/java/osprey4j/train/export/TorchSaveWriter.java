package osprey4j.train.export;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Writes a state dict the way {@code torch.save(state_dict, path)} does (the zip format of torch 1.6 and later), so
 * {@code torch.load} reads it: an uncompressed zip holding {@code archive/data.pkl} (a protocol-2 pickle of an
 * {@code OrderedDict} of {@code torch._utils._rebuild_tensor_v2} calls, each storage a persistent id
 * {@code ('storage', torch.FloatStorage, 'N', 'cpu', numel)}), one {@code archive/data/N} record of little-endian
 * bytes per tensor, aligned to 64 bytes as torch aligns them, and {@code archive/version} ({@code 3}).
 *
 * <p>This is the format of the file the reference's vision tower loads with {@code torch.load(mm_vision_tower)}.
 * The file appears atomically.
 */
public final class TorchSaveWriter {
    private static final int ALIGN = 64;

    private TorchSaveWriter() {
    }

    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        AtomicFiles.write(file, tmp -> {
            try (OutputStream raw = Files.newOutputStream(tmp);
                 CountingStream counting = new CountingStream(new java.io.BufferedOutputStream(raw, 1 << 16));
                 ZipOutputStream zip = new ZipOutputStream(counting)) {
                zip.setMethod(ZipOutputStream.STORED);
                stored(zip, counting, "archive/data.pkl", pickle(tensors));
                int i = 0;
                for (Tensor t : tensors.values()) {
                    stored(zip, counting, "archive/data/" + i++, bytes(t));
                }
                stored(zip, counting, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
            }
        });
    }

    private static byte[] bytes(Tensor t) {
        long n = t.byteSize();
        if (n > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("tensor of " + n + " bytes is too large for this writer");
        }
        return t.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    /** One uncompressed entry whose data starts at a multiple of 64 bytes (padding in the local header's extra). */
    private static void stored(ZipOutputStream zip, CountingStream counting, String name, byte[] data)
            throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        e.setTime(315532800000L + 86_400_000L); // a fixed DOS time: the same tensors give the same bytes
        long dataStart = counting.count + 30 + name.getBytes(StandardCharsets.UTF_8).length;
        int pad = (int) ((ALIGN - dataStart % ALIGN) % ALIGN);
        if (pad > 0 && pad < 4) {
            pad += ALIGN;
        }
        if (pad > 0) {
            byte[] extra = new byte[pad];
            ByteBuffer.wrap(extra).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x4246).putShort((short) (pad - 4));
            e.setExtra(extra);
        }
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    // ---- the pickle -------------------------------------------------------------------------------------------

    static byte[] pickle(Map<String, Tensor> tensors) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80);
        p.write(2);
        global(p, "collections", "OrderedDict");
        p.write(')');
        p.write('R');
        p.write('(');
        int key = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            string(p, e.getKey());
            global(p, "torch._utils", "_rebuild_tensor_v2");
            p.write('(');
            p.write('(');
            string(p, "storage");
            global(p, "torch", storageType(t.dtype()));
            string(p, Integer.toString(key++));
            string(p, "cpu");
            integer(p, t.numel());
            p.write('t');
            p.write('Q');
            integer(p, 0);
            long[] shape = t.shape();
            p.write('(');
            for (long d : shape) {
                integer(p, d);
            }
            p.write('t');
            p.write('(');
            long stride = 1;
            long[] strides = new long[shape.length];
            for (int i = shape.length - 1; i >= 0; i--) {
                strides[i] = stride;
                stride *= shape[i];
            }
            for (long s : strides) {
                integer(p, s);
            }
            p.write('t');
            p.write(0x89);
            global(p, "collections", "OrderedDict");
            p.write(')');
            p.write('R');
            p.write('t');
            p.write('R');
        }
        p.write('u');
        p.write('.');
        return p.toByteArray();
    }

    private static String storageType(DType d) {
        return switch (d) {
            case F32 -> "FloatStorage";
            case F16 -> "HalfStorage";
            case BF16 -> "BFloat16Storage";
            case F64 -> "DoubleStorage";
            case I64 -> "LongStorage";
            case I32 -> "IntStorage";
            default -> throw new IllegalArgumentException("no torch storage written for " + d);
        };
    }

    private static void global(ByteArrayOutputStream p, String module, String name) {
        p.write('c');
        p.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static void string(ByteArrayOutputStream p, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        p.write('X');
        p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        p.writeBytes(b);
    }

    private static void integer(ByteArrayOutputStream p, long v) {
        if (v >= 0 && v < 256) {
            p.write('K');
            p.write((int) v);
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            p.write('J');
            p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        } else {
            p.write(0x8a); // LONG1, 8 bytes little-endian two's complement
            p.write(8);
            p.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }
    }

    /** Counts bytes so each entry's data offset is known before its header is written. */
    private static final class CountingStream extends FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
