package osprey4j.core.mask;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The RLE codec's own rules: canonical runs and bad input. Its agreement with pycocotools is checked against
 * pycocotools' outputs in osprey-data ({@code PycocotoolsFixtureTest}), through the COCO entry points.
 *
 * <p>Expected values for runs with zero-length entries were worked out by hand from the run semantics
 * (column-major, background first); pycocotools keeps such runs (see {@link Rle}), and its answers for them are
 * checked in {@link PycocotoolsZeroRunsTest}. The random test checks the rule against decoding.
 */
class RleTest {
    private static String fails(Executable e) {
        return assertThrows(InvalidMaskException.class, e).getMessage();
    }

    private static void assertMentions(String message, String... words) {
        for (String w : words) {
            assertTrue(message.contains(w), "'" + message + "' should mention '" + w + "'");
        }
    }

    private static final String VALID = Rle.encode(Mask.fromPredicate(3, 3, (x, y) -> x < 2 && y < 2))
            .toCompressedString();

    // ---- canonical runs ----

    /** 2x3, runs 2,0,1,3: background 3 then foreground 3, the pixels (1,1), (2,0) and (2,1). */
    @Test
    void zeroRunInTheMiddleIsMerged() {
        Rle rle = Rle.of(2, 3, new long[] {2, 0, 1, 3});
        assertArrayEquals(new long[] {3, 3}, rle.counts());
        assertEquals("33", rle.toCompressedString());
        assertEquals(3, rle.area());
        // pycocotools answers [0, 0, 3, 2] (rleToBbox on the runs as given): it takes the empty foreground run at
        // pixel 1 for a pixel.
        assertArrayEquals(new double[] {0, 0, 3, 2}, Rle.toBbox(new long[] {2, 0, 1, 3}, 2, 3));
        assertArrayEquals(new double[] {1, 0, 2, 2}, rle.toBbox());
        Mask m = rle.toMask();
        assertEquals(Mask.fromPredicate(3, 2, (x, y) -> x == 2 || x == 1 && y == 1), m);
        assertArrayEquals(m.bbox().toXywh(), rle.toBbox());
    }

    /** 2x3, runs 0,0,0,2,4: the first column is foreground. */
    @Test
    void leadingZeroRunsAreMergedKeepingTheOneThatMeansForegroundFirst() {
        Rle rle = Rle.of(2, 3, new long[] {0, 0, 0, 2, 4});
        assertArrayEquals(new long[] {0, 2, 4}, rle.counts());
        assertEquals("024", rle.toCompressedString());
        assertEquals(2, rle.area());
        // pycocotools answers [0, 0, 2147483648, 2] (the run before pixel 0 wraps around to 2^32 - 1).
        assertArrayEquals(new double[] {0, 0, 2147483648.0, 2}, Rle.toBbox(new long[] {0, 0, 0, 2, 4}, 2, 3));
        assertArrayEquals(new double[] {0, 0, 1, 2}, rle.toBbox());
        assertEquals(Mask.fromPredicate(3, 2, (x, y) -> x == 0), rle.toMask());
    }

    @Test
    void zeroRunsAnywhere() {
        // trailing
        assertArrayEquals(new long[] {3, 3}, Rle.of(2, 3, new long[] {3, 3, 0}).counts());
        assertArrayEquals(new long[] {6}, Rle.of(2, 3, new long[] {6, 0, 0}).counts());
        // several in a row in the middle: bg 1, fg 2, (bg 0, fg 0), bg 1, fg 2
        assertArrayEquals(new long[] {1, 2, 1, 2}, Rle.of(2, 3, new long[] {1, 2, 0, 0, 1, 2}).counts());
        // an odd number in a row joins runs of opposite values: bg 1, (fg 0), bg 2, fg 3
        assertArrayEquals(new long[] {3, 3}, Rle.of(2, 3, new long[] {1, 0, 2, 3}).counts());
        // empty masks and full masks written with zeros
        assertArrayEquals(new long[] {6}, Rle.of(2, 3, new long[] {0, 0, 6}).counts());
        assertArrayEquals(new long[] {6}, Rle.of(2, 3, new long[] {0, 0, 0, 0, 6, 0}).counts());
        assertArrayEquals(new double[] {0, 0, 0, 0}, Rle.of(2, 3, new long[] {0, 0, 6}).toBbox());
        assertArrayEquals(new long[] {0, 6}, Rle.of(2, 3, new long[] {0, 0, 0, 6}).counts());
        assertArrayEquals(new long[] {0, 6}, Rle.of(2, 3, new long[] {0, 6, 0, 0}).counts());
        assertArrayEquals(new double[] {0, 0, 3, 2}, Rle.of(2, 3, new long[] {0, 6, 0}).toBbox());
        // a one-pixel image
        assertArrayEquals(new long[] {0, 1}, Rle.of(1, 1, new long[] {0, 0, 0, 1, 0}).counts());
    }

    @Test
    void compressedStringsWithZeroRunsAreMergedToo() {
        // "2013" is pycocotools' string for the runs 2,0,1,3 (the fourth as the difference 3 - 0).
        Rle rle = Rle.fromString(2, 3, "2013");
        assertArrayEquals(new long[] {3, 3}, rle.counts());
        assertEquals("33", rle.toCompressedString());
        assertEquals(Rle.of(2, 3, new long[] {2, 0, 1, 3}), rle);
    }

