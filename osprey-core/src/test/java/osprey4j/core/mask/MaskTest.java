package osprey4j.core.mask;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;
import osprey4j.core.tensor.Tensor;

/** Mask operations against brute-force definitions on plain boolean grids, and resize against Pillow. */
class MaskTest {
    private static boolean[][] randomGrid(Random r, int w, int h, double p) {
        boolean[][] g = new boolean[h][w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                g[y][x] = r.nextDouble() < p;
            }
        }
        return g;
    }

    private static Mask of(boolean[][] g) {
        return Mask.fromPredicate(g[0].length, g.length, (x, y) -> g[y][x]);
    }

    @Test
    void operationsMatchBruteForce() {
        Random r = new Random(1);
        // Widths around 64 exercise rows that straddle packed words.
        int[][] sizes = {{1, 1}, {3, 7}, {63, 5}, {64, 3}, {65, 4}, {130, 9}, {17, 129}};
        for (int[] s : sizes) {
            int w = s[0], h = s[1];
            for (double p : new double[] {0, 0.02, 0.5, 1}) {
                boolean[][] a = randomGrid(r, w, h, p), b = randomGrid(r, w, h, 0.3);
                Mask ma = of(a), mb = of(b);
                long area = 0, inter = 0, union = 0;
                int minX = w, minY = h, maxX = -1, maxY = -1;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        assertEquals(a[y][x], ma.get(x, y));
                        assertEquals(a[y][x] || b[y][x], ma.union(mb).get(x, y));
                        assertEquals(a[y][x] && b[y][x], ma.intersection(mb).get(x, y));
                        assertEquals(a[y][x] && !b[y][x], ma.minus(mb).get(x, y));
                        assertEquals(!a[y][x], ma.invert().get(x, y));
                        if (a[y][x]) {
                            area++;
                            minX = Math.min(minX, x);
                            maxX = Math.max(maxX, x);
                            minY = Math.min(minY, y);
                            maxY = Math.max(maxY, y);
                        }
                        inter += a[y][x] && b[y][x] ? 1 : 0;
                        union += a[y][x] || b[y][x] ? 1 : 0;
                    }
                }
                String where = w + "x" + h + " p=" + p;
                assertEquals(area, ma.area(), where);
                assertEquals((long) w * h - area, ma.invert().area(), where);
                assertEquals(area == 0, ma.isEmpty(), where);
                Mask.Box box = ma.bbox();
                if (area == 0) {
                    assertEquals(new Mask.Box(0, 0, 0, 0), box);
                } else {
                    assertEquals(new Mask.Box(minX, minY, maxX - minX + 1, maxY - minY + 1), box, where);
                }
                assertEquals(inter == 0 ? 0.0 : (double) inter / union, ma.iou(mb), 0.0, where);
                assertEquals(ma, Mask.fromColumnMajorRuns(w, h, ma.columnMajorRuns()), where);
                assertEquals(ma, Mask.fromBytes(w, h, ma.toBytes()), where);
            }
        }
    }

    @Test
    void columnMajorRunsGoDownColumns() {
        // 2 wide, 3 high; set (0,2) and (1,0): column-major order is (0,0),(0,1),(0,2),(1,0),(1,1),(1,2).
        Mask m = Mask.builder(2, 3).set(0, 2).set(1, 0).build();
        assertArrayEquals(new long[] {2, 2, 2}, m.columnMajorRuns());
        assertArrayEquals(new long[] {0, 6}, Mask.full(2, 3).columnMajorRuns());
        assertArrayEquals(new long[] {6}, Mask.empty(2, 3).columnMajorRuns());
    }

    @Test
    void tensorIsRowMajorHeightByWidth() {
        Mask m = Mask.builder(3, 2).set(2, 0).set(0, 1).build();
        Tensor t = m.toTensor();
        assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0}, t.toFloatArray());
    }

    @Test
    void sizeChecksAndBounds() {
        Mask m = Mask.empty(4, 3);
        assertThrows(IndexOutOfBoundsException.class, () -> m.get(4, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> m.get(0, -1));
        assertThrows(IllegalArgumentException.class, () -> m.union(Mask.empty(3, 4)));
        assertThrows(IllegalArgumentException.class, () -> m.iou(Mask.empty(4, 4)));
        assertThrows(IllegalArgumentException.class, () -> Mask.fromBytes(2, 2, new byte[3]));
        assertThrows(IllegalArgumentException.class, () -> m.resize(0, 2));
        assertFalse(Mask.full(1, 1).isEmpty());
    }

    @Test
    void largeMaskIsCheap() {
        // 20000 x 20000 = 400M pixels in 50 MB; full() fills words, not pixels.
        Mask m = Mask.full(20000, 20000);
        assertEquals(400_000_000L, m.area());
        assertEquals(new Mask.Box(0, 0, 20000, 20000), m.bbox());
        assertTrue(m.get(19999, 19999));
    }

    @Test
    void resizeMatchesPillowNearest() throws Exception {
        JsonNode doc;
        try (InputStream in = MaskTest.class.getResourceAsStream("png_fixtures.json")) {
            doc = new ObjectMapper().readTree(in);
        }
        int n = 0, ties = 0;
        for (JsonNode c : doc.get("resize")) {
            Mask src = fromRows(c.get("src")), dst = fromRows(c.get("dst"));
            Mask ours = src.resize(dst.width(), dst.height());
            String what = src.width() + "x" + src.height() + " -> " + dst.width() + "x" + dst.height();
            for (int y = 0; y < dst.height(); y++) {
                for (int x = 0; x < dst.width(); x++) {
                    // Where a sample point falls exactly on a pixel border, Pillow's fixed-point arithmetic
                    // rounds either way; we take the pixel to the right/below. Compare everywhere else.
                    if (isTie(x, src.width(), dst.width()) || isTie(y, src.height(), dst.height())) {
                        ties++;
                        continue;
                    }
                    assertEquals(dst.get(x, y), ours.get(x, y), what + " at " + x + "," + y);
                    n++;
                }
            }
        }
        assertTrue(n > 2000 && ties < n / 20, n + " compared, " + ties + " ties");
    }

    /** Whether (i + 0.5) * in / out is a whole number. */
    private static boolean isTie(int i, int in, int out) {
        return (2L * i + 1) * in % (2L * out) == 0;
    }

    static Mask fromRows(JsonNode rows) {
        return Mask.fromPredicate(rows.get(0).size(), rows.size(), (x, y) -> rows.get(y).get(x).intValue() != 0);
    }
}
