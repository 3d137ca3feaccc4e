package osprey4j.model.image;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Walks the marker segments of a JPEG file's header (everything before the first scan). */
final class JpegSegments {
    private static final byte[] ICC_ID = "ICC_PROFILE\0".getBytes(StandardCharsets.US_ASCII);
    private static final int APP2 = 0xE2;
    private static final int SOS = 0xDA;
    private static final int EOI = 0xD9;

    private JpegSegments() {
    }

    /**
     * The file without its APP2 ICC_PROFILE segments, or {@code jpeg} itself when it has none. Files that do not
     * parse as a marker sequence are returned unchanged, for the decoder to judge.
     */
    static byte[] withoutIccProfiles(byte[] jpeg) {
        if (jpeg.length < 4 || (jpeg[0] & 0xFF) != 0xFF || (jpeg[1] & 0xFF) != 0xD8) {
            return jpeg;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(jpeg.length);
        out.write(jpeg, 0, 2);
        int pos = 2;
        boolean dropped = false;
        while (pos + 4 <= jpeg.length) {
            if ((jpeg[pos] & 0xFF) != 0xFF) {
                return jpeg;
            }
            int marker = jpeg[pos + 1] & 0xFF;
            if (marker == 0xFF) { // fill byte
                out.write(0xFF);
                pos++;
                continue;
            }
            if (marker == SOS || marker == EOI) {
                break;
            }
            int length = (jpeg[pos + 2] & 0xFF) << 8 | jpeg[pos + 3] & 0xFF;
            if (length < 2 || pos + 2 + length > jpeg.length) {
                return jpeg;
            }
            boolean icc = marker == APP2 && length >= 2 + ICC_ID.length
                    && Arrays.equals(jpeg, pos + 4, pos + 4 + ICC_ID.length, ICC_ID, 0, ICC_ID.length);
            if (icc) {
                dropped = true;
            } else {
                out.write(jpeg, pos, 2 + length);
            }
            pos += 2 + length;
        }
        if (!dropped) {
            return jpeg;
        }
        out.write(jpeg, pos, jpeg.length - pos);
        return out.toByteArray();
    }
}
