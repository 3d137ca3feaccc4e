package osprey4j.core.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import osprey4j.core.tensor.DType;

/**
 * A pickle virtual machine for the {@code data.pkl} of a {@code torch.save} file that executes nothing.
 *
 * <p>Python's unpickler imports any module and calls any callable the file names; this one builds plain
 * Java values instead and resolves a global only if it is on a short allow-list: the functions torch uses to
 * rebuild tensors and parameters, the storage classes, {@code torch.Size}, {@code collections.OrderedDict}, and
 * {@code builtins.set} and {@code _codecs.encode} (how protocol 2 pickles sets and bytes, rebuilt as data).
 * Every other global (such as {@code os.system} or {@code builtins.eval}) is refused with a
 * {@link CheckpointException} naming it, before anything else happens. So is
 * {@code torch.storage._load_from_bytes}, which would run {@code torch.load} on embedded bytes.
 *
 * <p>Python values become: None -> {@code null}, bool -> {@link Boolean}, int -> {@link Long} (or
 * {@link BigInteger} when it does not fit), float -> {@link Double}, str -> {@link String},
 * bytes -> {@code byte[]}, tuple -> {@link PyTuple}, list -> {@link ArrayList}, dict and OrderedDict ->
 * {@link LinkedHashMap}, set -> {@link LinkedHashSet}; a storage reference -> {@link StorageRef}; a tensor or
 * parameter -> {@link TensorRef} (a description of a view; no data is read here).
 *
 * <p>Protocols 2 to 5 are supported, with the opcodes torch and Python's pickler emit for such data. The text
 * opcodes of protocols 0 and 1 that only old Python 2 files use ({@code STRING}, {@code UNICODE},
 * {@code INST}, {@code OBJ}, {@code PERSID}) and the extension registry are refused.
 */
final class TorchUnpickler {

    /** An immutable Python tuple (None items are Java nulls). */
    static final class PyTuple {
        private final Object[] items;

        PyTuple(List<Object> items) {
            this.items = items.toArray();
        }

        Object get(int i) {
            return items[i];
        }

        int size() {
            return items.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PyTuple t && Arrays.equals(items, t.items);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(items);
        }
    }

    /** A reference to the storage {@code <archive>/data/<key>}: {@code numel} elements of {@code dtype}. */
    record StorageRef(String key, DType dtype, long numel) {
    }

    /** A tensor viewing {@code storage} from element {@code offset} with the given shape and strides (elements). */
    record TensorRef(StorageRef storage, long offset, long[] shape, long[] stride) {
    }

    /** What an allowed global stands for. */
    enum Kind {
        ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE, REBUILD_FROM_TYPE_V2,
        TORCH_SIZE, STORAGE_TYPE, TENSOR_TYPE, SET, CODECS_ENCODE
    }

    /** A resolved, allowed global; {@code dtype} is set for storage classes. */
    record Global(String qualifiedName, Kind kind, DType dtype) {
    }

    private static final Map<String, Global> ALLOWED = new HashMap<>();

    static {
        allow("collections.OrderedDict", Kind.ORDERED_DICT, null);
        allow("torch._utils._rebuild_tensor_v2", Kind.REBUILD_TENSOR_V2, null);
        allow("torch._utils._rebuild_parameter", Kind.REBUILD_PARAMETER, null);
        allow("torch._utils._rebuild_parameter_with_state", Kind.REBUILD_PARAMETER_WITH_STATE, null);
        allow("torch._tensor._rebuild_from_type_v2", Kind.REBUILD_FROM_TYPE_V2, null);
        allow("torch.Size", Kind.TORCH_SIZE, null);
        // how protocol 2 pickles a set and a bytes value
        allow("builtins.set", Kind.SET, null);
        allow("builtins.frozenset", Kind.SET, null);
        allow("_codecs.encode", Kind.CODECS_ENCODE, null);
        allow("torch.Tensor", Kind.TENSOR_TYPE, null);
        allow("torch.nn.parameter.Parameter", Kind.TENSOR_TYPE, null);
        allow("torch.FloatStorage", Kind.STORAGE_TYPE, DType.F32);
        allow("torch.HalfStorage", Kind.STORAGE_TYPE, DType.F16);
        allow("torch.BFloat16Storage", Kind.STORAGE_TYPE, DType.BF16);
        allow("torch.DoubleStorage", Kind.STORAGE_TYPE, DType.F64);
        allow("torch.LongStorage", Kind.STORAGE_TYPE, DType.I64);
        allow("torch.IntStorage", Kind.STORAGE_TYPE, DType.I32);
        allow("torch.ShortStorage", Kind.STORAGE_TYPE, DType.I16);
        allow("torch.CharStorage", Kind.STORAGE_TYPE, DType.I8);
        allow("torch.ByteStorage", Kind.STORAGE_TYPE, DType.U8);
        allow("torch.BoolStorage", Kind.STORAGE_TYPE, DType.BOOL);
    }

