package osprey4j.data.world;

import osprey4j.core.mask.Rle;

import java.util.Arrays;

/**
 * COCO run-length encodings of every region of a label image in one column-major pass, instead of one pass per
 * mask: a pixel only costs work where the label changes. Runs alternate background/foreground starting with
 * background (possibly an empty first run), in column-major order across the whole image, as pycocotools writes
 * them. {@code SyntheticWorldTest} checks every encoding against the rasterised masks.
 */
final class LabelRuns {
    private LabelRuns() {
    }

    /**
     * @param label  row-major labels, -1 for none
     * @param group  maps a label to the region it belongs to (-1 for none)
     * @return the RLE of each region 0..groups-1
     */
    static Rle[] encode(int[] label, int width, int height, int[] group, int groups) {
        long[][] counts = new long[groups][];
        int[] sizes = new int[groups];
        long[] runStart = new long[groups];
        for (int g = 0; g < groups; g++) {
            counts[g] = new long[8];
        }
        int previous = -1;
        long t = 0;
        for (int x = 0; x < width; x++) {
            for (int i = x; i < label.length; i += width, t++) {
                int l = label[i];
                int g = l < 0 ? -1 : group[l];
                if (g != previous) {
                    if (previous >= 0) {   // a foreground run of the previous region ends here
                        append(counts, sizes, previous, t - runStart[previous]);
                        runStart[previous] = t;
                    }
                    if (g >= 0) {          // a background run of this region ends here
                        append(counts, sizes, g, t - runStart[g]);
                        runStart[g] = t;
                    }
                    previous = g;
                }
            }
        }
        long total = (long) width * height;
        Rle[] out = new Rle[groups];
        for (int g = 0; g < groups; g++) {
            append(counts, sizes, g, total - runStart[g]);
            out[g] = Rle.of(height, width, Arrays.copyOf(counts[g], sizes[g]));
        }
        return out;
    }

    private static void append(long[][] counts, int[] sizes, int g, long run) {
        if (sizes[g] == counts[g].length) {
            counts[g] = Arrays.copyOf(counts[g], sizes[g] * 2);
        }
        counts[g][sizes[g]++] = run;
    }
}
