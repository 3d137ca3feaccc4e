package osprey4j.data.coco;

import java.util.Arrays;
import osprey4j.core.mask.Rle;

/**
 * COCO polygons and boxes rasterised to RLEs exactly as pycocotools' {@code rleFrPoly} and {@code rleFrBbox} do
 * (a port with the same integer and floating-point steps in the same order). Polygons are COCO's annotation
 * format, so this stays with the other COCO formats; the RLE itself is {@link Rle} in osprey-core.
 */
public final class PolygonRaster {
    private PolygonRaster() {
    }

    /** Coordinates beyond this make pycocotools' int arithmetic overflow, so they are refused. */
    static final double MAX_COORDINATE = 1e8;

    /**
     * Rasterises one polygon {x0,y0,x1,y1,...} as pycocotools' {@code rleFrPoly} does: the outline is traced on
     * a 5x finer grid, and a pixel is inside when its centre is below an odd number of outline crossings in
     * its column. Parts outside the image are clipped. A polygon needs an even, non-zero number of finite
     * coordinates.
     */
    public static Rle polygon(double[] xy, int height, int width) {
        InvalidSegmentationException.rethrowing(() -> Rle.checkSize(height, width));
        if (xy.length == 0) {
            throw new InvalidSegmentationException("polygon has no coordinates");
        }
        if (xy.length % 2 != 0) {
            throw new InvalidSegmentationException("polygon has an odd number of coordinates (" + xy.length
                    + "); it needs x,y pairs");
        }
        for (int i = 0; i < xy.length; i++) {
            if (!(Math.abs(xy[i]) <= MAX_COORDINATE)) {
                throw new InvalidSegmentationException("polygon coordinate " + i + " is " + xy[i]
                        + "; coordinates must be finite and within +-" + (long) MAX_COORDINATE);
            }
        }
        final double scale = 5;
        int k = xy.length / 2;
        int[] x = new int[k + 1];
        int[] y = new int[k + 1];
        for (int j = 0; j < k; j++) {
            x[j] = (int) (scale * xy[j * 2] + .5);
            y[j] = (int) (scale * xy[j * 2 + 1] + .5);
        }
        x[k] = x[0];
        y[k] = y[0];

        // Trace the outline point by point on the fine grid. pycocotools stores every traced point and then
        // looks at consecutive pairs; keeping only the previous point gives the same pairs in the same order.
        LongBuffer boundary = new LongBuffer();
        boolean havePrev = false;
        int pu = 0, pv = 0;
        for (int j = 0; j < k; j++) {
            int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
            int dx = Math.abs(xe - xs), dy = Math.abs(ys - ye);
            boolean flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
            if (flip) {
                int t = xs;
                xs = xe;
                xe = t;
                t = ys;
                ys = ye;
                ye = t;
            }
            if (dx == 0 && dy == 0) {
                // A zero-length edge: pycocotools emits one point whose x is that of its neighbours (its y
                // comes from 0/0 and is never read, since only pairs whose x differs are looked at).
                if (havePrev && xs != pu) {
                    throw new AssertionError("zero-length edge away from its neighbours");
                }
                pu = xs;
                pv = ys;
                havePrev = true;
                continue;
            }
            double s = dx >= dy ? (double) (ye - ys) / dx : (double) (xe - xs) / dy;
            int n = Math.max(dx, dy);
            for (int d = 0; d <= n; d++) {
                int t = flip ? n - d : d;
                int u, v;
                if (dx >= dy) {
                    u = t + xs;
                    v = (int) (ys + s * t + .5);
                } else {
                    v = t + ys;
                    u = (int) (xs + s * t + .5);
                }
                if (havePrev && u != pu) {
                    addCrossing(boundary, u, v, pu, pv, scale, height, width);
                }
                pu = u;
                pv = v;
                havePrev = true;
            }
        }

        // Sort the crossings (as column-major pixel positions) and turn them into runs.
        boundary.add((long) height * width);
        long[] a = boundary.toSortedArray();
        long prev = 0;
        for (int j = 0; j < a.length; j++) {
            long t = a[j];
            a[j] -= prev;
            prev = t;
        }
        long[] b = new long[a.length];
        int m = 0, j = 0;
        b[m++] = a[j++];
        while (j < a.length) {
            if (a[j] > 0) {
                b[m++] = a[j++];
            } else { // two crossings at the same pixel cancel: merge the runs either side
                j++;
                if (j < a.length) {
                    b[m - 1] += a[j++];
                }
            }
        }
        return Rle.of(height, width, Arrays.copyOf(b, m));
    }

    /** The "get points along y-boundary and downsample" step of rleFrPoly for one pair of traced points. */
    private static void addCrossing(LongBuffer out, int u, int v, int pu, int pv, double scale, int h, int w) {
        double xd = u < pu ? u : u - 1;
        xd = (xd + .5) / scale - .5;
        if (Math.floor(xd) != xd || xd < 0 || xd > w - 1) {
            return;
        }
        double yd = v < pv ? v : pv;
        yd = (yd + .5) / scale - .5;
        if (yd < 0) {
            yd = 0;
        } else if (yd > h) {
            yd = h;
        }
        yd = Math.ceil(yd);
        out.add((long) xd * h + (long) yd);
    }

    /** pycocotools {@code frBbox}: the box {x, y, w, h} rasterised as the polygon of its four corners. */
    public static Rle box(double[] xywh, int height, int width) {
        if (xywh.length != 4) {
            throw new InvalidSegmentationException("a box needs 4 numbers x,y,w,h, got " + xywh.length);
        }
        double xs = xywh[0], xe = xs + xywh[2];
        double ys = xywh[1], ye = ys + xywh[3];
        return polygon(new double[] {xs, ys, xs, ye, xe, ye, xe, ys}, height, width);
    }

    /** A growable long array. */
    private static final class LongBuffer {
        private long[] data = new long[16];
        private int size;

        void add(long v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        long[] toSortedArray() {
            long[] a = Arrays.copyOf(data, size);
            Arrays.sort(a);
            return a;
        }
    }
}