    @Test
    void canonicalRunsAreKeptAsTheyAre() {
        long[] runs = {0, 4, 2};
        assertSame(runs, Rle.canonical(runs));
        long[] big = {3_000_000_000L, 7, 1_000_000_000L, 294_836_218L}; // 65535 x 65535
        assertArrayEquals(big, Rle.of(65535, 65535, big).counts());
    }

    /**
     * Random runs with zero-length runs inserted anywhere: the RLE is the one of the mask the runs describe
     * (decoded as they are, zeros included), so its counts, string and box are those of {@link Rle#encode}.
     */
    @Test
    void anyRunsGiveTheRleOfTheirMask() {
        Random rnd = new Random(7);
        for (int t = 0; t < 2000; t++) {
            int h = 1 + rnd.nextInt(6), w = 1 + rnd.nextInt(6);
            long left = (long) h * w;
            long[] runs = new long[40];
            int n = 0;
            while (left > 0 || n == 0 || rnd.nextInt(3) == 0) {
                long r = rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt((int) Math.max(1, Math.min(left, 5)));
                r = Math.min(r, left);
                if (n == runs.length) {
                    runs = Arrays.copyOf(runs, n * 2);
                }
                runs[n++] = r;
                left -= r;
            }
            runs = Arrays.copyOf(runs, n);
            Mask mask = Mask.fromColumnMajorRuns(w, h, runs);
            Rle rle = Rle.of(h, w, runs);
            Rle encoded = Rle.encode(mask);
            String what = h + "x" + w + " " + Arrays.toString(runs);
            assertArrayEquals(encoded.counts(), rle.counts(), what);
            assertEquals(encoded.toCompressedString(), rle.toCompressedString(), what);
            assertArrayEquals(mask.bbox().toXywh(), rle.toBbox(), what);
            assertEquals(mask.area(), rle.area(), what);
            assertEquals(mask, rle.toMask(), what);
            assertEquals(rle, Rle.fromString(h, w, rle.toCompressedString()), what);
        }
    }

    @Test
    void mergeAndIouOfRunsWithZeros() {
        Rle a = Rle.of(2, 3, new long[] {2, 0, 1, 3});
        Rle b = Rle.of(2, 3, new long[] {0, 0, 0, 2, 4});
        assertEquals(Rle.encode(a.toMask().union(b.toMask())), Rle.merge(List.of(a, b), false));
        assertEquals(0.0, Rle.iou(List.of(a), List.of(b), null)[0][0]);
        assertEquals(1.0, Rle.iou(List.of(a), List.of(Rle.fromString(2, 3, "33")), null)[0][0]);
    }

    // ---- bad input: an error naming the problem, never a wrong mask ----

    @Test
    void countsWithInvalidCharacters() {
        assertMentions(fails(() -> Rle.fromString(3, 3, VALID.substring(0, 1) + "p")), "invalid character", "'p'",
                "position 1");
        assertMentions(fails(() -> Rle.fromString(3, 3, " " + VALID)), "invalid character", "position 0");
        assertMentions(fails(() -> Rle.fromString(3, 3, VALID + "\u00e9")), "U+00E9");
    }

    @Test
    void truncatedCounts() {
        // '`' (48 + 0x30) sets the "more" bit: the number never ends.
        assertMentions(fails(() -> Rle.fromString(3, 3, "0`")), "truncated");
        // A long run cut before its last group.
        assertMentions(fails(() -> Rle.fromString(1500, 1400, "PeQ3Pkh")), "truncated");
    }

    @Test
    void runsThatDoNotCoverTheImage() {
        assertMentions(fails(() -> Rle.fromString(4, 3, VALID)), "add up to 9", "4x3 has 12");
        assertMentions(fails(() -> Rle.fromString(3, 3, "")), "add up to 0");
        assertMentions(fails(() -> Rle.of(2, 2, new long[] {1, 2})), "add up to 3");
        assertMentions(fails(() -> Rle.of(2, 2, new long[] {1, 2, 0, 2})), "add up to 5", "2x2 has 4");
        assertMentions(fails(() -> Rle.of(2, 2, new long[] {0, 0, 0})), "add up to 0");
        assertMentions(fails(() -> Rle.of(2, 2, new long[0])), "add up to 0");
        assertMentions(fails(() -> Rle.of(2, 2, new long[] {5, -1})), "run 1 is -1");
        assertMentions(fails(() -> Rle.of(2, 2, new long[] {0, 1L << 32, 0})), "run 1 is 4294967296",
                "outside 0..4294967295");
        // Runs 0, 1, 0 and then a difference of -1 to run 1: a run of -1 pixels.
        assertMentions(fails(() -> Rle.fromString(3, 3, "000O")), "run 3", "length of -1");
    }

    @Test
    void badSizes() {
        assertMentions(fails(() -> Rle.fromString(0, 3, "3")), "positive", "height 0");
        assertMentions(fails(() -> Rle.of(-2, 3, new long[] {6})), "positive");
        assertMentions(fails(() -> Rle.of(70000, 70000, new long[] {4_900_000_000L})), "more than");
        assertThrows(IllegalArgumentException.class, () -> Mask.empty(0, 5));
        assertThrows(IllegalArgumentException.class, () -> Mask.empty(70000, 70000));
    }
}