    private static void allow(String name, Kind kind, DType dtype) {
        ALLOWED.put(name, new Global(name, kind, dtype));
    }

    private final String source;
    private final byte[] data;
    private final Function<PyTuple, StorageRef> persistentLoad;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    /**
     * @param source         names the pickle in error messages ("file.pt (archive/data.pkl)")
     * @param persistentLoad turns a torch persistent id {@code ('storage', cls, key, location, numel)} into a
     *                       {@link StorageRef}, checking it against the archive
     */
    private TorchUnpickler(String source, byte[] data, Function<PyTuple, StorageRef> persistentLoad) {
        this.source = source;
        this.data = data;
        this.persistentLoad = persistentLoad;
    }

    static Object load(String source, byte[] data, Function<PyTuple, StorageRef> persistentLoad) {
        return new TorchUnpickler(source, data, persistentLoad).run();
    }

    private Object run() {
        while (true) {
            int at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int protocol = u8();
                    if (protocol > 5) {
                        throw error(at, "unsupported pickle protocol " + protocol);
                    }
                }
                case 0x95 -> checkFrame(i64()); // FRAME: only groups the opcodes that follow
                case 0x2e -> { // STOP
                    Object result = pop(at);
                    return result;
                }
                case 0x28 -> marks.add(stack.size()); // MARK
                case 0x30 -> pop(at); // POP
                case 0x31 -> popMark(at); // POP_MARK
                case 0x32 -> push(peek(at)); // DUP
                case 0x4e -> push(null); // NONE
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 0x4a -> push((long) i32()); // BININT
                case 0x4b -> push((long) u8()); // BININT1
                case 0x4d -> push((long) u16()); // BININT2
                case 0x8a -> push(littleEndianInt(bytes(u8()))); // LONG1
                case 0x8b -> push(littleEndianInt(bytes(length(i32(), at)))); // LONG4
                case 0x49 -> push(textInt(at)); // INT
                case 0x4c -> push(textLong(at)); // LONG
                case 0x47 -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble()); // BINFLOAT
                case 0x46 -> push(textFloat(at)); // FLOAT
                case 0x58 -> push(utf8(bytes(length(i32(), at)), at)); // BINUNICODE
                case 0x8c -> push(utf8(bytes(u8()), at)); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(bytes(length(i64(), at)), at)); // BINUNICODE8
                case 0x55 -> push(new String(bytes(u8()), StandardCharsets.ISO_8859_1)); // SHORT_BINSTRING
                case 0x54 -> push(new String(bytes(length(i32(), at)), StandardCharsets.ISO_8859_1)); // BINSTRING
                case 0x43 -> push(bytes(u8())); // SHORT_BINBYTES
                case 0x42 -> push(bytes(length(i32(), at))); // BINBYTES
                case 0x8e, 0x96 -> push(bytes(length(i64(), at))); // BINBYTES8, BYTEARRAY8
                case 0x29 -> push(new PyTuple(List.of())); // EMPTY_TUPLE
                case 0x74 -> push(new PyTuple(popMark(at))); // TUPLE
                case 0x85 -> push(tuple(1, at)); // TUPLE1
                case 0x86 -> push(tuple(2, at)); // TUPLE2
                case 0x87 -> push(tuple(3, at)); // TUPLE3
                case 0x5d -> push(new ArrayList<>()); // EMPTY_LIST
                case 0x6c -> push(new ArrayList<>(popMark(at))); // LIST
                case 0x61 -> { // APPEND
                    Object item = pop(at);
                    list(peek(at), at).add(item);
                }
                case 0x65 -> { // APPENDS
                    List<Object> items = popMark(at);
                    list(peek(at), at).addAll(items);
                }
                case 0x7d -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case 0x64 -> { // DICT
                    Map<Object, Object> dict = new LinkedHashMap<>();
                    putPairs(dict, popMark(at), at);
                    push(dict);
                }
                case 0x73 -> { // SETITEM
                    Object value = pop(at);
                    Object key = pop(at);
                    dict(peek(at), at).put(hashable(key, at), value);
                }
                case 0x75 -> { // SETITEMS
                    List<Object> pairs = popMark(at);
                    putPairs(dict(peek(at), at), pairs, at);
                }
                case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popMark(at);
                    Set<Object> set = set(peek(at), at);
                    for (Object o : items) {
                        set.add(hashable(o, at));
                    }
                }
                case 0x91 -> { // FROZENSET
                    Set<Object> set = new LinkedHashSet<>();
                    for (Object o : popMark(at)) {
                        set.add(hashable(o, at));
                    }
                    push(set);
                }
                case 0x68 -> push(memoGet(u8(), at)); // BINGET
                case 0x6a -> push(memoGet(Integer.toUnsignedLong(i32()), at)); // LONG_BINGET
                case 0x67 -> push(memoGet(textMemoIndex(at), at)); // GET
                case 0x71 -> memo.put((long) u8(), peek(at)); // BINPUT
                case 0x72 -> memo.put(Integer.toUnsignedLong(i32()), peek(at)); // LONG_BINPUT
                case 0x70 -> memo.put(textMemoIndex(at), peek(at)); // PUT
                case 0x94 -> memo.put((long) memo.size(), peek(at)); // MEMOIZE
                case 0x63 -> { // GLOBAL: "module\nname\n"
                    String module = line(at);
                    String name = line(at);
                    push(resolve(module, name, at));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(at);
                    Object module = pop(at);
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error(at, "STACK_GLOBAL needs two strings");
                    }
                    push(resolve(m, n, at));
                }
                case 0x52 -> { // REDUCE
                    Object args = pop(at);
                    Object callable = pop(at);
                    push(call(callable, args, at));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args)
                    Object args = pop(at);
                    Object cls = pop(at);
                    push(newObject(cls, args, at));
                }
                case 0x92 -> { // NEWOBJ_EX
                    Object kwargs = pop(at);
                    Object args = pop(at);
                    Object cls = pop(at);
                    if (!(kwargs instanceof Map<?, ?> k) || !k.isEmpty()) {
                        throw error(at, "NEWOBJ_EX with keyword arguments is not supported");
                    }
                    push(newObject(cls, args, at));
                }
                case 0x62 -> { // BUILD: obj.__setstate__(state)
                    pop(at); // the state
                    Object target = peek(at);
                    // OrderedDict state dicts carry a _metadata attribute, parameters may carry Python
                    // attributes; neither matters for the tensors, so the state is dropped.
                    if (!(target instanceof Map) && !(target instanceof TensorRef)) {
                        throw error(at, "cannot set the state of a " + typeName(target)
                                + " (only dicts and tensors are built)");
                    }
                }
                case 0x51 -> { // BINPERSID
                    Object pid = pop(at);
                    if (!(pid instanceof PyTuple t)) {
                        throw error(at, "persistent id is a " + typeName(pid) + ", not a tuple");
                    }
                    push(persistentLoad.apply(t));
                }
                case 0x50 -> throw error(at, "text persistent ids (PERSID) are not used by torch.save; refusing");
                case 0x69, 0x6f -> throw error(at, "the INST/OBJ opcodes (protocol 0/1 class instantiation) are"
                        + " refused");
                case 0x53, 0x56 -> throw error(at, "protocol 0 text strings (STRING/UNICODE) are not supported");
                case 0x82, 0x83, 0x84 -> throw error(at, "pickle extension-registry opcodes (EXT1/2/4) are refused");
                case 0x97, 0x98 -> throw error(at, "out-of-band pickle buffers are not supported");
                default -> throw error(at, String.format("unknown pickle opcode 0x%02x", op));
            }
        }
    }

    // ---- the allow-listed globals and what calling them means ----

    private Global resolve(String module, String name, int at) {
        String qualified = module + "." + name;
        // Protocol 2 pickles name builtins by their Python 2 modules, which Python 3 maps to the new names.
        String python3 = switch (module) {
            case "__builtin__" -> "builtins." + name;
            case "copy_reg" -> "copyreg." + name;
            default -> qualified;
        };
        Global g = ALLOWED.get(python3);
        if (g == null && module.equals("torch") && name.endsWith("Storage")) {
            throw new CheckpointException(source + ": unsupported storage type torch." + printable(name)
                    + " (supported: float, half, bfloat16, double, long, int, short, char, byte and bool storages)");
        }
        if (g == null) {
            String shown = qualified.equals(python3) ? qualified : qualified + " (" + python3 + ")";
            throw new CheckpointException(source + ": refusing to load global " + printable(shown)
                    + " (at byte " + at + "): only torch's tensor-rebuilding functions, storage classes and "
                    + "collections.OrderedDict are allowed; nothing in the file is executed");
        }
        return g;
    }

    private Object call(Object callable, Object args, int at) {
        if (!(callable instanceof Global g)) {
            throw error(at, "REDUCE on a " + typeName(callable) + ", which is not callable");
        }
        if (!(args instanceof PyTuple a)) {
            throw error(at, "REDUCE arguments for " + g.qualifiedName() + " are a " + typeName(args)
                    + ", not a tuple");
        }
        return switch (g.kind()) {
            case ORDERED_DICT -> newOrderedDict(a, at);
            case TORCH_SIZE -> {
                if (a.size() != 1 || !(a.get(0) instanceof PyTuple dims)) {
                    throw error(at, "torch.Size expects one tuple");
                }
                yield dims;
            }
            case REBUILD_TENSOR_V2 -> rebuildTensor(a, at);
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                int expected = g.kind() == Kind.REBUILD_PARAMETER ? 3 : 4;
                if (a.size() != expected || !(a.get(0) instanceof TensorRef data)) {
                    throw error(at, g.qualifiedName() + " expects a tensor and " + (expected - 1) + " more arguments");
                }
                yield data;
            }
            case REBUILD_FROM_TYPE_V2 -> {
                // (func, new_type, args, state): torch calls func(*args) then casts to new_type (Tensor or
                // Parameter here) and restores Python attributes, which carry nothing we need.
                if (a.size() != 4 || !(a.get(1) instanceof Global type) || type.kind() != Kind.TENSOR_TYPE) {
                    throw error(at, g.qualifiedName() + " expects (function, tensor type, args, state)");
                }
                Object result = call(a.get(0), a.get(2), at);
                if (!(result instanceof TensorRef)) {
                    throw error(at, g.qualifiedName() + " did not rebuild a tensor");
                }
                yield result;
            }
            case SET -> {
                Set<Object> set = new LinkedHashSet<>();
                if (a.size() == 1 && a.get(0) instanceof List<?> items) {
                    for (Object o : items) {
                        set.add(hashable(o, at));
                    }
                } else if (a.size() != 0) {
                    throw error(at, g.qualifiedName() + " expects a list");
                }
                yield set;
            }
            case CODECS_ENCODE -> {
                // bytes in protocol 2: _codecs.encode(<the bytes as a latin-1 str>, 'latin1')
                if (a.size() != 2 || !(a.get(0) instanceof String text) || !(a.get(1) instanceof String encoding)) {
                    throw error(at, "_codecs.encode expects (str, encoding)");
                }
                yield switch (encoding.toLowerCase(java.util.Locale.ROOT)) {
                    case "latin1", "latin-1", "iso-8859-1" -> text.getBytes(StandardCharsets.ISO_8859_1);
                    case "utf-8", "utf8" -> text.getBytes(StandardCharsets.UTF_8);
                    default -> throw error(at, "_codecs.encode with unsupported encoding " + printable(encoding));
                };
            }
            case STORAGE_TYPE, TENSOR_TYPE -> throw error(at, "calling " + g.qualifiedName() + " is not supported");
        };
    }

    private Object newObject(Object cls, Object args, int at) {
        if (cls instanceof Global g && g.kind() == Kind.ORDERED_DICT && args instanceof PyTuple a) {
            return newOrderedDict(a, at);
        }
        throw error(at, "cannot create an instance of " + (cls instanceof Global g ? g.qualifiedName() : typeName(cls)));
    }

    private Map<Object, Object> newOrderedDict(PyTuple args, int at) {
        Map<Object, Object> dict = new LinkedHashMap<>();
        if (args.size() == 0) {
            return dict;
        }
        if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
            for (Object p : pairs) {
                if (p instanceof PyTuple kv && kv.size() == 2) {
                    dict.put(hashable(kv.get(0), at), kv.get(1));
                } else if (p instanceof List<?> kv && kv.size() == 2) {
                    dict.put(hashable(kv.get(0), at), kv.get(1));
                } else {
                    throw error(at, "OrderedDict items must be (key, value) pairs");
                }
            }
            return dict;
        }
        throw error(at, "unsupported OrderedDict arguments");
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private TensorRef rebuildTensor(PyTuple a, int at) {
        if (a.size() < 6 || a.size() > 7 || !(a.get(0) instanceof StorageRef storage)) {
            throw error(at, "_rebuild_tensor_v2 expects (storage, offset, size, stride, requires_grad, hooks"
                    + "[, metadata])");
        }
        long offset = asLong(a.get(1), "storage offset", at);
        long[] shape = longs(a.get(2), "size", at);
        long[] stride = longs(a.get(3), "stride", at);
        if (shape.length != stride.length) {
            throw error(at, "tensor size " + Arrays.toString(shape) + " and stride " + Arrays.toString(stride)
                    + " differ in rank");
        }
        return new TensorRef(storage, offset, shape, stride);
    }

    private long[] longs(Object o, String what, int at) {
        if (!(o instanceof PyTuple t)) {
            throw error(at, "tensor " + what + " is a " + typeName(o) + ", not a tuple");
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = asLong(t.get(i), what, at);
        }
        return out;
    }

    private long asLong(Object o, String what, int at) {
        if (o instanceof Long l) {
            return l;
        }
        throw error(at, "tensor " + what + " holds a " + typeName(o) + " where an integer was expected");
    }

    // ---- the stack ----

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop(int at) {
        int n = stack.size();
        if (n == 0 || (!marks.isEmpty() && marks.get(marks.size() - 1) >= n)) {
            throw error(at, "pickle stack underflow");
        }
        return stack.remove(n - 1);
    }

    private Object peek(int at) {
        int n = stack.size();
        if (n == 0 || (!marks.isEmpty() && marks.get(marks.size() - 1) >= n)) {
            throw error(at, "pickle stack underflow");
        }
        return stack.get(n - 1);
    }

    /** Removes and returns everything above the last MARK. */
    private List<Object> popMark(int at) {
        if (marks.isEmpty()) {
            throw error(at, "no MARK on the pickle stack");
        }
        int mark = marks.remove(marks.size() - 1);
        List<Object> top = stack.subList(mark, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private PyTuple tuple(int n, int at) {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) {
            items[i] = pop(at);
        }
        return new PyTuple(Arrays.asList(items));
    }

    private void putPairs(Map<Object, Object> dict, List<Object> items, int at) {
        if (items.size() % 2 != 0) {
            throw error(at, "odd number of items for a dict");
        }
        for (int i = 0; i < items.size(); i += 2) {
            dict.put(hashable(items.get(i), at), items.get(i + 1));
        }
    }

    private Object memoGet(long index, int at) {
        if (!memo.containsKey(index)) {
            throw error(at, "memo entry " + index + " was never stored");
        }
        return memo.get(index);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, int at) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw error(at, "cannot append to a " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, int at) {
        if (o instanceof LinkedHashMap<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw error(at, "cannot set an item on a " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private Set<Object> set(Object o, int at) {
        if (o instanceof LinkedHashSet<?> s) {
            return (Set<Object>) s;
        }
        throw error(at, "cannot add to a " + typeName(o));
    }

    /**
     * Dict keys and set members: scalars, or tuples of scalars. Python allows any hashable value, but state
     * dicts only use strings and ints; refusing nested tuples keeps hashing and comparing keys linear (a
     * pickle can share sub-tuples to describe exponentially large ones) and rules out self-referencing keys.
     */
    private Object hashable(Object key, int at) {
        if (isScalar(key)) {
            return key;
        }
        if (key instanceof PyTuple t) {
            for (int i = 0; i < t.size(); i++) {
                if (!isScalar(t.get(i))) {
                    throw error(at, "unsupported dict key: a tuple holding a " + typeName(t.get(i)));
                }
            }
            return key;
        }
        throw error(at, "unhashable or unsupported dict key of type " + typeName(key));
    }

    private static boolean isScalar(Object o) {
        return o == null || o instanceof String || o instanceof Long || o instanceof BigInteger || o instanceof Double
                || o instanceof Boolean || o instanceof Global;
    }

    // ---- reading the byte stream ----

    private int u8() {
        need(1);
        return data[pos++] & 0xFF;
    }

    private int u16() {
        need(2);
        int v = (data[pos] & 0xFF) | (data[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    private int i32() {
        need(4);
        int v = ByteBuffer.wrap(data, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        pos += 4;
        return v;
    }

    private long i64() {
        need(8);
        long v = ByteBuffer.wrap(data, pos, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        pos += 8;
        return v;
    }

    private int length(long declared, int at) {
        if (declared < 0 || declared > data.length - pos) {
            throw error(at, "a length of " + declared + " bytes runs past the end of the pickle");
        }
        return (int) declared;
    }

    private byte[] bytes(int n) {
        need(n);
        byte[] out = Arrays.copyOfRange(data, pos, pos + n);
        pos += n;
        return out;
    }

    private void checkFrame(long n) {
        if (n < 0 || n > data.length - pos) {
            throw error(pos, "a frame of " + n + " bytes runs past the end of the pickle");
        }
    }

    private void need(int n) {
        if (n < 0 || n > data.length - pos) {
            throw new CheckpointException(source + ": the pickle ends early (truncated at byte " + data.length + ")");
        }
    }

    /** A newline-terminated ASCII argument of the text opcodes, at most 256 bytes. */
    private String line(int at) {
        int end = pos;
        while (end < data.length && end - pos <= 256 && data[end] != '\n') {
            end++;
        }
        if (end >= data.length || data[end] != '\n') {
            throw error(at, "unterminated text argument");
        }
        String s = new String(data, pos, end - pos, StandardCharsets.ISO_8859_1);
        pos = end + 1;
        return s;
    }

    private Object textInt(int at) {
        String s = line(at);
        if (s.equals("01")) {
            return Boolean.TRUE;
        }
        if (s.equals("00")) {
            return Boolean.FALSE;
        }
        return parseInteger(s, at);
    }

    private Object textLong(int at) {
        String s = line(at);
        return parseInteger(s.endsWith("L") ? s.substring(0, s.length() - 1) : s, at);
    }

    private Object parseInteger(String s, int at) {
        try {
            return normalise(new BigInteger(s.strip()));
        } catch (NumberFormatException e) {
            throw error(at, "bad integer literal '" + printable(s) + "'");
        }
    }

    private Double textFloat(int at) {
        String s = line(at);
        try {
            return Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            throw error(at, "bad float literal '" + printable(s) + "'");
        }
    }

    private long textMemoIndex(int at) {
        Object v = parseInteger(line(at), at);
        if (!(v instanceof Long l) || l < 0) {
            throw error(at, "bad memo index");
        }
        return l;
    }

    private static Object littleEndianInt(byte[] le) {
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        return normalise(new BigInteger(be));
    }

    private static Object normalise(BigInteger v) {
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String utf8(byte[] bytes, int at) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            // Python writes surrogates with 'surrogatepass'; such names never occur in state dicts.
            throw error(at, "a string is not valid UTF-8");
        }
    }

    private CheckpointException error(int at, String problem) {
        return new CheckpointException(source + ": " + problem + " (at byte " + at + ")");
    }

    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof PyTuple) {
            return "tuple";
        }
        if (o instanceof List) {
            return "list";
        }
        if (o instanceof Map) {
            return "dict";
        }
        if (o instanceof Set) {
            return "set";
        }
        if (o instanceof Global g) {
            return g.qualifiedName();
        }
        if (o instanceof byte[]) {
            return "bytes";
        }
        if (o instanceof TensorRef) {
            return "tensor";
        }
        if (o instanceof StorageRef) {
            return "storage";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof Long || o instanceof BigInteger) {
            return "int";
        }
        if (o instanceof Double) {
            return "float";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        return o.getClass().getSimpleName();
    }

    /** Names from a hostile file are printed with control characters escaped, and cut at 200 chars. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
