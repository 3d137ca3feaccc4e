package osprey4j.data.coco;

import java.util.ArrayList;
import java.util.List;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Rle;

/**
 * COCO segmentations to masks and back, with pycocotools' results: the entry point for dataset readers,
 * evaluation and the {@code osprey mask convert} command. The work is done by {@link Rle} (osprey-core) and
 * {@link PolygonRaster}, a port of pycocotools' {@code maskApi.c}.
 *
 * <p>How a {@link Segmentation} becomes an RLE follows {@code COCO.annToRLE}:
 * <ul>
 *   <li>{@link Segmentation.Polygons}: each polygon is rasterised ({@code frPyObjects}) and the parts are
 *       merged (union) into one RLE. The caller gives the image size. Every polygon goes through
 *       {@code rleFrPoly}, whatever its length. (pycocotools' {@code frPyObjects} refuses a list whose
 *       first polygon has fewer than 6 numbers: with 4 it takes the list for boxes and fails with a
 *       TypeError, with 2 it fails outright. Such a polygon is rasterised here as {@code frPoly} would.)
 *   <li>{@link Segmentation.UncompressedRle}: its runs ({@code frUncompressedRLE}), with zero-length runs merged
 *       away, so that the compressed string and the box are those of the mask (pycocotools keeps them and
 *       computes a wrong box; see {@link Rle}). Runs that are negative, above 2^32-1 or do not add up to the
 *       image are refused.
 *   <li>{@link Segmentation.CompressedRle}: its counts string parsed ({@code rleFrString}).
 * </ul>
 * RLEs carry their own size; where a method also takes a height and width, an RLE of another size is an
 * error (pass {@code 0, 0} to accept any size). All errors in the input are
 * {@link InvalidSegmentationException}s with a message naming the problem; no method returns a wrong mask.
 */
public final class CocoMasks {
    private CocoMasks() {
    }

    /** An RLE segmentation as a mask, at the size it carries. Polygons need a size: use the other overload. */
    public static Mask decode(Segmentation segmentation) {
        return decode(segmentation, 0, 0);
    }

    /**
     * A segmentation as a mask of {@code height x width} pixels (the image's size). For RLEs the size may be
     * {@code 0, 0} to take the RLE's own; otherwise it must match the RLE's.
     */
    public static Mask decode(Segmentation segmentation, int height, int width) {
        return toRle(segmentation, height, width).toMask();
    }

    /** The compressed RLE of a mask ({@code pycocotools.mask.encode}). */
    public static Segmentation.CompressedRle encode(Mask mask) {
        return compressed(Rle.encode(mask));
    }

    /** An RLE as the compressed segmentation value. */
    public static Segmentation.CompressedRle compressed(Rle rle) {
        return new Segmentation.CompressedRle(rle.height(), rle.width(), rle.toCompressedString());
    }

    /** An RLE as an uncompressed segmentation value (counts as a list of runs). */
    public static Segmentation.UncompressedRle uncompressed(Rle rle) {
        return new Segmentation.UncompressedRle(rle.height(), rle.width(), rle.counts());
    }

    /** An RLE segmentation as an {@link Rle}, at its own size. */
    public static Rle toRle(Segmentation segmentation) {
        return toRle(segmentation, 0, 0);
    }

    /**
     * {@code COCO.annToRLE}: any segmentation as one RLE of {@code height x width} (see the class comment; for
     * RLEs {@code 0, 0} means "its own size").
     */
    public static Rle toRle(Segmentation segmentation, int height, int width) {
        return switch (segmentation) {
            case Segmentation.Polygons p -> {
                if (height == 0 && width == 0) {
                    throw new InvalidSegmentationException("polygons carry no image size; give the height and width");
                }
                yield Rle.merge(frPyObjects(p, height, width), false);
            }
            case Segmentation.UncompressedRle u -> checkSize(
                    InvalidSegmentationException.rethrow(() -> Rle.of(u.height(), u.width(), u.counts())), height, width);
            case Segmentation.CompressedRle c -> {
                if (c.counts() == null) {
                    throw new InvalidSegmentationException("compressed RLE has no counts string");
                }
                yield checkSize(InvalidSegmentationException.rethrow(
                        () -> Rle.fromString(c.height(), c.width(), c.counts())), height, width);
            }
        };
    }

