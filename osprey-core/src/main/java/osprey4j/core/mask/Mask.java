package osprey4j.core.mask;

import java.util.Arrays;
import osprey4j.core.tensor.Tensor;

/**
 * An immutable binary mask of {@code width x height} pixels, bit-packed: one bit per pixel, so a
 * 4000x3000 mask takes 1.5 MB.
 *
 * <p><b>Layout.</b> Pixels are stored <em>row-major</em>: pixel (x, y) is bit {@code y * width + x} of the
 * packed array (bit {@code i & 63} of word {@code i >>> 6}). Image files and the model read masks row by
 * row, so this is the natural order for them. COCO's RLE is column-major instead; the conversion lives in
 * {@link Rle}, which walks the columns of this layout.
 *
 * <p>Sizes: both sides at least 1, and at most {@link #MAX_PIXELS} pixels in all (the largest image whose
 * run lengths fit pycocotools' 32-bit counts). Coordinates are x = column (0..width-1), y = row
 * (0..height-1).
 *
 * <p>Build a mask with {@link #builder}, {@link #fromBytes}, {@link #fromPredicate} or from a PNG
 * ({@link MaskPng}), an {@link Rle} or a COCO segmentation ({@code osprey4j.data.coco.CocoMasks}).
 */
public final class Mask {
    /** The most pixels a mask may have: 2^32 - 1, as COCO RLE counts are unsigned 32-bit. */
    public static final long MAX_PIXELS = 0xFFFF_FFFFL;

    private final int width;
    private final int height;
    private final long[] words;

    private Mask(int width, int height, long[] words) {
        this.width = width;
        this.height = height;
        this.words = words;
    }

    /** A tight, axis-aligned bounding box in pixels; the empty mask has the box (0, 0, 0, 0). */
    public record Box(int x, int y, int width, int height) {
        public boolean isEmpty() {
            return width == 0 || height == 0;
        }

        /** {x, y, width, height} as doubles, the order COCO's {@code bbox} uses. */
        public double[] toXywh() {
            return new double[] {x, y, width, height};
        }
    }

    /** Decides a pixel's value from its coordinates. */
    @FunctionalInterface
    public interface PixelTest {
        boolean test(int x, int y);
    }

