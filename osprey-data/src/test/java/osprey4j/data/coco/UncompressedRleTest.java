package osprey4j.data.coco;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;
import osprey4j.core.mask.Mask;

/**
 * Uncompressed RLEs with zero-length runs through the COCO entry points: the compressed RLE and box are those of
 * the mask (a deliberate departure from pycocotools, which keeps the zero runs; see {@code osprey4j.core.mask.Rle}).
 * Expected values are worked out by hand (and are pycocotools' for the same masks, encoded: osprey-core's
 * pycocotools_zero_runs.json): 2x3 with runs 2,0,1,3 is background 3 then foreground 3 (pixels (1,1), (2,0),
 * (2,1)); runs 0,0,0,2,4 set the first column.
 */
class UncompressedRleTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Segmentation read(String json) throws Exception {
        return SegmentationJson.read(JSON.readTree(json));
    }

    @Test
    void zeroRunsGiveTheMasksOwnRleAndBox() throws Exception {
        Segmentation a = read("{\"counts\": [2,0,1,3], \"size\": [2,3]}");
        assertEquals("33", CocoMasks.compressed(CocoMasks.toRle(a)).counts());
        assertArrayEquals(new double[] {1, 0, 2, 2}, CocoMasks.toBbox(a, 2, 3));
        assertEquals(3, CocoMasks.area(a, 0, 0));
        assertEquals(Mask.fromPredicate(3, 2, (x, y) -> x == 2 || x == 1 && y == 1), CocoMasks.decode(a));
        assertArrayEquals(new long[] {3, 3}, CocoMasks.uncompressed(CocoMasks.toRle(a)).counts());

        Segmentation b = read("{\"counts\": [0,0,0,2,4], \"size\": [2,3]}");
        assertEquals("024", CocoMasks.compressed(CocoMasks.toRle(b)).counts());
        assertArrayEquals(new double[] {0, 0, 1, 2}, CocoMasks.toBbox(b, 0, 0));
        assertEquals(2, CocoMasks.area(b, 2, 3));

        // merge and IoU of the two agree with the masks
        assertEquals(CocoMasks.encode(CocoMasks.decode(a).union(CocoMasks.decode(b))),
                CocoMasks.merge(List.of(a, b), 2, 3, false));
        assertEquals(0.0, CocoMasks.iou(List.of(a), List.of(b), null, 2, 3)[0][0]);
        assertEquals(1.0, CocoMasks.iou(List.of(a), List.of(read("{\"counts\": \"33\", \"size\": [2,3]}")), null,
                2, 3)[0][0]);
    }

    @Test
    void allZeroRunsAndZerosAtTheEnd() throws Exception {
        Segmentation empty = read("{\"counts\": [0,0,6,0], \"size\": [2,3]}");
        assertEquals("6", CocoMasks.compressed(CocoMasks.toRle(empty)).counts());
        assertArrayEquals(new double[] {0, 0, 0, 0}, CocoMasks.toBbox(empty, 2, 3));
        Segmentation full = read("{\"counts\": [0,0,0,6,0,0], \"size\": [2,3]}");
        assertEquals("06", CocoMasks.compressed(CocoMasks.toRle(full)).counts());
        assertArrayEquals(new double[] {0, 0, 3, 2}, CocoMasks.toBbox(full, 2, 3));
    }

    @Test
    void badCountsAreOneLineErrors() throws Exception {
        assertMessage(read("{\"counts\": [2,0,1,2], \"size\": [2,3]}"), "add up to 5", "2x3 has 6");
        assertMessage(read("{\"counts\": [0,0,0], \"size\": [2,3]}"), "add up to 0");
        assertMessage(read("{\"counts\": [7,-1], \"size\": [2,3]}"), "run 1 is -1");
        assertMessage(read("{\"counts\": [0,4294967296,0], \"size\": [2,3]}"), "run 1 is 4294967296");
        Exception e = assertThrows(InvalidSegmentationException.class,
                () -> read("{\"counts\": [2,0,1.5,3], \"size\": [2,3]}"));
        assertTrue(e.getMessage().contains("run 2 is not an integer: 1.5"), e.getMessage());
        e = assertThrows(InvalidSegmentationException.class,
                () -> read("{\"counts\": [2,99999999999999999999999,3], \"size\": [2,3]}"));
        assertTrue(e.getMessage().contains("run 1 is 99999999999999999999999, outside"), e.getMessage());
    }

    private static void assertMessage(Segmentation s, String... words) {
        Exception e = assertThrows(InvalidSegmentationException.class, () -> CocoMasks.toRle(s, 2, 3));
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), e.getMessage());
        }
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }
}