    private static Rle checkSize(Rle rle, int height, int width) {
        if ((height != 0 || width != 0) && (rle.height() != height || rle.width() != width)) {
            throw new InvalidSegmentationException("RLE size " + rle.height() + "x" + rle.width()
                    + " (height x width) does not match the expected " + height + "x" + width);
        }
        return rle;
    }

    /**
     * {@code pycocotools.mask.frPyObjects} on a polygon list: one RLE per polygon ({@code rleFrPoly}), not
     * merged. Unlike pycocotools, a first polygon with 2 or 4 numbers is rasterised as a polygon too (see the
     * class comment).
     */
    public static List<Rle> frPyObjects(Segmentation.Polygons polygons, int height, int width) {
        List<double[]> polys = polygons.polygons();
        if (polys.isEmpty()) {
            throw new InvalidSegmentationException("polygon segmentation has no polygons");
        }
        List<Rle> out = new ArrayList<>(polys.size());
        for (int i = 0; i < polys.size(); i++) {
            try {
                out.add(PolygonRaster.polygon(polys.get(i), height, width));
            } catch (InvalidSegmentationException e) {
                throw polys.size() == 1 ? e
                        : new InvalidSegmentationException("polygon " + i + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * {@code pycocotools.mask.merge}: the union (or intersection) of several segmentations of one image, as a
     * compressed RLE. Polygon segmentations are first turned into one RLE each, as {@link #toRle} does.
     */
    public static Segmentation.CompressedRle merge(List<? extends Segmentation> segmentations, int height,
            int width, boolean intersect) {
        List<Rle> rles = new ArrayList<>(segmentations.size());
        for (Segmentation s : segmentations) {
            rles.add(toRle(s, height, width));
        }
        return compressed(Rle.merge(rles, intersect));
    }

    /** {@code pycocotools.mask.area} of a segmentation on an image of {@code height x width}. */
    public static long area(Segmentation segmentation, int height, int width) {
        return toRle(segmentation, height, width).area();
    }

    /**
     * {@code pycocotools.mask.toBbox}: {x, y, w, h}, with pycocotools' rules (see {@link Rle#toBbox}); for an
     * uncompressed RLE with zero-length runs, the true box of its mask (pycocotools' differs, see {@link Rle}).
     */
    public static double[] toBbox(Segmentation segmentation, int height, int width) {
        return toRle(segmentation, height, width).toBbox();
    }

    /** {@code pycocotools.mask.toBbox} of a mask. */
    public static double[] toBbox(Mask mask) {
        return Rle.encode(mask).toBbox();
    }

    /**
     * {@code pycocotools.mask.iou}: a matrix [dt.size()][gt.size()]; for a ground truth with
     * {@code iscrowd[g]} the denominator is the detection's area instead of the union (COCOeval's rule).
     * {@code iscrowd} may be null.
     */
    public static double[][] iou(List<Rle> dt, List<Rle> gt, boolean[] iscrowd) {
        return Rle.iou(dt, gt, iscrowd);
    }

    /**
     * As {@link #iou(List, List, boolean[])} for segmentations of one image of {@code height x width}, each
     * turned into an RLE as {@link #toRle} does (as COCOeval does before it calls iou).
     */
    public static double[][] iou(List<? extends Segmentation> dt, List<? extends Segmentation> gt,
            boolean[] iscrowd, int height, int width) {
        return Rle.iou(dt.stream().map(s -> toRle(s, height, width)).toList(),
                gt.stream().map(s -> toRle(s, height, width)).toList(), iscrowd);
    }
}
