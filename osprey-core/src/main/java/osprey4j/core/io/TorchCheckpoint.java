package osprey4j.core.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import osprey4j.core.io.TorchUnpickler.PyTuple;
import osprey4j.core.io.TorchUnpickler.StorageRef;
import osprey4j.core.io.TorchUnpickler.TensorRef;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * A file written by {@code torch.save} (PyTorch 1.6 and later): a zip archive whose entries live under one
 * top folder (its name varies with the torch version and file name): {@code data.pkl} (the pickled object),
 * {@code data/<key>} (one entry per storage, stored uncompressed and 64-byte aligned) and {@code version}.
 *
 * <p>The pickle is run by {@link TorchUnpickler}, which executes nothing. Storage data is viewed in place in
 * the mapped file: a tensor whose view is contiguous is a zero-copy slice; a strided view (a transpose, a
 * column slice, an expanded tensor) is copied into a contiguous tensor when asked for. Every view is checked
 * to lie inside its storage, and every storage inside its zip entry, before anything is read.
 *
 * <p>Which tensors are exposed, and under which names:
 * <ul>
 *   <li>the pickled object must be a dict (a state dict, usually an OrderedDict);</li>
 *   <li>if its top level holds no tensors but has a {@code "state_dict"} or {@code "model"} dict (a training
 *       checkpoint wrapping the weights), that dict is used instead, as the official loaders of such
 *       checkpoints do; the other top-level entries are not read except for scalar metadata;</li>
 *   <li>tensors are named by their key; tensors inside nested dicts, lists and tuples get the keys/indices of
 *       the path joined with '.' ({@code {"a": {"b": t}}} gives {@code a.b}), the names
 *       {@code nn.Module.state_dict()} would give them;</li>
 *   <li>scalar leaves (str, int, float, bool) become {@link #metadata()} entries under the same naming.</li>
 * </ul>
 */
final class TorchCheckpoint extends AbstractCheckpoint {
    /** The pickle is held on the heap; a state dict's pickle is a few MB even for 7B models. */
    private static final long MAX_PICKLE_BYTES = 1L << 30;
    /** A view with more elements than its storage (stride 0) is materialised only up to this size. */
    private static final long MAX_EXPANDED_BYTES = 1L << 28;
    private static final int MAX_DEPTH = 64;
    private static final int MAX_NODES = 1_000_000;

    /** How to produce one tensor: its storage bytes and the view on them, in elements. */
    private record View(MemorySegment storage, long offset, long[] shape, long[] stride, boolean contiguous) {
    }

    private final MappedFile file;
    private final Map<String, View> views;

    private TorchCheckpoint(MappedFile file, List<TensorInfo> infos, Map<String, View> views,
                            Map<String, String> metadata) {
        super(file.path().toString(), infos, metadata);
        this.file = file;
        this.views = views;
    }

    static TorchCheckpoint open(Path path) {
        return MappedFile.mapAndParse(path, TorchCheckpoint::parse);
    }

    private static TorchCheckpoint parse(MappedFile file) {
        Path path = file.path();
        ZipDirectory zip = ZipDirectory.read(file);
        String prefix = archivePrefix(path, zip);
        ZipDirectory.Entry byteOrder = zip.entries().get(prefix + "byteorder");
        if (byteOrder != null) {
            String order = new String(pickleBytes(path, zip, byteOrder), StandardCharsets.US_ASCII).strip();
            if (!order.equals("little")) {
                throw new CheckpointException(path + ": tensors are stored with byte order '"
                        + TorchUnpickler.printable(order) + "'; only little-endian files are supported");
            }
        }
        ZipDirectory.Entry pickleEntry = zip.entries().get(prefix + "data.pkl");
        byte[] pickle = pickleBytes(path, zip, pickleEntry);

        Map<String, MemorySegment> storages = new HashMap<>();
        String source = path + " (" + pickleEntry.name() + ")";
        Object root = TorchUnpickler.load(source, pickle, pid -> storage(path, zip, prefix, pid, storages));

        Map<String, TensorRef> refs = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        new Flattener(path, refs, metadata).flattenRoot(root);

        List<TensorInfo> infos = new ArrayList<>(refs.size());
        Map<String, View> views = new HashMap<>();
        for (Map.Entry<String, TensorRef> e : refs.entrySet()) {
            TensorRef ref = e.getValue();
            views.put(e.getKey(), checkedView(path, e.getKey(), ref, storages.get(ref.storage().key())));
            infos.add(new TensorInfo(e.getKey(), ref.storage().dtype(), ref.shape(), path));
        }
        return new TorchCheckpoint(file, infos, views, metadata);
    }

    /** The folder holding data.pkl: the archive's single top-level directory. */
    private static String archivePrefix(Path path, ZipDirectory zip) {
        List<String> candidates = new ArrayList<>();
        for (String name : zip.entries().keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                candidates.add(name.substring(0, slash + 1));
            }
        }
        if (candidates.isEmpty()) {
            throw new CheckpointException(path + ": a zip file but not a torch.save archive (no <folder>/data.pkl"
                    + " entry)");
        }
        if (candidates.size() > 1) {
            throw new CheckpointException(path + ": several data.pkl entries in the archive: " + candidates);
        }
        return candidates.get(0);
    }

    private static byte[] pickleBytes(Path path, ZipDirectory zip, ZipDirectory.Entry entry) {
        if (entry.size() > MAX_PICKLE_BYTES) {
            throw new CheckpointException(path + ": zip entry " + entry.name() + " claims " + entry.size()
                    + " bytes, more than a state dict's pickle could need");
        }
        if (entry.method() == 0) {
            return zip.storedData(entry).toArray(ValueLayout.JAVA_BYTE);
        }
        if (entry.method() != 8) {
            throw new CheckpointException(path + ": zip entry " + entry.name() + " uses unsupported compression "
                    + entry.method());
        }
        // torch never compresses, but a re-zipped archive may deflate its small entries.
        // DEFLATE expands at most about 1032:1; a larger declared size is a lie, refused before allocating it.
        if (entry.compressedSize() > MAX_PICKLE_BYTES || entry.size() > entry.compressedSize() * 1032 + 1024) {
            throw new CheckpointException(path + ": zip entry " + entry.name() + " declares an impossible size ("
                    + entry.compressedSize() + " bytes inflating to " + entry.size() + ")");
        }
        byte[] compressed = zip.rawData(entry).toArray(ValueLayout.JAVA_BYTE);
        byte[] out = new byte[(int) entry.size()];
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(compressed);
            int n = 0;
            while (n < out.length && !inflater.finished()) {
                int got = inflater.inflate(out, n, out.length - n);
                if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                n += got;
            }
            if (n != out.length) {
                throw new CheckpointException(path + ": zip entry " + entry.name() + " inflates to " + n
                        + " bytes, not the declared " + out.length);
            }
            return out;
        } catch (DataFormatException e) {
            throw new CheckpointException(path + ": zip entry " + entry.name() + " is corrupt (" + e.getMessage() + ")");
        } finally {
            inflater.end();
        }
    }

    /**
     * torch's persistent id for a storage: {@code ('storage', <storage class>, key, location, numel)}. The
     * storage's bytes (numel x element size) must fit in its zip entry.
     */
    private static StorageRef storage(Path path, ZipDirectory zip, String prefix, PyTuple pid,
                                      Map<String, MemorySegment> storages) {
        if (pid.size() != 5 || !"storage".equals(pid.get(0))
                || !(pid.get(1) instanceof TorchUnpickler.Global cls) || cls.dtype() == null
                || !(pid.get(2) instanceof String key) || !(pid.get(4) instanceof Long numel) || numel < 0) {
            throw new CheckpointException(path + ": unsupported persistent id in the pickle (expected "
                    + "('storage', <torch storage class>, key, location, numel))");
        }
        DType dtype = cls.dtype();
        ZipDirectory.Entry entry = zip.entries().get(prefix + "data/" + key);
        if (entry == null) {
            throw new CheckpointException(path + ": storage '" + TorchUnpickler.printable(key)
                    + "' has no entry " + prefix + "data/" + TorchUnpickler.printable(key) + " in the archive");
        }
        MemorySegment data = zip.storedData(entry);
        long bytes;
        try {
            bytes = dtype.bytesFor(numel);
        } catch (ArithmeticException e) {
            bytes = Long.MAX_VALUE;
        }
        if (bytes > data.byteSize()) {
            throw new CheckpointException(path + ": storage '" + key + "' declares " + numel + " " + dtype
                    + " elements (" + bytes + " bytes) but its entry holds " + data.byteSize() + " bytes");
        }
        storages.putIfAbsent(key, data);
        return new StorageRef(key, dtype, numel);
    }

    /** Checks that the view lies inside its storage and decides whether it can be served without a copy. */
    private static View checkedView(Path path, String name, TensorRef ref, MemorySegment storage) {
        String where = path + ": tensor '" + name + "'";
        long[] shape = ref.shape();
        long[] stride = ref.stride();
        StorageRef s = ref.storage();
        if (ref.offset() < 0) {
            throw new CheckpointException(where + " has a negative storage offset " + ref.offset());
        }
        long numel;
        long bytes;
        long lastIndex = ref.offset();
        try {
            numel = 1;
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] < 0 || stride[d] < 0) {
                    throw new CheckpointException(where + " has a negative size or stride: size "
                            + Arrays.toString(shape) + ", stride " + Arrays.toString(stride));
                }
                numel = Math.multiplyExact(numel, shape[d]);
                if (shape[d] > 0) {
                    lastIndex = Math.addExact(lastIndex, Math.multiplyExact(shape[d] - 1, stride[d]));
                }
            }
            bytes = s.dtype().bytesFor(numel);
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + ": size " + Arrays.toString(shape) + " with stride "
                    + Arrays.toString(stride) + " overflows");
        }
        boolean inside = numel == 0 ? ref.offset() <= s.numel() : lastIndex < s.numel();
        if (!inside) {
            throw new CheckpointException(where + ": the view (offset " + ref.offset() + ", size "
                    + Arrays.toString(shape) + ", stride " + Arrays.toString(stride) + ") reaches past the end of its "
                    + "storage '" + s.key() + "' of " + s.numel() + " elements");
        }
        if (numel > s.numel() && bytes > MAX_EXPANDED_BYTES) {
            throw new CheckpointException(where + ": refusing to expand a storage of " + s.numel() + " elements into "
                    + bytes + " bytes");
        }
        return new View(storage, ref.offset(), shape, stride, isContiguous(shape, stride));
    }

    /** Row-major with no gaps (dimensions of size 1 may have any stride, as in torch). */
    private static boolean isContiguous(long[] shape, long[] stride) {
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 0) {
                return true;
            }
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    @Override
    Tensor load(TensorInfo info) {
        View v = views.get(info.name());
        DType dtype = info.dtype();
        long es = dtype.byteSize();
        if (v.contiguous()) {
            return Tensor.of(dtype, v.storage().asSlice(v.offset() * es, info.numel() * es), v.shape());
        }
        return materialise(dtype, v);
    }

    /** Copies a strided view into a new contiguous tensor, a run of the innermost dimension at a time. */
    private static Tensor materialise(DType dtype, View v) {
        long[] shape = v.shape();
        long[] stride = v.stride();
        long es = dtype.byteSize();
        Tensor out = Tensor.zeros(dtype, shape);
        if (out.numel() == 0) {
            return out;
        }
        MemorySegment src = v.storage();
        MemorySegment dst = out.segment();
        int rank = shape.length;
        long inner = shape[rank - 1];
        long innerStride = stride[rank - 1];
        long[] index = new long[rank - 1];
        long rows = out.numel() / inner;
        long dstOffset = 0;
        for (long r = 0; r < rows; r++) {
            long base = v.offset();
            for (int d = 0; d < rank - 1; d++) {
                base += index[d] * stride[d];
            }
            if (innerStride == 1) {
                MemorySegment.copy(src, base * es, dst, dstOffset, inner * es);
            } else {
                for (long j = 0; j < inner; j++) {
                    MemorySegment.copy(src, (base + j * innerStride) * es, dst, dstOffset + j * es, es);
                }
            }
            dstOffset += inner * es;
            for (int d = rank - 2; d >= 0; d--) {
                if (++index[d] < shape[d]) {
                    break;
                }
                index[d] = 0;
            }
        }
        return out;
    }

    @Override
    public void close() {
        file.close();
    }

    /** Walks the unpickled object and names its tensors (see the class comment for the rules). */
    private static final class Flattener {
        private final Path path;
        private final Map<String, TensorRef> tensors;
        private final Map<String, String> metadata;
        private int nodes;

        Flattener(Path path, Map<String, TensorRef> tensors, Map<String, String> metadata) {
            this.path = path;
            this.tensors = tensors;
            this.metadata = metadata;
        }

        void flattenRoot(Object root) {
            if (!(root instanceof Map<?, ?> top)) {
                throw new CheckpointException(path + ": the saved object is a " + TorchUnpickler.typeName(root)
                        + ", not a dict of tensors (a state dict)");
            }
            boolean hasTensors = top.values().stream().anyMatch(v -> v instanceof TensorRef);
            Object wrapped = null;
            if (!hasTensors) {
                wrapped = top.get("state_dict") instanceof Map<?, ?> m ? m
                        : top.get("model") instanceof Map<?, ?> m2 ? m2 : null;
            }
            if (wrapped == null) {
                walk("", top, 0);
                return;
            }
            for (Map.Entry<?, ?> e : top.entrySet()) {
                if (isScalar(e.getValue())) {
                    metadata.put(key(e.getKey(), ""), String.valueOf(e.getValue()));
                }
            }
            walk("", wrapped, 0);
        }

        private void walk(String name, Object value, int depth) {
            if (++nodes > MAX_NODES || depth > MAX_DEPTH) {
                throw new CheckpointException(path + ": the saved object is nested too deeply or is too large to be"
                        + " a state dict");
            }
            if (value instanceof TensorRef t) {
                if (name.isEmpty()) {
                    throw new CheckpointException(path + ": a tensor has an empty name");
                }
                if (tensors.putIfAbsent(name, t) != null) {
                    throw new CheckpointException(path + ": two tensors are both named '" + name + "'");
                }
            } else if (value instanceof Map<?, ?> map) {
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    walk(join(name, key(e.getKey(), name)), e.getValue(), depth + 1);
                }
            } else if (value instanceof List<?> list) {
                for (int i = 0; i < list.size(); i++) {
                    walk(join(name, Integer.toString(i)), list.get(i), depth + 1);
                }
            } else if (value instanceof PyTuple tuple) {
                for (int i = 0; i < tuple.size(); i++) {
                    walk(join(name, Integer.toString(i)), tuple.get(i), depth + 1);
                }
            } else if (isScalar(value) && !name.isEmpty()) {
                metadata.put(name, String.valueOf(value));
            }
            // None, bytes, sets, bare storages and type objects carry no tensors of a state dict.
        }

        private String key(Object key, String parent) {
            if (key instanceof String s) {
                return s;
            }
            if (key instanceof Long || key instanceof BigInteger || key instanceof Boolean) {
                return key.toString();
            }
            throw new CheckpointException(path + ": a dict key of type " + TorchUnpickler.typeName(key)
                    + (parent.isEmpty() ? "" : " under '" + parent + "'") + " cannot name a tensor");
        }

        private static String join(String prefix, String key) {
            return prefix.isEmpty() ? key : prefix + "." + key;
        }

        private static boolean isScalar(Object v) {
            return v instanceof String || v instanceof Long || v instanceof BigInteger || v instanceof Double
                    || v instanceof Boolean;
        }
    }
}
