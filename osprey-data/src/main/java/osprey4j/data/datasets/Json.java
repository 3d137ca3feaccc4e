package osprey4j.data.datasets;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import osprey4j.data.coco.Segmentation;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Token-level helpers shared by the streaming readers. Field readers either return a value or throw
 * {@link EntryProblem}; in both cases the value they were looking at has been consumed completely, so the entry
 * loop can go on with the next field.
 */
final class Json {
    /** One factory for all readers; the fast double parser matters for polygon-heavy files. */
    static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();

    private Json() {
    }

    /** Consumes the rest of the value the parser is in, so that the token after it comes next. */
    static void finishValue(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
            p.skipChildren();
        }
    }

    /**
     * Consumes the remaining elements of the array the parser is in and its closing bracket. Call it with the
     * current token being the array's start or the last token of an element already consumed.
     */
    static void skipRemainingElements(JsonParser p) throws IOException {
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == null) {
                throw new IOException("unexpected end of input inside an array");
            }
            finishValue(p);
        }
    }

    /** Rejects the current array element: consumes it and the rest of its array, then builds the problem. */
    private static EntryProblem badElement(JsonParser p, String field, String expected) throws IOException {
        String found = describe(p.currentToken());
        finishValue(p);
        skipRemainingElements(p);
        return new EntryProblem(field, "expected " + expected + ", found " + found);
    }

    static String describe(JsonToken t) {
        if (t == null) {
            return "end of input";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT -> "an integer";
            case VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    private static EntryProblem wrongType(JsonParser p, String field, String expected) throws IOException {
        String found = describe(p.currentToken());
        finishValue(p);
        return new EntryProblem(field, "expected " + expected + ", found " + found);
    }

    static String string(JsonParser p, String field) throws IOException, EntryProblem {
        if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw wrongType(p, field, "a string");
        }
        return p.getText();
    }

    /** An integer; a float with no fractional part (480.0, as some converters write sizes) is accepted too. */
    static long integer(JsonParser p, String field) throws IOException, EntryProblem {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NUMBER_INT) {
            return p.getLongValue();
        }
        if (t == JsonToken.VALUE_NUMBER_FLOAT) {
            double d = p.getDoubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 0x1p53) {
                return (long) d;
            }
            throw new EntryProblem(field, "expected an integer, found " + p.getText());
        }
        throw wrongType(p, field, "an integer");
    }

    static int positiveInt(JsonParser p, String field) throws IOException, EntryProblem {
        long v = integer(p, field);
        if (v <= 0 || v > Integer.MAX_VALUE) {
            throw new EntryProblem(field, "expected a positive size, found " + v);
        }
        return (int) v;
    }

    static double number(JsonParser p, String field) throws IOException, EntryProblem {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
            return p.getDoubleValue();
        }
        throw wrongType(p, field, "a number");
    }

    /** 0/1 or false/true, as {@code iscrowd} and {@code ignore} appear in the wild. */
    static boolean flag(JsonParser p, String field) throws IOException, EntryProblem {
        return switch (p.currentToken()) {
            case VALUE_TRUE -> true;
            case VALUE_FALSE, VALUE_NULL -> false;
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> p.getDoubleValue() != 0;
            default -> throw wrongType(p, field, "0/1 or a boolean");
        };
    }

    static double[] numbers(JsonParser p, String field, DoubleList scratch) throws IOException, EntryProblem {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw wrongType(p, field, "an array of numbers");
        }
        scratch.clear();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
                throw badElement(p, field, "numbers");
            }
            scratch.add(p.getDoubleValue());
        }
        return scratch.toArray();
    }

    static long[] longs(JsonParser p, String field) throws IOException, EntryProblem {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw wrongType(p, field, "an array of integers");
        }
        long[] out = new long[8];
        int n = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw badElement(p, field, "integers");
            }
            if (n == out.length) {
                out = Arrays.copyOf(out, n * 2);
            }
            out[n++] = p.getLongValue();
        }
        return Arrays.copyOf(out, n);
    }

    static List<String> strings(JsonParser p, String field) throws IOException, EntryProblem {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw wrongType(p, field, "an array of strings");
        }
        List<String> out = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_STRING) {
                throw badElement(p, field + "[" + out.size() + "]", "a string");
            }
            out.add(p.getText());
        }
        return out;
    }

    /**
     * A COCO {@code segmentation}: a non-empty list of polygons, each a flat x0,y0,x1,y1,... list (an odd count is
     * malformed; short polygons are passed on as written, the rasteriser treats them as pycocotools does), or an
     * RLE object {@code {"size":[h,w],"counts":[...] or "..."}}.
     */
    static Segmentation segmentation(JsonParser p, String field, DoubleList scratch) throws IOException, EntryProblem {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_ARRAY) {
            List<double[]> polygons = new ArrayList<>();
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                String at = field + "[" + polygons.size() + "]";
                if (t != JsonToken.START_ARRAY) {
                    throw badElement(p, at, "a polygon (array of numbers)");
                }
                double[] polygon;
                try {
                    polygon = numbers(p, at, scratch);
                } catch (EntryProblem e) {
                    skipRemainingElements(p);
                    throw e;
                }
                if (polygon.length % 2 != 0) {
                    skipRemainingElements(p);
                    throw new EntryProblem(at, "a polygon needs x,y pairs, found " + polygon.length + " numbers");
                }
                polygons.add(polygon);
            }
            if (polygons.isEmpty()) {
                throw new EntryProblem(field, "no polygons");
            }
            return new Segmentation.Polygons(polygons);
        }
        if (t == JsonToken.START_OBJECT) {
            return rle(p, field);
        }
        throw wrongType(p, field, "polygons or an RLE object");
    }

    private static Segmentation rle(JsonParser p, String field) throws IOException, EntryProblem {
        long[] size = null;
        long[] counts = null;
        String compressed = null;
        EntryProblem problem = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            if (problem != null) {
                finishValue(p);
                continue;
            }
            try {
                switch (name) {
                    case "size" -> size = longs(p, field + ".size");
                    case "counts" -> {
                        if (p.currentToken() == JsonToken.VALUE_STRING) {
                            compressed = p.getText();
                        } else {
                            counts = longs(p, field + ".counts");
                        }
                    }
                    default -> finishValue(p);
                }
            } catch (EntryProblem e) {
                problem = e;
            }
        }
        if (problem != null) {
            throw problem;
        }
        if (size == null || size.length != 2 || size[0] <= 0 || size[1] <= 0
                || size[0] > Integer.MAX_VALUE || size[1] > Integer.MAX_VALUE) {
            throw new EntryProblem(field + ".size", size == null ? "missing" : "expected [height, width], found "
                    + Arrays.toString(size));
        }
        int h = (int) size[0];
        int w = (int) size[1];
        if (compressed != null) {
            return new Segmentation.CompressedRle(h, w, compressed);
        }
        if (counts == null) {
            throw new EntryProblem(field + ".counts", "missing");
        }
        for (long c : counts) {
            if (c < 0) {
                throw new EntryProblem(field + ".counts", "negative run length " + c);
            }
        }
        return new Segmentation.UncompressedRle(h, w, counts);
    }

    /**
     * Runs an object entry's fields through {@code field}; after the first problem the remaining fields are only
     * skipped, so the parser always ends at the entry's END_OBJECT. Null values count as absent.
     */
    static void fields(JsonParser p, FieldReader field) throws IOException, EntryProblem {
        EntryProblem problem = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            if (problem != null || v == JsonToken.VALUE_NULL) {
                Json.finishValue(p);
                continue;
            }
            try {
                field.read(name);
            } catch (EntryProblem e) {
                problem = e;
            }
        }
        if (problem != null) {
            throw problem;
        }
    }

    @FunctionalInterface
    interface FieldReader {
        /** Reads the value of field {@code name} (the parser is at its first token), or skips it. */
        void read(String name) throws IOException, EntryProblem;
    }

    static DatasetFormatException topLevel(Path file, JsonParser p, String field, String problem) {
        JsonLocation loc = p.currentTokenLocation();
        return new DatasetFormatException(file, loc.getLineNr(), loc.getColumnNr(), field, problem);
    }

    static void requirePresent(Object value, String field) throws EntryProblem {
        if (value == null) {
            throw new EntryProblem(field, "missing");
        }
    }

    /** Wraps a parse failure (bad JSON syntax, I/O) with the file and position. */
    static DatasetFormatException syntax(Path file, long lineOffset, JsonProcessingException e) {
        JsonLocation loc = e.getLocation();
        long line = loc == null ? 0 : loc.getLineNr() + lineOffset;
        long col = loc == null ? 0 : loc.getColumnNr();
        return new DatasetFormatException(file, line, col, "$", "not valid JSON: " + e.getOriginalMessage(), e);
    }

    /** A growable double array reused across entries, so parsing polygons allocates only the final arrays. */
    static final class DoubleList {
        private double[] data = new double[256];
        private int size;

        void clear() {
            size = 0;
        }

        void add(double v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        double[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
