package osprey4j.core.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * A memory-mapped safetensors file: an 8-byte little-endian header length N, N bytes of JSON, then the data
 * section. Tensors are zero-copy slices of the mapping.
 *
 * <p>The header is validated as the reference implementation (the Rust {@code safetensors} crate) does,
 * before any tensor is handed out: a sane header length, a JSON object, known dtypes, non-negative shapes
 * whose byte size does not overflow, {@code end - begin == numel x element size}, and offsets that tile the
 * data section exactly: sorted by offset, each tensor starts where the previous one ended (no overlap, no
 * hole) and the last one ends at the end of the file. Block-quantised tensors (Q8_0, Q4_0) must have rows
 * of whole blocks, and the file must record the block layout this engine reads in its {@code __metadata__}
 * (see {@link DType#blockLayout()}); a file naming these dtypes without it (another tool's convention) is refused.
 */
final class SafetensorsCheckpoint extends AbstractCheckpoint {
    /** The reference refuses headers above 100 MB; real ones are a few hundred KB. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final MappedFile file;
    private final Map<String, Long> dataStart;

    private SafetensorsCheckpoint(MappedFile file, List<TensorInfo> infos, Map<String, Long> dataStart,
                                  Map<String, String> metadata) {
        super(file.path().toString(), infos, metadata);
        this.file = file;
        this.dataStart = dataStart;
    }

    static SafetensorsCheckpoint open(Path path) {
        return MappedFile.mapAndParse(path, SafetensorsCheckpoint::parse);
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private static SafetensorsCheckpoint parse(MappedFile file) {
        Path path = file.path();
        if (file.size() < 8) {
            throw new CheckpointException(path + ": too short for a safetensors file (" + file.size() + " bytes)");
        }
        long headerLength = file.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > file.size() - 8) {
            throw new CheckpointException(path + ": safetensors header length " + Long.toUnsignedString(headerLength)
                    + " is impossible (file of " + file.size() + " bytes, limit " + MAX_HEADER_BYTES + ")");
        }
        byte[] headerBytes = file.bytes(8, (int) headerLength, "the safetensors header");
        if (headerBytes[0] != '{') {
            throw new CheckpointException(path + ": the safetensors header does not start with '{'");
        }
        JsonNode root;
        try {
            root = JSON.readTree(headerBytes);
        } catch (IOException e) {
            throw new CheckpointException(path + ": the safetensors header is not valid JSON ("
                    + firstLine(e.getMessage()) + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(path + ": the safetensors header is not a JSON object");
        }
        long dataOffset = 8 + headerLength;
        long dataLength = file.size() - dataOffset;

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (name.equals(METADATA_KEY)) {
                readMetadata(path, value, metadata);
            } else {
                entries.add(readEntry(path, name, value));
            }
        }
        checkTiling(path, entries, dataLength);
        checkBlockLayouts(path, entries, metadata);

        List<TensorInfo> infos = new ArrayList<>(entries.size());
        Map<String, Long> starts = new HashMap<>();
        for (Entry e : entries) {
            infos.add(new TensorInfo(e.name, e.dtype, e.shape, path));
            starts.put(e.name, dataOffset + e.begin);
        }
        return new SafetensorsCheckpoint(file, infos, starts, metadata);
    }

    private static void readMetadata(Path path, JsonNode value, Map<String, String> metadata) {
        if (!value.isObject()) {
            throw new CheckpointException(path + ": " + METADATA_KEY + " must be an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) {
                throw new CheckpointException(path + ": " + METADATA_KEY + " value for '" + m.getKey()
                        + "' is not a string");
            }
            metadata.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static Entry readEntry(Path path, String name, JsonNode value) {
        String where = path + ": tensor '" + name + "'";
        if (!value.isObject()) {
            throw new CheckpointException(where + ": header entry is not an object");
        }
        JsonNode dtypeNode = value.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new CheckpointException(where + ": missing dtype");
        }
        DType dtype = DType.fromSafetensorsName(dtypeNode.textValue());
        if (dtype == null) {
            throw new CheckpointException(where + ": unsupported dtype " + dtypeNode.textValue());
        }
        long[] shape = longArray(where, "shape", value.get("shape"), -1);
        long[] offsets = longArray(where, "data_offsets", value.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new CheckpointException(where + ": data_offsets end " + end + " is before begin " + begin);
        }
        long bytes;
        try {
            bytes = Tensor.byteSize(dtype, shape);
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + ": shape " + java.util.Arrays.toString(shape)
                    + " overflows a 64-bit byte count");
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage());
        }
        if (end - begin != bytes) {
            throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end + ") hold " + (end - begin)
                    + " bytes but a " + dtype + " tensor of shape " + java.util.Arrays.toString(shape)
                    + " needs " + bytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers that fit a long; {@code length} -1 means any length. */
    private static long[] longArray(String where, String field, JsonNode node, int length) {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new CheckpointException(where + ": " + field + " must be an array of "
                    + (length >= 0 ? length + " " : "") + "non-negative integers");
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new CheckpointException(where + ": " + field + " has an invalid entry " + v);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /** Offsets must cover [0, dataLength) exactly once, as the reference checks. */
    private static void checkTiling(Path path, List<Entry> entries, long dataLength) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        for (Entry e : byOffset) {
            if (e.begin != expected) {
                throw new CheckpointException(path + ": tensor '" + e.name + "' starts at data offset " + e.begin
                        + " but the previous tensor ends at " + expected
                        + (e.begin < expected ? " (overlapping data)" : " (a hole in the data)"));
            }
            expected = e.end;
        }
        if (expected != dataLength) {
            throw new CheckpointException(path + ": the tensors cover " + expected + " bytes of data but the file's "
                    + "data section has " + dataLength + " bytes" + (expected > dataLength ? " (truncated file?)" : ""));
        }
    }

    /** Every block-quantised dtype in the file must come with the layout this engine reads. */
    private static void checkBlockLayouts(Path path, List<Entry> entries, Map<String, String> metadata) {
        for (Entry e : entries) {
            DType d = e.dtype;
            if (d.isBlockQuantized() && !d.blockLayout().equals(metadata.get(d.blockLayoutKey()))) {
                String found = metadata.get(d.blockLayoutKey());
                throw new CheckpointException(path + ": tensor '" + e.name + "' is " + d + " but the header's "
                        + METADATA_KEY + " " + (found == null ? "does not record its block layout ('"
                        + d.blockLayoutKey() + "')" : "records the block layout '" + found + "'")
                        + "; expected '" + d.blockLayout() + "'");
            }
        }
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    Tensor load(TensorInfo info) {
        long start = dataStart.get(info.name());
        MemorySegment data = file.segment().asSlice(start, info.byteSize());
        return Tensor.of(info.dtype(), data, info.shape());
    }

    @Override
    public void close() {
        file.close();
    }
}
