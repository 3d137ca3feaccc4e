package osprey4j.data.coco;

import java.util.Arrays;
import java.util.List;
import osprey4j.data.mask.Mask;

/**
 * A COCO run-length encoding, computed exactly as pycocotools' {@code maskApi.c} computes it.
 *
 * <p>Runs go down the columns of an image (column-major, Fortran order), alternate background and
 * foreground, and start with background; the first run is 0 when the top-left pixel is set. An {@code Rle}
 * always covers its image: the runs add up to height * width. Runs keep whatever zero-length runs they were
 * given (an uncompressed RLE from a file may have some), because pycocotools keeps them too and its
 * {@link #toBbox} and string encoding depend on them.
 *
 * <p>Each operation is a port of the function named in its comment, with the same integer and
 * floating-point steps in the same order, so that results match bit for bit. Where pycocotools would read
 * past a string, divide by zero or silently return a wrong or empty answer, this class throws
 * {@link InvalidSegmentationException} or {@link IllegalArgumentException} instead.
 */
public final class Rle {
    private static final long UINT_MAX = 0xFFFF_FFFFL;

    private final int height;
    private final int width;
    private final long[] counts;

    private Rle(int height, int width, long[] counts) {
        this.height = height;
        this.width = width;
        this.counts = counts;
    }

