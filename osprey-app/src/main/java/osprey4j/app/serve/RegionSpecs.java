package osprey4j.app.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import osprey4j.core.mask.Mask;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.InvalidSegmentationException;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.service.Segmenter;

/**
 * Regions as requests give them (the {@code regions} extension field): each an object with a {@code mask} (COCO
 * RLE, compressed or not, or polygons; {@code segmentation} is accepted as its COCO name), a {@code box}
 * [x1, y1, x2, y2] in pixels, or {@code points} [[x, y], ...] with {@code labels} (1 positive, 0 negative), a box
 * allowed alongside. Boxes and points go through the segmenter when one is loaded; without one a box is the
 * rectangle it spans (as {@code osprey ask --box} does) and points are refused.
 */
final class RegionSpecs {
    static final String NEEDS_SAM = "points need a SAM checkpoint (--sam); this server has none, so give regions as"
            + " masks or boxes";

    private RegionSpecs() {
    }

    /** One region as asked for, before it becomes a mask. */
    sealed interface Spec {
    }

    record MaskSpec(Segmentation segmentation) implements Spec {
    }

    record PromptSpec(Segmenter.Prompt prompt) implements Spec {
    }

    /** Parses a {@code regions} array (null or missing: none). */
    static List<Spec> parse(JsonNode regions, int maxRegions) {
        List<Spec> out = new ArrayList<>();
        if (regions == null || regions.isNull() || regions.isMissingNode()) {
            return out;
        }
        if (!regions.isArray()) {
            throw ApiException.invalid("regions", "regions must be an array of {mask|box|points} objects");
        }
        if (regions.size() > maxRegions) {
            throw ApiException.limit("too_many_regions", "regions", "the request has " + regions.size()
                    + " regions; the limit is " + maxRegions + " (--max-regions)");
        }
        for (int i = 0; i < regions.size(); i++) {
            out.add(parseOne(regions.get(i), "regions[" + i + "]"));
        }
        return out;
    }

    static Spec parseOne(JsonNode r, String where) {
        if (!r.isObject()) {
            throw ApiException.invalid(where, where + " must be an object with mask, box or points");
        }
        JsonNode mask = r.has("mask") ? r.get("mask") : r.get("segmentation");
        if (mask != null) {
            try {
                return new MaskSpec(SegmentationJson.read(mask));
            } catch (InvalidSegmentationException e) {
                throw ApiException.invalid(where, where + ".mask: " + e.getMessage());
            }
        }
        double[] box = null;
        if (r.has("box")) {
            box = numbers(r.get("box"), 4, where + ".box", "[x1, y1, x2, y2]");
        }
        List<Segmenter.Point> points = new ArrayList<>();
        if (r.has("points")) {
            JsonNode ps = r.get("points");
            JsonNode labels = r.get("labels");
            if (!ps.isArray() || ps.isEmpty()) {
                throw ApiException.invalid(where, where + ".points must be a non-empty array of [x, y]");
            }
            if (ps.size() > 64) {
                throw ApiException.limit("too_many_points", where, where + " has " + ps.size() + " points; the limit"
                        + " is 64");
            }
            if (labels != null && (!labels.isArray() || labels.size() != ps.size())) {
                throw ApiException.invalid(where, where + ".labels must have one 0/1 label per point");
            }
            for (int i = 0; i < ps.size(); i++) {
                double[] xy = numbers(ps.get(i), 2, where + ".points[" + i + "]", "[x, y]");
                boolean positive = labels == null || labels.get(i).asInt(1) != 0;
                points.add(new Segmenter.Point(xy[0], xy[1], positive));
            }
        }
        if (box == null && points.isEmpty()) {
            throw ApiException.invalid(where, where + " has none of mask, box, points");
        }
        return new PromptSpec(new Segmenter.Prompt(points, box));
    }

    /** The masks of {@code specs} for an image of this size. */
    static List<Mask> masks(List<Spec> specs, int width, int height, Segmenter segmenter,
                            java.util.function.Supplier<Segmenter.Prepared> prepared) {
        List<Mask> out = new ArrayList<>(specs.size());
        for (int i = 0; i < specs.size(); i++) {
            out.add(mask(specs.get(i), "regions[" + i + "]", width, height, segmenter, prepared));
        }
        return out;
    }

