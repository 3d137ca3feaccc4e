package osprey4j.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;
import osprey4j.core.mask.Rle;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.coco.SegmentationJson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code osprey mask ...}: mask files. */
@Command(name = "mask", mixinStandardHelpOptions = true,
        description = "Mask files: convert between PNG masks and COCO segmentations.",
        subcommands = {MaskCommand.Convert.class})
final class MaskCommand {

    @Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                    "Converts a mask between a PNG and a COCO segmentation, chosen by the file extensions:",
                    "  .png    a mask image; any non-zero pixel is foreground (palette PNGs: non-zero index;"
                            + " RGB(A): any non-black colour). Written as 8-bit grey 0/255.",
                    "  .json   a COCO segmentation value (polygon list, uncompressed or compressed RLE), or an"
                            + " object with a \"segmentation\" field (optional \"height\"/\"width\" give the"
                            + " size for polygons). Written as {\"segmentation\": compressed RLE, \"area\","
                            + " \"bbox\"} computed as pycocotools does (except that zero-length runs of an"
                            + " uncompressed RLE are merged: the mask's own RLE and box), keeping the object's"
                            + " other fields.",
                    "  .jsonl  one .json value per line, converted line by line (streaming); both --in and"
                            + " --out must be .jsonl.",
                    "The output appears only when the whole conversion succeeded."})
    static final class Convert implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--in", required = true, paramLabel = "FILE", description = "Input: .png, .json or .jsonl.")
        Path in;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output: .png, .json or .jsonl.")
        Path out;

        @Option(names = "--size", paramLabel = "HxW",
                description = "Image height x width: needed for polygons (they carry no size); checked against"
                        + " RLEs and PNGs.")
        String size;

        @Option(names = "--instances",
                description = "Read the PNG as a label map (palette index or grey value = instance id, 0 ="
                        + " background) and write one segmentation per id, with an \"id\" field"
                        + " (.json: a list; .jsonl: one per line).")
        boolean instances;

        @Option(names = "--json", description = "Print a summary as JSON.")
        boolean json;

        private static final ObjectMapper MAPPER = new ObjectMapper();

        @Override
        public Integer call() throws IOException {
            Format from = Format.of(in, "--in"), to = Format.of(out, "--out");
            int[] hw = size == null ? new int[] {0, 0} : parseSize(size);
            if (!Files.isRegularFile(in)) {
                throw new UsageException("input file not found: " + in);
            }
            if ((from == Format.JSONL) != (to == Format.JSONL) && !(instances && to == Format.JSONL)) {
                throw new UsageException(".jsonl converts only to .jsonl (one segmentation per line); got --in "
                        + in.getFileName() + " and --out " + out.getFileName());
            }
            ObjectNode summary = MAPPER.createObjectNode();
            summary.put("in", in.toString());
            summary.put("out", out.toString());
            if (instances) {
                convertInstances(from, to, hw, summary);
            } else if (from == Format.JSONL) {
                convertLines(hw, summary);
            } else {
                convertOne(from, to, hw, summary);
            }
            PrintWriter stdout = spec.commandLine().getOut();
            if (json) {
                stdout.println(summary.toString());
            } else if (summary.has("count")) {
                stdout.println("wrote " + out + ": " + summary.get("count").asLong() + " segmentation(s)");
            } else {
                stdout.println("wrote " + out + ": " + summary.get("height").asInt() + "x"
                        + summary.get("width").asInt() + " (height x width), area " + summary.get("area").asLong()
                        + ", bbox " + summary.get("bbox"));
            }
            stdout.flush();
            return 0;
        }

        private void convertOne(Format from, Format to, int[] hw, ObjectNode summary) throws IOException {
            Rle rle;
            ObjectNode record;
            if (from == Format.PNG) {
                Mask mask = readPng(in);
                checkSize(hw, mask.height(), mask.width(), "the PNG");
                rle = Rle.encode(mask);
                record = MAPPER.createObjectNode();
            } else {
                JsonNode node;
                try {
                    node = MAPPER.readTree(in.toFile());
                } catch (JsonProcessingException e) {
                    throw new UsageException(in + ": not valid JSON: " + e.getOriginalMessage());
                }
                record = asRecord(node);
                try {
                    rle = toRle(record, hw);
                } catch (IllegalArgumentException e) {
                    throw new UsageException(in + ": " + e.getMessage());
                }
            }
            describe(rle, summary);
            if (to == Format.PNG) {
                Mask mask = rle.toMask();
                writeAtomically(out, file -> MaskPng.write(mask, file));
            } else {
                ObjectNode result = withRle(record, rle);
                writeAtomically(out, file -> Files.writeString(file, result.toString() + "\n"));
            }
        }

        private void convertLines(int[] hw, ObjectNode summary) throws IOException {
            long[] count = {0};
            writeAtomically(out, file -> {
                try (BufferedReader reader = Files.newBufferedReader(in, StandardCharsets.UTF_8);
                        BufferedWriter writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                    long lineNo = 0;
                    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                        lineNo++;
                        if (line.isBlank()) {
                            continue;
                        }
                        ObjectNode result;
                        try {
                            ObjectNode record = asRecord(MAPPER.readTree(line));
                            result = withRle(record, toRle(record, hw));
                        } catch (JsonProcessingException e) {
                            throw new UsageException(in + " line " + lineNo + ": not valid JSON: "
                                    + e.getOriginalMessage());
                        } catch (UsageException | IllegalArgumentException e) {
                            throw new UsageException(in + " line " + lineNo + ": " + e.getMessage());
                        }
                        writer.write(result.toString());
                        writer.write('\n');
                        count[0]++;
                    }
                }
            });
            summary.put("count", count[0]);
        }

        private void convertInstances(Format from, Format to, int[] hw, ObjectNode summary) throws IOException {
            if (from != Format.PNG || to == Format.PNG) {
                throw new UsageException("--instances reads a .png label map and writes .json or .jsonl");
            }
            SortedMap<Integer, Mask> masks;
            try {
                masks = MaskPng.readInstances(in);
            } catch (IOException e) {
                throw new UsageException(e.getMessage());
            }
            ArrayNode list = MAPPER.createArrayNode();
            for (Map.Entry<Integer, Mask> e : masks.entrySet()) {
                checkSize(hw, e.getValue().height(), e.getValue().width(), "the PNG");
                ObjectNode record = MAPPER.createObjectNode();
                record.put("id", e.getKey());
                list.add(withRle(record, Rle.encode(e.getValue())));
            }
            summary.put("count", list.size());
            writeAtomically(out, file -> {
                StringBuilder text = new StringBuilder();
                if (to == Format.JSON) {
                    text.append(list).append('\n');
                } else {
                    list.forEach(n -> text.append(n).append('\n'));
                }
                Files.writeString(file, text);
            });
        }

        /** A top-level value as an object with a "segmentation" field (a bare segmentation gets wrapped). */
        private static ObjectNode asRecord(JsonNode node) {
            if (node.isObject() && node.has("segmentation")) {
                return (ObjectNode) node.deepCopy();
            }
            ObjectNode record = MAPPER.createObjectNode();
            record.set("segmentation", node);
            return record;
        }

        private static Rle toRle(ObjectNode record, int[] hw) {
            Segmentation seg = SegmentationJson.read(record.get("segmentation"));
            int h = hw[0], w = hw[1];
            if (h == 0 && record.hasNonNull("height") && record.hasNonNull("width")) {
                JsonNode rh = record.get("height"), rw = record.get("width");
                if (!rh.isIntegralNumber() || !rw.isIntegralNumber()) {
                    throw new UsageException("\"height\" and \"width\" must be integers");
                }
                h = rh.intValue();
                w = rw.intValue();
                if (h <= 0 || w <= 0) {
                    throw new UsageException("\"height\" and \"width\" must be positive, got " + h + " and " + w);
                }
            }
            if (seg instanceof Segmentation.Polygons && h == 0) {
                throw new UsageException("polygons carry no image size; give --size HxW (or \"height\" and"
                        + " \"width\" next to the segmentation)");
            }
            return CocoMasks.toRle(seg, h, w);
        }

        /** The record with its segmentation replaced by the compressed RLE, plus pycocotools' area and bbox. */
        private static ObjectNode withRle(ObjectNode record, Rle rle) {
            ObjectNode result = MAPPER.createObjectNode();
            record.fields().forEachRemaining(f -> {
                if (!f.getKey().equals("area") && !f.getKey().equals("bbox")) {
                    result.set(f.getKey(), f.getValue());
                }
            });
            result.set("segmentation", SegmentationJson.write(CocoMasks.compressed(rle)));
            result.put("area", rle.area());
            ArrayNode bbox = result.putArray("bbox");
            for (double v : rle.toBbox()) {
                bbox.add(v);
            }
            return result;
        }

        private static void describe(Rle rle, ObjectNode summary) {
            summary.put("height", rle.height());
            summary.put("width", rle.width());
            summary.put("area", rle.area());
            ArrayNode bbox = summary.putArray("bbox");
            for (double v : rle.toBbox()) {
                bbox.add(v);
            }
        }

        private static Mask readPng(Path file) {
            try {
                return MaskPng.read(file);
            } catch (IOException e) {
                throw new UsageException(e.getMessage());
            }
        }

        private static void checkSize(int[] hw, int h, int w, String what) {
            if (hw[0] != 0 && (hw[0] != h || hw[1] != w)) {
                throw new UsageException(what + " is " + h + "x" + w + " (height x width), not the --size "
                        + hw[0] + "x" + hw[1]);
            }
        }

        private static final Pattern SIZE = Pattern.compile("(\\d{1,9})[xX](\\d{1,9})");

        static int[] parseSize(String text) {
            Matcher m = SIZE.matcher(text.strip());
            if (!m.matches()) {
                throw new UsageException("--size must be HEIGHTxWIDTH, e.g. 480x640; got '" + text + "'");
            }
            int h = Integer.parseInt(m.group(1)), w = Integer.parseInt(m.group(2));
            if (h <= 0 || w <= 0) {
                throw new UsageException("--size must be positive, got " + text);
            }
            if ((long) h * w > Mask.MAX_PIXELS) {
                throw new UsageException("--size " + text + " has more than " + Mask.MAX_PIXELS + " pixels");
            }
            return new int[] {h, w};
        }
    }

    enum Format {
        PNG, JSON, JSONL;

        static Format of(Path file, String option) {
            String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".png")) {
                return PNG;
            }
            if (name.endsWith(".jsonl")) {
                return JSONL;
            }
            if (name.endsWith(".json")) {
                return JSON;
            }
            throw new UsageException(option + " " + file + ": unknown format; use a .png, .json or .jsonl file");
        }
    }

    /**
     * Writes {@code target} through a temporary file in the same directory that is renamed into place only
     * when {@code writer} finishes; on any failure the temporary file is removed and nothing appears.
     */
    static void writeAtomically(Path target, AtomicFiles.Body writer) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new UsageException("output directory does not exist: " + dir);
        }
        try {
            AtomicFiles.write(target, writer);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } catch (NoSuchFileException e) {
            throw new UsageException("no such file: " + e.getFile());
        }
    }
}