    /** An RLE from uncompressed counts; checks that the size is valid and the runs cover the image exactly. */
    public static Rle of(int height, int width, long[] counts) {
        checkSize(height, width);
        long total = (long) height * width;
        long sum = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] < 0 || counts[i] > UINT_MAX) {
                throw new InvalidSegmentationException("RLE run " + i + " is " + counts[i]
                        + ", outside 0.." + UINT_MAX);
            }
            sum += counts[i];
        }
        if (sum != total) {
            throw new InvalidSegmentationException("RLE runs add up to " + sum + " pixels, but its size "
                    + height + "x" + width + " has " + total);
        }
        return new Rle(height, width, counts.clone());
    }

    static void checkSize(long height, long width) {
        if (height <= 0 || width <= 0) {
            throw new InvalidSegmentationException("segmentation size must be positive, got height " + height
                    + " and width " + width);
        }
        if (height * width > Mask.MAX_PIXELS) {
            throw new InvalidSegmentationException("segmentation size " + height + "x" + width
                    + " has more than " + Mask.MAX_PIXELS + " pixels");
        }
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** The runs (a copy). */
    public long[] counts() {
        return counts.clone();
    }

    // ---- masks: rleEncode / rleDecode ----

    /** pycocotools {@code encode}: the column-major runs of a mask. */
    public static Rle encode(Mask mask) {
        return new Rle(mask.height(), mask.width(), mask.columnMajorRuns());
    }

    /** pycocotools {@code decode}. */
    public Mask toMask() {
        return Mask.fromColumnMajorRuns(width, height, counts);
    }

    // ---- compressed strings: rleToString / rleFrString ----

    /**
     * The compressed counts string ({@code rleToString}): each run, from the fourth on as the difference to
     * the run two before it, written in 5-bit groups, least significant first, as characters '0'..'o' (48 +
     * value, with 0x20 meaning "more groups follow" and 0x10 of the last group the sign).
     */
    public String toCompressedString() {
        StringBuilder s = new StringBuilder(counts.length * 2);
        for (int i = 0; i < counts.length; i++) {
            long x = counts[i];
            if (i > 2) { // sic: pycocotools starts the differences at the fourth run, not the third
                x -= counts[i - 2];
            }
            boolean more = true;
            while (more) {
                int c = (int) (x & 0x1f);
                x >>= 5;
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) {
                    c |= 0x20;
                }
                s.append((char) (c + 48));
            }
        }
        return s.toString();
    }

    /**
     * Parses a compressed counts string ({@code rleFrString}). Rejects characters outside '0'..'o', a string
     * that ends inside a number, runs that come out negative or too long, and runs that do not add up to
     * height * width.
     */
    public static Rle fromString(int height, int width, String s) {
        checkSize(height, width);
        long[] cnts = new long[Math.max(4, s.length())];
        int m = 0;
        int p = 0;
        while (p < s.length()) {
            long x = 0;
            int k = 0;
            boolean more = true;
            int start = p;
            while (more) {
                if (p >= s.length()) {
                    throw new InvalidSegmentationException("compressed RLE counts string is truncated: the number"
                            + " starting at character " + start + " is not finished");
                }
                char ch = s.charAt(p);
                if (ch < 48 || ch > 111) {
                    throw new InvalidSegmentationException("compressed RLE counts string has an invalid character "
                            + describe(ch) + " at position " + p + " (allowed: '0'..'o')");
                }
                if (k == 12) {
                    throw new InvalidSegmentationException("compressed RLE counts string has a number too long"
                            + " to be a run, starting at character " + start);
                }
                int c = ch - 48;
                x |= (long) (c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0) {
                    x |= -1L << (5 * k); // sign-extend a negative difference
                }
            }
            if (m > 2) {
                x += cnts[m - 2];
            }
            if (x < 0 || x > UINT_MAX) {
                throw new InvalidSegmentationException("compressed RLE counts string gives run " + m + " a length of "
                        + x + " (the number starting at character " + start + ")");
            }
            cnts[m++] = x;
        }
        long total = (long) height * width;
        long sum = 0;
        for (int i = 0; i < m; i++) {
            sum += cnts[i];
        }
        if (sum != total) {
            throw new InvalidSegmentationException("compressed RLE runs add up to " + sum + " pixels, but its size "
                    + height + "x" + width + " has " + total);
        }
        return new Rle(height, width, Arrays.copyOf(cnts, m));
    }

    private static String describe(char ch) {
        return ch >= 32 && ch < 127 ? "'" + ch + "'" : String.format("U+%04X", (int) ch);
    }

    // ---- polygons and boxes: rleFrPoly / rleFrBbox ----

    /** Coordinates beyond this make pycocotools' int arithmetic overflow, so they are refused. */
    static final double MAX_COORDINATE = 1e8;

    /**
     * Rasterises one polygon {x0,y0,x1,y1,...} as pycocotools' {@code rleFrPoly} does: the outline is traced on
     * a 5x finer grid, and a pixel is inside when its centre is below an odd number of outline crossings in
     * its column. Parts outside the image are clipped. A polygon needs an even, non-zero number of finite
     * coordinates.
     */
    public static Rle fromPolygon(double[] xy, int height, int width) {
        checkSize(height, width);
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
        return new Rle(height, width, Arrays.copyOf(b, m));
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
    public static Rle fromBox(double[] xywh, int height, int width) {
        if (xywh.length != 4) {
            throw new InvalidSegmentationException("a box needs 4 numbers x,y,w,h, got " + xywh.length);
        }
        double xs = xywh[0], xe = xs + xywh[2];
        double ys = xywh[1], ye = ys + xywh[3];
        return fromPolygon(new double[] {xs, ys, xs, ye, xe, ye, xe, ys}, height, width);
    }

    // ---- rleMerge / rleArea / rleToBbox ----

    /**
     * pycocotools {@code merge}: the union (or, with {@code intersect}, the intersection) of RLEs of one size.
     * pycocotools answers an empty 0x0 RLE when sizes differ; this throws instead.
     */
    public static Rle merge(List<Rle> rles, boolean intersect) {
        if (rles.isEmpty()) {
            throw new IllegalArgumentException("merge needs at least one RLE");
        }
        Rle first = rles.getFirst();
        int h = first.height, w = first.width;
        long[] cnts = first.counts;
        for (int i = 1; i < rles.size(); i++) {
            Rle other = rles.get(i);
            if (other.height != h || other.width != w) {
                throw new IllegalArgumentException("cannot merge RLEs of different sizes: " + h + "x" + w + " and "
                        + other.height + "x" + other.width);
            }
            cnts = mergeTwo(cnts, other.counts, intersect, (long) h * w);
        }
        return new Rle(h, w, cnts);
    }

    private static long[] mergeTwo(long[] a, long[] b, boolean intersect, long total) {
        LongBuffer out = new LongBuffer();
        long ca = a[0], cb = b[0], cc = 0, ct = 1;
        boolean v = false, va = false, vb = false;
        int ia = 1, ib = 1;
        while (ct > 0) {
            long c = Math.min(ca, cb);
            cc += c;
            ct = 0;
            ca -= c;
            if (ca == 0 && ia < a.length) {
                ca = a[ia++];
                va = !va;
            }
            ct += ca;
            cb -= c;
            if (cb == 0 && ib < b.length) {
                cb = b[ib++];
                vb = !vb;
            }
            ct += cb;
            boolean vp = v;
            v = intersect ? va && vb : va || vb;
            if (v != vp || ct == 0) {
                out.add(cc);
                cc = 0;
            }
        }
        return out.toArray();
    }

    /** pycocotools {@code area}: the number of foreground pixels. */
    public long area() {
        long a = 0;
        for (int j = 1; j < counts.length; j += 2) {
            a += counts[j];
        }
        return a;
    }

    /**
     * pycocotools {@code toBbox}: {x, y, width, height}, [0,0,0,0] when empty. It looks only at the first and
     * last pixel of each foreground run; a run that continues from the bottom of one column into the next
     * touches the bottom and the top row, so the box is then full height. For runs without zero-length
     * entries this is the tight box ({@link Mask#bbox}).
     */
    public double[] toBbox() {
        long h = height, w = width;
        int m = (counts.length / 2) * 2;
        if (m == 0) {
            return new double[4];
        }
        long xs = w, ys = h, xe = 0, ye = 0, cc = 0, xp = 0;
        for (int j = 0; j < m; j++) {
            cc += counts[j];
            long t = (cc - j % 2) & UINT_MAX; // unsigned 32-bit, as in C
            long y = t % h;
            long x = (t - y) / h;
            if (j % 2 == 0) {
                xp = x;
            } else if (xp < x) {
                ys = 0;
                ye = h - 1;
            }
            xs = Math.min(xs, x);
            xe = Math.max(xe, x);
            ys = Math.min(ys, y);
            ye = Math.max(ye, y);
        }
        return new double[] {xs, ys, xe - xs + 1, ye - ys + 1};
    }

    // ---- rleIou / bbIou ----

    /**
     * pycocotools {@code iou}: the matrix [dt.size()][gt.size()] of IoUs. For a ground truth marked crowd the
     * denominator is the detection's area instead of the union. {@code iscrowd} may be null (no crowds) or
     * have one entry per ground truth. All RLEs must have one size (pycocotools writes -1 there; this throws).
     */
    public static double[][] iou(List<Rle> dt, List<Rle> gt, boolean[] iscrowd) {
        checkCrowd(iscrowd, gt.size());
        double[][] db = new double[dt.size()][];
        double[][] gb = new double[gt.size()][];
        for (int d = 0; d < db.length; d++) {
            db[d] = dt.get(d).toBbox();
        }
        for (int g = 0; g < gb.length; g++) {
            gb[g] = gt.get(g).toBbox();
        }
        double[][] o = boxIouMatrix(db, gb, iscrowd);
        for (int g = 0; g < gb.length; g++) {
            Rle G = gt.get(g);
            boolean crowd = iscrowd != null && iscrowd[g];
            for (int d = 0; d < db.length; d++) {
                Rle D = dt.get(d);
                if (D.height != G.height || D.width != G.width) {
                    throw new IllegalArgumentException("iou of RLEs of different sizes: detection " + d + " is "
                            + D.height + "x" + D.width + ", ground truth " + g + " is " + G.height + "x" + G.width);
                }
                if (o[d][g] > 0) {
                    o[d][g] = maskIou(D.counts, G.counts, crowd, D);
                }
            }
        }
        return o;
    }

    private static double maskIou(long[] a, long[] b, boolean crowd, Rle dt) {
        long ca = a[0], cb = b[0], ct = 1, inter = 0, union = 0;
        boolean va = false, vb = false;
        int ia = 1, ib = 1;
        while (ct > 0) {
            long c = Math.min(ca, cb);
            if (va || vb) {
                union += c;
                if (va && vb) {
                    inter += c;
                }
            }
            ct = 0;
            ca -= c;
            if (ca == 0 && ia < a.length) {
                ca = a[ia++];
                va = !va;
            }
            ct += ca;
            cb -= c;
            if (cb == 0 && ib < b.length) {
                cb = b[ib++];
                vb = !vb;
            }
            ct += cb;
        }
        if (inter == 0) {
            union = 1;
        } else if (crowd) {
            union = dt.area();
        }
        return (double) inter / (double) union;
    }

    /** pycocotools {@code iou} on boxes {x, y, w, h} ({@code bbIou}), [dt.size()][gt.size()]. */
    public static double[][] boxIou(List<double[]> dt, List<double[]> gt, boolean[] iscrowd) {
        checkCrowd(iscrowd, gt.size());
        for (List<double[]> boxes : List.of(dt, gt)) {
            for (double[] box : boxes) {
                if (box.length != 4) {
                    throw new IllegalArgumentException("a box needs 4 numbers x,y,w,h, got " + box.length);
                }
            }
        }
        return boxIouMatrix(dt.toArray(double[][]::new), gt.toArray(double[][]::new), iscrowd);
    }

    private static double[][] boxIouMatrix(double[][] dt, double[][] gt, boolean[] iscrowd) {
        double[][] o = new double[dt.length][gt.length];
        for (int g = 0; g < gt.length; g++) {
            double[] G = gt[g];
            double ga = G[2] * G[3];
            boolean crowd = iscrowd != null && iscrowd[g];
            for (int d = 0; d < dt.length; d++) {
                double[] D = dt[d];
                double da = D[2] * D[3];
                o[d][g] = 0;
                double w = Math.min(D[2] + D[0], G[2] + G[0]) - Math.max(D[0], G[0]);
                if (w <= 0) {
                    continue;
                }
                double h = Math.min(D[3] + D[1], G[3] + G[1]) - Math.max(D[1], G[1]);
                if (h <= 0) {
                    continue;
                }
                double i = w * h;
                double u = crowd ? da : da + ga - i;
                o[d][g] = i / u;
            }
        }
        return o;
    }

    private static void checkCrowd(boolean[] iscrowd, int gtCount) {
        if (iscrowd != null && iscrowd.length != gtCount) {
            throw new IllegalArgumentException("iscrowd has " + iscrowd.length + " entries for " + gtCount
                    + " ground truths");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Rle r && r.height == height && r.width == width && Arrays.equals(r.counts, counts);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * height + width) + Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "Rle[" + height + "x" + width + ", " + counts.length + " runs]";
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

        long[] toArray() {
            return Arrays.copyOf(data, size);
        }

        long[] toSortedArray() {
            long[] a = toArray();
            Arrays.sort(a);
            return a;
        }
    }
}
