package osprey4j.model.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * Just enough of the protobuf wire format to read a SentencePiece {@code tokenizer.model}: a cursor over
 * (field number, wire type, value) triples. Every length is checked against the bytes actually present,
 * so a truncated or hostile file fails with a clear message instead of reading past its end.
 */
final class ProtobufReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final byte[] bytes;
    private int pos;
    private final int end;
    private int field;
    private int wireType;

    ProtobufReader(byte[] bytes) {
        this(bytes, 0, bytes.length);
    }

    private ProtobufReader(byte[] bytes, int from, int to) {
        this.bytes = bytes;
        this.pos = from;
        this.end = to;
    }

    /** Advances to the next field; false at the end of the message. */
    boolean next() {
        if (pos >= end) {
            return false;
        }
        long key = readVarint();
        field = (int) (key >>> 3);
        wireType = (int) (key & 7);
        if (field <= 0) {
            throw malformed("field number " + field);
        }
        return true;
    }

    int field() {
        return field;
    }

    int wireType() {
        return wireType;
    }

    long varint() {
        expect(VARINT);
        return readVarint();
    }

    boolean bool() {
        return varint() != 0;
    }

    float fixed32Float() {
        expect(FIXED32);
        require(4);
        int v = (bytes[pos] & 0xff) | (bytes[pos + 1] & 0xff) << 8 | (bytes[pos + 2] & 0xff) << 16
                | (bytes[pos + 3] & 0xff) << 24;
        pos += 4;
        return Float.intBitsToFloat(v);
    }

    String string() {
        int len = length();
        String s = new String(bytes, pos, len, StandardCharsets.UTF_8);
        pos += len;
        return s;
    }

    byte[] bytes() {
        int len = length();
        byte[] out = java.util.Arrays.copyOfRange(bytes, pos, pos + len);
        pos += len;
        return out;
    }

    /** A reader over the embedded message that is the current field's value. */
    ProtobufReader message() {
        int len = length();
        ProtobufReader sub = new ProtobufReader(bytes, pos, pos + len);
        pos += len;
        return sub;
    }

    /** Skips the current field's value, whatever its type. */
    void skip() {
        switch (wireType) {
            case VARINT -> readVarint();
            case FIXED64 -> { require(8); pos += 8; }
            case LENGTH_DELIMITED -> {
                int len = length(); // reads the length varint first, so pos must be read after it
                pos += len;
            }
            case FIXED32 -> { require(4); pos += 4; }
            default -> throw malformed("unsupported wire type " + wireType + " in field " + field);
        }
    }

    private int length() {
        expect(LENGTH_DELIMITED);
        long len = readVarint();
        if (len < 0 || len > end - pos) {
            throw malformed("field " + field + " declares " + len + " bytes but only " + (end - pos) + " remain");
        }
        return (int) len;
    }

    private long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            require(1);
            byte b = bytes[pos++];
            result |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw malformed("varint longer than 10 bytes");
    }

    private void expect(int type) {
        if (wireType != type) {
            throw malformed("field " + field + " has wire type " + wireType + ", expected " + type);
        }
    }

    private void require(int n) {
        if (end - pos < n) {
            throw malformed("truncated at byte " + pos);
        }
    }

    private static IllegalArgumentException malformed(String what) {
        return new IllegalArgumentException("malformed SentencePiece model: " + what);
    }
}