    static Mask mask(Spec spec, String where, int width, int height, Segmenter segmenter,
                     java.util.function.Supplier<Segmenter.Prepared> prepared) {
        return switch (spec) {
            case MaskSpec m -> decode(m.segmentation(), where, width, height);
            case PromptSpec p -> {
                Segmenter.Prompt prompt = p.prompt();
                if (segmenter != null) {
                    yield segmenter.segment(prepared.get(), prompt);
                }
                if (!prompt.points().isEmpty()) {
                    throw new ApiException(400, "invalid_request_error", "segmenter_required", where, NEEDS_SAM, 0);
                }
                yield rectangle(prompt.box(), where, width, height);
            }
        };
    }

    /** Polygon vertices per region: each costs a line walk as long as the image, so they are bounded. */
    static final int MAX_POLYGON_VERTICES = 10_000;

    private static Mask decode(Segmentation s, String where, int width, int height) {
        // Checked before decoding: a mask is allocated at the size an RLE declares, a polygon is walked edge by edge.
        switch (s) {
            case Segmentation.CompressedRle r -> checkSize(r.height(), r.width(), where, width, height);
            case Segmentation.UncompressedRle r -> checkSize(r.height(), r.width(), where, width, height);
            case Segmentation.Polygons p -> {
                long vertices = 0;
                for (double[] poly : p.polygons()) {
                    vertices += poly.length / 2;
                    for (int i = 0; i < poly.length; i++) {
                        double limit = i % 2 == 0 ? width : height;
                        if (!(poly[i] >= -limit && poly[i] <= 2 * limit)) {
                            throw ApiException.invalid(where, where + ".mask has a polygon point far outside the "
                                    + width + "x" + height + " image (" + poly[i] + ")");
                        }
                    }
                }
                if (vertices > MAX_POLYGON_VERTICES) {
                    throw ApiException.limit("too_many_vertices", where, where + ".mask has " + vertices
                            + " polygon vertices; the limit is " + MAX_POLYGON_VERTICES);
                }
            }
        }
        Mask m;
        try {
            m = s instanceof Segmentation.Polygons ? CocoMasks.decode(s, height, width) : CocoMasks.decode(s);
        } catch (InvalidSegmentationException e) {
            throw ApiException.invalid(where, where + ".mask: " + e.getMessage());
        }
        if (m.width() != width || m.height() != height) {
            throw ApiException.invalid(where, where + ".mask is " + m.width() + "x" + m.height() + " but the image is "
                    + width + "x" + height + " (width x height); a mask's size is [height, width] of the image");
        }
        return m;
    }

    private static void checkSize(int h, int w, String where, int width, int height) {
        if (w != width || h != height) {
            throw ApiException.invalid(where, where + ".mask is " + w + "x" + h + " but the image is " + width + "x"
                    + height + " (width x height); a mask's size is [height, width] of the image");
        }
    }

    /** Pixels with x1 <= x < x2 and y1 <= y < y2, rounded and clipped to the image. */
    static Mask rectangle(double[] box, String where, int width, int height) {
        int x1 = clamp(Math.round(box[0]), width), y1 = clamp(Math.round(box[1]), height);
        int x2 = clamp(Math.round(box[2]), width), y2 = clamp(Math.round(box[3]), height);
        if (x2 <= x1 || y2 <= y1) {
            throw ApiException.invalid(where, where + ".box covers no pixel of the " + width + "x" + height
                    + " image (needs x1 < x2 and y1 < y2 inside it)");
        }
        Mask.Builder b = Mask.builder(width, height);
        for (int y = y1; y < y2; y++) {
            for (int x = x1; x < x2; x++) {
                b.set(x, y);
            }
        }
        return b.build();
    }

    private static int clamp(long v, int max) {
        return (int) Math.max(0, Math.min(max, v));
    }

    private static double[] numbers(JsonNode n, int count, String where, String form) {
        if (n == null || !n.isArray() || n.size() != count) {
            throw ApiException.invalid(where, where + " must be " + form);
        }
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            if (!n.get(i).isNumber() || !Double.isFinite(n.get(i).asDouble())) {
                throw ApiException.invalid(where, where + " must be " + form + " with finite numbers");
            }
            out[i] = n.get(i).asDouble();
        }
        return out;
    }

    /** A mask's canonical text (its compressed RLE), for conversation digests. */
    static String canonical(Mask m) {
        return SegmentationJson.write(CocoMasks.encode(m)).toString();
    }
}
