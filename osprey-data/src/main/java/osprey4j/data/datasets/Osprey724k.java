package osprey4j.data.datasets;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import osprey4j.data.coco.Segmentation;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads Osprey-724K files. The schema, learnt from the reference's loader: a root array of objects with
 * {@code file_name}, {@code height}, {@code width} (required), {@code annotation} (required: a list of objects whose
 * {@code segmentation} is required, polygons or RLE), {@code conversations} (a list of {@code {from, value}}) and
 * {@code description} (a list of strings). Other members are ignored.
 *
 * <p>A record with a region that has no usable segmentation is skipped whole: the text numbers regions by position,
 * so dropping one region would misalign every later reference.
 */
public final class Osprey724k {
    private Osprey724k() {
    }

    /** Streams the records of one file. Close the stream if you stop early. */
    public static Stream<Osprey724kEntry> read(Path file, ReadReport report) throws IOException {
        Json.DoubleList scratch = new Json.DoubleList();
        return RootArrayReader.stream(file, report, "Osprey-724K", (p, index, line) -> parse(p, index, line, scratch));
    }

    private static Osprey724kEntry parse(JsonParser p, long index, long line, Json.DoubleList scratch)
            throws IOException, EntryProblem {
        var b = new Object() {
            String fileName;
            int width;
            int height;
            List<Segmentation> regions;
            List<Turn> conversations = List.of();
            List<String> descriptions = List.of();
        };
        Json.fields(p, name -> {
            switch (name) {
                case "file_name" -> b.fileName = Json.string(p, "file_name");
                case "width" -> b.width = Json.positiveInt(p, "width");
                case "height" -> b.height = Json.positiveInt(p, "height");
                case "annotation" -> b.regions = regions(p, scratch);
                case "conversations" -> b.conversations = turns(p, "conversations");
                case "description" -> b.descriptions = Json.strings(p, "description");
                default -> Json.finishValue(p);
            }
        });
        Json.requirePresent(b.fileName, "file_name");
        if (b.width == 0) {
            throw new EntryProblem("width", "missing");
        }
        if (b.height == 0) {
            throw new EntryProblem("height", "missing");
        }
        Json.requirePresent(b.regions, "annotation");
        return new Osprey724kEntry(b.fileName, b.width, b.height, b.regions, b.conversations, b.descriptions,
                index, line);
    }

    /** A list of objects each holding a required {@code segmentation}. */
    static List<Segmentation> regions(JsonParser p, Json.DoubleList scratch) throws IOException, EntryProblem {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            String found = Json.describe(p.currentToken());
            Json.finishValue(p);
            throw new EntryProblem("annotation", "expected an array of region objects, found " + found);
        }
        List<Segmentation> out = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            String at = "annotation[" + out.size() + "]";
            if (t != JsonToken.START_OBJECT) {
                String found = Json.describe(t);
                Json.finishValue(p);
                Json.skipRemainingElements(p);
                throw new EntryProblem(at, "expected an object, found " + found);
            }
            var b = new Object() {
                Segmentation segmentation;
            };
            try {
                Json.fields(p, name -> {
                    if (name.equals("segmentation")) {
                        b.segmentation = Json.segmentation(p, at + ".segmentation", scratch);
                    } else {
                        Json.finishValue(p);
                    }
                });
                Json.requirePresent(b.segmentation, at + ".segmentation");
            } catch (EntryProblem e) {
                Json.skipRemainingElements(p);
                throw e;
            }
            out.add(b.segmentation);
        }
        return out;
    }

    /** A list of {@code {"from": ..., "value": ...}} objects. */
    static List<Turn> turns(JsonParser p, String field) throws IOException, EntryProblem {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            String found = Json.describe(p.currentToken());
            Json.finishValue(p);
            throw new EntryProblem(field, "expected an array of turns, found " + found);
        }
        List<Turn> out = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            String at = field + "[" + out.size() + "]";
            if (t != JsonToken.START_OBJECT) {
                String found = Json.describe(t);
                Json.finishValue(p);
                Json.skipRemainingElements(p);
                throw new EntryProblem(at, "expected an object, found " + found);
            }
            var b = new Object() {
                String from;
                String value;
            };
            try {
                Json.fields(p, name -> {
                    switch (name) {
                        case "from" -> b.from = Json.string(p, at + ".from");
                        case "value" -> b.value = Json.string(p, at + ".value");
                        default -> Json.finishValue(p);
                    }
                });
                Json.requirePresent(b.from, at + ".from");
                Json.requirePresent(b.value, at + ".value");
            } catch (EntryProblem e) {
                Json.skipRemainingElements(p);
                throw e;
            }
            out.add(new Turn(b.from, b.value));
        }
        return out;
    }
}
