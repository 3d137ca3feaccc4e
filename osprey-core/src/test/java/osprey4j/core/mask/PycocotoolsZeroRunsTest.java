package osprey4j.core.mask;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Uncompressed RLEs with zero-length runs against pycocotools' own answers (pycocotools_zero_runs.json, see the
 * README next to it). Where osprey4j agrees with pycocotools (mask, area; and the counts string and box of the
 * mask, which pycocotools gives when it encodes that mask) it must match exactly; where it departs on purpose
 * (the string and box of the runs as given) the test shows that our port of rleToBbox gives pycocotools' box
 * for the raw runs, so the difference is only the merging.
 */
class PycocotoolsZeroRunsTest {
    private static long[] longs(JsonNode n) {
        long[] out = new long[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).longValue();
        }
        return out;
    }

    private static double[] doubles(JsonNode n) {
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).doubleValue();
        }
        return out;
    }

    @Test
    void zeroRunsAsPycocotoolsWhereItAgreesAndCanonicalWhereItDoesNot() throws IOException {
        JsonNode cases;
        try (InputStream in = getClass().getResourceAsStream("pycocotools_zero_runs.json")) {
            cases = new ObjectMapper().readTree(in).get("cases");
        }
        int departures = 0, iouDepartures = 0;
        for (JsonNode c : cases) {
            int h = c.get("height").intValue(), w = c.get("width").intValue();
            long[] runs = longs(c.get("uncompressed"));
            String what = h + "x" + w + " " + c.get("uncompressed");
            Rle rle = Rle.of(h, w, runs);
            Mask mask = rle.toMask();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    assertEquals(c.get("rows").get(y).textValue().charAt(x) == '1', mask.get(x, y), what);
                }
            }
            assertEquals(c.get("area").longValue(), rle.area(), what);
            assertEquals(c.get("canonical").textValue(), rle.toCompressedString(), what);
            assertArrayEquals(doubles(c.get("canonical_bbox")), rle.toBbox(), what);
            // the same RLE from pycocotools' string for the runs as given (zero runs included)
            assertEquals(rle, Rle.fromString(h, w, c.get("counts").textValue()), what);
            // pycocotools' box for the raw runs is our port's, so the only difference is the merging
            assertArrayEquals(doubles(c.get("bbox")), Rle.toBbox(runs, h, w), what);
            if (!c.get("counts").textValue().equals(c.get("canonical").textValue())) {
                departures++;
            }
            // IoU with the canonical RLE of the same mask: pycocotools' agrees unless its wrong box for the raw
            // runs has no area (its rleIou skips pairs whose boxes do not overlap)
            double ours = Rle.iou(List.of(rle), List.of(Rle.fromString(h, w, c.get("canonical").textValue())),
                    null)[0][0];
            double[] pyBox = doubles(c.get("bbox"));
            assertEquals(mask.isEmpty() ? 0.0 : 1.0, ours, what);
            if (pyBox[2] * pyBox[3] > 0 || mask.isEmpty()) {
                assertEquals(c.get("iou").doubleValue(), ours, what);
            } else {
                iouDepartures++;
            }
        }
        assertTrue(cases.size() > 60);
        assertTrue(departures > 40, "most cases should have zero runs that pycocotools keeps: " + departures);
        assertEquals(2, iouDepartures, "the 1x1 and 1x3 cases whose pycocotools box wraps to width 0");
    }
}