    /** Checks a mask size, with a message naming the problem. */
    public static void checkSize(long width, long height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("mask size must be positive, got width " + width
                    + " and height " + height);
        }
        if (width * height > MAX_PIXELS) {
            throw new IllegalArgumentException("mask of " + width + "x" + height + " pixels is larger than "
                    + MAX_PIXELS + " pixels");
        }
    }

    public static Mask empty(int width, int height) {
        return builder(width, height).build();
    }

    /** A mask with every pixel set. */
    public static Mask full(int width, int height) {
        Builder b = builder(width, height);
        b.setIndexRange(0, (long) width * height);
        return b.build();
    }

    /** A mask from row-major bytes, one per pixel: any non-zero byte is foreground. */
    public static Mask fromBytes(int width, int height, byte[] rowMajor) {
        checkSize(width, height);
        if (rowMajor.length != (long) width * height) {
            throw new IllegalArgumentException("expected " + (long) width * height + " bytes for a " + width + "x"
                    + height + " mask, got " + rowMajor.length);
        }
        Builder b = builder(width, height);
        for (int i = 0; i < rowMajor.length; i++) {
            if (rowMajor[i] != 0) {
                b.setIndex(i);
            }
        }
        return b.build();
    }

    public static Mask fromPredicate(int width, int height, PixelTest test) {
        Builder b = builder(width, height);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                if (test.test(x, y)) {
                    b.set(x, y);
                }
            }
        }
        return b.build();
    }

    public static Builder builder(int width, int height) {
        checkSize(width, height);
        return new Builder(width, height);
    }

    /** Sets pixels one at a time, then {@link #build}s the immutable mask. Not thread-safe. */
    public static final class Builder {
        private final int width;
        private final int height;
        private long[] words;

        private Builder(int width, int height) {
            this.width = width;
            this.height = height;
            this.words = new long[(int) (((long) width * height + 63) >>> 6)];
        }

        public Builder set(int x, int y) {
            checkPixel(x, y, width, height);
            setIndex((long) y * width + x);
            return this;
        }

        public Builder set(int x, int y, boolean on) {
            checkPixel(x, y, width, height);
            long i = (long) y * width + x;
            if (on) {
                setIndex(i);
            } else {
                words[(int) (i >>> 6)] &= ~(1L << i);
            }
            return this;
        }

        /** Sets the pixel with row-major index {@code y * width + x}. */
        void setIndex(long i) {
            words[(int) (i >>> 6)] |= 1L << i;
        }

        /** Sets the row-major index range [from, to), a word at a time where it can. */
        void setIndexRange(long from, long to) {
            while (from < to && (from & 63) != 0) {
                setIndex(from++);
            }
            while (to - from >= 64) {
                words[(int) (from >>> 6)] = -1L;
                from += 64;
            }
            while (from < to) {
                setIndex(from++);
            }
        }

        public Mask build() {
            long[] w = words;
            words = null; // a builder hands its array over once; later use fails loudly
            if (w == null) {
                throw new IllegalStateException("build() was already called");
            }
            return new Mask(width, height, w);
        }
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The pixel at column x, row y. */
    public boolean get(int x, int y) {
        checkPixel(x, y, width, height);
        return getIndex((long) y * width + x);
    }

    /** The pixel with row-major index {@code y * width + x}, unchecked. */
    boolean getIndex(long i) {
        return (words[(int) (i >>> 6)] >>> i & 1L) != 0;
    }

    /** The number of foreground pixels. */
    public long area() {
        long n = 0;
        for (long w : words) {
            n += Long.bitCount(w);
        }
        return n;
    }

    public boolean isEmpty() {
        for (long w : words) {
            if (w != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The tightest box holding every foreground pixel, or (0, 0, 0, 0) for an empty mask; the same box as
     * pycocotools' {@code toBbox} of the mask's RLE.
     */
    public Box bbox() {
        int minX = width, minY = height, maxX = -1, maxY = -1;
        for (int y = 0; y < height; y++) {
            long rowStart = (long) y * width;
            int first = nextSet(rowStart, rowStart + width);
            if (first < 0) {
                continue;
            }
            minY = Math.min(minY, y);
            maxY = y;
            minX = Math.min(minX, first);
            maxX = Math.max(maxX, lastSet(rowStart, rowStart + width));
        }
        return maxX < 0 ? new Box(0, 0, 0, 0) : new Box(minX, minY, maxX - minX + 1, maxY - minY + 1);
    }

    /** Column (offset from {@code from}) of the first set bit in [from, to), or -1. */
    private int nextSet(long from, long to) {
        long i = from;
        while (i < to) {
            long word = words[(int) (i >>> 6)] >>> i; // bits from i to the end of its word
            if (word != 0) {
                long hit = i + Long.numberOfTrailingZeros(word);
                return hit < to ? (int) (hit - from) : -1;
            }
            i = (i | 63) + 1;
        }
        return -1;
    }

    /** Column (offset from {@code from}) of the last set bit in [from, to), or -1. */
    private int lastSet(long from, long to) {
        long i = to - 1;
        while (i >= from) {
            long word = words[(int) (i >>> 6)] << (63 - (i & 63)); // bits from the word's start to i
            if (word != 0) {
                long hit = i - Long.numberOfLeadingZeros(word);
                return hit >= from ? (int) (hit - from) : -1;
            }
            i = (i & ~63L) - 1;
        }
        return -1;
    }

    public Mask union(Mask other) {
        checkSameSize(other);
        long[] out = words.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] |= other.words[i];
        }
        return new Mask(width, height, out);
    }

    public Mask intersection(Mask other) {
        checkSameSize(other);
        long[] out = words.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] &= other.words[i];
        }
        return new Mask(width, height, out);
    }

    /** The pixels of this mask that are not in {@code other}. */
    public Mask minus(Mask other) {
        checkSameSize(other);
        long[] out = words.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] &= ~other.words[i];
        }
        return new Mask(width, height, out);
    }

    /** The complement: background becomes foreground. */
    public Mask invert() {
        long[] out = new long[words.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = ~words[i];
        }
        long bits = (long) width * height;
        if ((bits & 63) != 0) {
            out[out.length - 1] &= (1L << bits) - 1; // keep the padding bits zero so equals and area hold
        }
        return new Mask(width, height, out);
    }

    /**
     * Intersection over union. Two empty masks give 0, as pycocotools does when nothing intersects.
     */
    public double iou(Mask other) {
        checkSameSize(other);
        long inter = 0, union = 0;
        for (int i = 0; i < words.length; i++) {
            inter += Long.bitCount(words[i] & other.words[i]);
            union += Long.bitCount(words[i] | other.words[i]);
        }
        return inter == 0 ? 0.0 : (double) inter / union;
    }

    /**
     * Nearest-neighbour resize to {@code newWidth x newHeight}, sampling at pixel centres: output pixel
     * (x, y) takes input pixel (floor((x + 0.5) * width / newWidth), floor((y + 0.5) * height / newHeight)),
     * computed exactly in integers. This is the rule of Pillow's NEAREST and torch's 'nearest-exact'; they
     * compute it in floating point and so may pick the other neighbour where a sample point lies exactly on
     * a pixel border. (The model resizes masks itself, bilinearly on floats; this is for previews and data
     * preparation.)
     */
    public Mask resize(int newWidth, int newHeight) {
        Builder b = builder(newWidth, newHeight);
        int[] srcX = new int[newWidth];
        for (int x = 0; x < newWidth; x++) {
            srcX[x] = (int) ((2L * x + 1) * width / (2L * newWidth));
        }
        for (int y = 0; y < newHeight; y++) {
            int sy = (int) ((2L * y + 1) * height / (2L * newHeight));
            long srcRow = (long) sy * width;
            long dstRow = (long) y * newWidth;
            for (int x = 0; x < newWidth; x++) {
                if (getIndex(srcRow + srcX[x])) {
                    b.setIndex(dstRow + x);
                }
            }
        }
        return b.build();
    }

    /**
     * Run lengths in <em>column-major</em> order (down the first column, then the next), alternating
     * background and foreground and starting with background (so the first run is 0 when pixel (0, 0) is
     * set). This is COCO's uncompressed RLE and exactly what pycocotools' {@code rleEncode} produces.
     */
    public long[] columnMajorRuns() {
        long[] runs = new long[16];
        int n = 0;
        boolean current = false;
        long run = 0;
        for (int x = 0; x < width; x++) {
            for (long i = x; i < (long) height * width; i += width) {
                if (getIndex(i) != current) {
                    if (n == runs.length) {
                        runs = Arrays.copyOf(runs, n * 2);
                    }
                    runs[n++] = run;
                    run = 0;
                    current = !current;
                }
                run++;
            }
        }
        runs = Arrays.copyOf(runs, n + 1);
        runs[n] = run;
        return runs;
    }

    /**
     * The inverse of {@link #columnMajorRuns}: runs alternate background/foreground from background, down
     * the columns. Zero-length runs are allowed; the runs must add up to width * height.
     */
    public static Mask fromColumnMajorRuns(int width, int height, long[] runs) {
        Builder b = builder(width, height);
        long total = (long) width * height;
        long pos = 0;
        for (int r = 0; r < runs.length; r++) {
            long len = runs[r];
            if (len < 0 || len > total - pos) {
                throw new IllegalArgumentException("run " + r + " of length " + len + " goes past the "
                        + total + " pixels of a " + width + "x" + height + " mask");
            }
            if ((r & 1) == 1) { // a foreground run: walk down the columns from its first pixel
                long x = pos / height, y = pos - x * height;
                for (long p = 0; p < len; p++) {
                    b.setIndex(y * width + x);
                    if (++y == height) {
                        y = 0;
                        x++;
                    }
                }
            }
            pos += len;
        }
        if (pos != total) {
            throw new IllegalArgumentException("runs add up to " + pos + " pixels, but a " + width + "x" + height
                    + " mask has " + total);
        }
        return b.build();
    }

    /** Row-major bytes, 1 for foreground and 0 for background. */
    public byte[] toBytes() {
        long n = (long) width * height;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("mask of " + n + " pixels does not fit a byte array");
        }
        byte[] out = new byte[(int) n];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (getIndex(i) ? 1 : 0);
        }
        return out;
    }

    /** A [height, width] F32 tensor of 0s and 1s, the form the model's mask pooling takes. */
    public Tensor toTensor() {
        byte[] bytes = toBytes();
        float[] f = new float[bytes.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = bytes[i];
        }
        return Tensor.wrap(f, height, width);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Mask m && m.width == width && m.height == height && Arrays.equals(m.words, words);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(words);
    }

    @Override
    public String toString() {
        return "Mask[" + width + "x" + height + ", area=" + area() + "]";
    }

    private void checkSameSize(Mask other) {
        if (other.width != width || other.height != height) {
            throw new IllegalArgumentException("mask sizes differ: " + width + "x" + height + " and "
                    + other.width + "x" + other.height);
        }
    }

    private static void checkPixel(int x, int y, int width, int height) {
        if (x < 0 || y < 0 || x >= width || y >= height) {
            throw new IndexOutOfBoundsException("pixel (" + x + ", " + y + ") is outside a " + width + "x"
                    + height + " mask");
        }
    }
}
