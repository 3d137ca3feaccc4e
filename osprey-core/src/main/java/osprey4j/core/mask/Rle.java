package osprey4j.core.mask;

import java.util.Arrays;
import java.util.List;

/**
 * A COCO run-length encoding of a {@link Mask}, computed as pycocotools' {@code maskApi.c} computes it: the codec
 * between masks, run lists and the compressed counts string, and the RLE algebra (merge, area, box, IoU).
 *
 * <p>Runs go down the columns of an image (column-major, Fortran order), alternate background and
 * foreground, and start with background; the first run is 0 when the top-left pixel is set. An {@code Rle}
 * always covers its image: the runs add up to height * width.
 *
 * <p><b>Canonical runs.</b> An {@code Rle} holds the runs {@link #encode} would give for its mask: no
 * zero-length run except a leading one. Runs given with zero-length runs elsewhere (an uncompressed RLE from a
 * file may have them, e.g. {@code [2,0,1,3]} or {@code [0,0,0,2,4]}) are merged on construction
 * ({@code [3,3]}, {@code [0,2,4]}). This departs from pycocotools on purpose: pycocotools keeps such runs, so
 * its counts string repeats them and its {@code toBbox} counts a zero-length foreground run as a pixel (and,
 * for a zero-length run at the start, computes a width of 2^31 by unsigned overflow). The mask, area and IoU
 * are the same either way; only the string and the box differ, and here they are the mask's own.
 *
 * <p>Each operation is a port of the function named in its comment, with the same integer and
 * floating-point steps in the same order, so that results match bit for bit. Where pycocotools would read
 * past a string, divide by zero or silently return a wrong or empty answer, this class throws
 * {@link InvalidMaskException} or {@link IllegalArgumentException} instead. Polygon rasterisation
 * ({@code rleFrPoly}) belongs to COCO's annotation format and lives with it, in osprey-data.
 */
public final class Rle {
    private static final long UINT_MAX = 0xFFFF_FFFFL;

    private final int height;
    private final int width;
    private final long[] counts;

    /** {@code counts} must be valid runs (non-negative, adding up to height * width); they are made canonical. */
    private Rle(int height, int width, long[] counts) {
        this.height = height;
        this.width = width;
        this.counts = canonical(counts);
    }

    /**
     * An RLE from uncompressed counts; checks that the size is valid, that every run is within 0..2^32-1 and that
     * the runs cover the image exactly. Zero-length runs are merged away (see the class comment).
     */
    public static Rle of(int height, int width, long[] counts) {
        checkSize(height, width);
        long total = (long) height * width;
        long sum = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] < 0 || counts[i] > UINT_MAX) {
                throw new InvalidMaskException("RLE run " + i + " is " + counts[i]
                        + ", outside 0.." + UINT_MAX);
            }
            sum += counts[i];
        }
        if (sum != total) {
            throw new InvalidMaskException("RLE runs add up to " + sum + " pixels, but its size "
                    + height + "x" + width + " has " + total);
        }
        return new Rle(height, width, counts.clone());
    }

    /**
     * Valid runs without zero-length runs, except a leading one (the top-left pixel is foreground): a zero-length
     * run at index i > 0 joins runs i-1 and i+1, which have the same value. Returns {@code runs} itself when it is
     * already canonical (every RLE this class computes is).
     */
    static long[] canonical(long[] runs) {
        boolean clean = runs.length > 0;
        for (int i = 1; i < runs.length && clean; i++) {
            clean = runs[i] != 0;
        }
        if (clean) {
            return runs;
        }
        long[] out = new long[runs.length + 1];
        int n = 0;
        boolean value = false; // the value of out[n - 1]; out starts with a background run
        out[n++] = 0;
        for (int i = 0; i < runs.length; i++) {
            if (runs[i] == 0) {
                continue;
            }
            boolean v = (i & 1) == 1;
            if (v == value) {
                out[n - 1] += runs[i];
            } else {
                out[n++] = runs[i];
                value = v;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Checks an RLE size: both sides positive, at most {@link Mask#MAX_PIXELS} pixels. */
    public static void checkSize(long height, long width) {
        if (height <= 0 || width <= 0) {
            throw new InvalidMaskException("segmentation size must be positive, got height " + height
                    + " and width " + width);
        }
        if (height * width > Mask.MAX_PIXELS) {
            throw new InvalidMaskException("segmentation size " + height + "x" + width
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
                    throw new InvalidMaskException("compressed RLE counts string is truncated: the number"
                            + " starting at character " + start + " is not finished");
                }
                char ch = s.charAt(p);
                if (ch < 48 || ch > 111) {
                    throw new InvalidMaskException("compressed RLE counts string has an invalid character "
                            + describe(ch) + " at position " + p + " (allowed: '0'..'o')");
                }
                if (k == 12) {
                    throw new InvalidMaskException("compressed RLE counts string has a number too long"
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
                throw new InvalidMaskException("compressed RLE counts string gives run " + m + " a length of "
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
            throw new InvalidMaskException("compressed RLE runs add up to " + sum + " pixels, but its size "
                    + height + "x" + width + " has " + total);
        }
        return new Rle(height, width, Arrays.copyOf(cnts, m));
    }

    private static String describe(char ch) {
        return ch >= 32 && ch < 127 ? "'" + ch + "'" : String.format("U+%04X", (int) ch);
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
     * touches the bottom and the top row, so the box is then full height. On canonical runs (every {@code Rle}'s)
     * this is the tight box of the mask ({@link Mask#bbox}).
     */
    public double[] toBbox() {
        return toBbox(counts, height, width);
    }

    /**
     * rleToBbox on any valid runs, canonical or not (tests use it to show what pycocotools answers for runs with
     * zero-length entries).
     */
    static double[] toBbox(long[] counts, long h, long w) {
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
        // widths in unsigned 32-bit, as in C (they wrap only for runs with zero-length entries, never here)
        return new double[] {xs, ys, (xe - xs + 1) & UINT_MAX, (ye - ys + 1) & UINT_MAX};
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
    }
}
