package osprey4j.data.coco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Rle;

/** Bad input gets an error that names the problem, never a wrong mask. */
class BadSegmentationTest {
    private static String fails(Executable e) {
        return assertThrows(InvalidSegmentationException.class, e).getMessage();
    }

    private static void assertMentions(String message, String... words) {
        for (String w : words) {
            assertTrue(message.contains(w), "'" + message + "' should mention '" + w + "'");
        }
    }

    private static final String VALID = CocoMasks.encode(Mask.fromPredicate(3, 3, (x, y) -> x < 2 && y < 2)).counts();

    @Test
    void validStringDecodes() {
        assertEquals(4, CocoMasks.decode(new Segmentation.CompressedRle(3, 3, VALID)).area());
    }

    @Test
    void runsThatDoNotCoverTheImage() {
        // The RLE codec's errors (osprey4j.core.mask.RleTest) reach COCO callers as InvalidSegmentationExceptions.
        assertMentions(fails(() -> CocoMasks.decode(new Segmentation.UncompressedRle(2, 2, new long[] {1, 4}))),
                "add up to 5");
        assertMentions(fails(() -> CocoMasks.decode(new Segmentation.CompressedRle(4, 3, VALID))), "add up to 9",
                "4x3 has 12");
        assertMentions(fails(() -> CocoMasks.area(new Segmentation.UncompressedRle(2, 2, new long[] {5, -1}), 2, 2)),
                "run 1 is -1");
    }

    @Test
    void badSizes() {
        assertMentions(fails(() -> PolygonRaster.polygon(new double[] {0, 0, 1, 0, 1, 1}, 4, 0)), "positive", "width 0");
        assertMentions(fails(() -> CocoMasks.decode(new Segmentation.Polygons(List.of(new double[] {0, 0, 2, 0, 2, 2})),
                0, 0)), "no image size");
        assertMentions(fails(() -> CocoMasks.decode(new Segmentation.UncompressedRle(-2, 3, new long[] {6}))),
                "positive");
    }

    @Test
    void sizeMustMatchWhenGiven() {
        Segmentation s = new Segmentation.CompressedRle(3, 3, VALID);
        assertMentions(fails(() -> CocoMasks.decode(s, 4, 3)), "3x3", "4x3");
        assertEquals(4, CocoMasks.decode(s, 3, 3).area());
    }

    @Test
    void badPolygons() {
        assertMentions(fails(() -> PolygonRaster.polygon(new double[] {0, 0, 5, 0, 5}, 8, 8)), "odd number");
        assertMentions(fails(() -> CocoMasks.decode(new Segmentation.Polygons(
                List.of(new double[] {0, 0, 5, 0, 5, 5}, new double[] {1, 1, 2})), 8, 8)), "polygon 1", "odd number");
        assertMentions(fails(() -> PolygonRaster.polygon(new double[] {0, Double.NaN, 5, 0, 5, 5}, 8, 8)), "finite");
        assertMentions(fails(() -> PolygonRaster.polygon(new double[0], 8, 8)), "no coordinates");
        assertMentions(fails(() -> CocoMasks.decode(new Segmentation.Polygons(List.of()), 8, 8)), "no polygons");
    }

    @Test
    void badJson() throws Exception {
        ObjectMapper om = new ObjectMapper();
        assertMentions(fails(() -> SegmentationJson.read(om.readTree("[[1,2,3]]"))), "odd number");
        assertMentions(fails(() -> SegmentationJson.read(om.readTree("{\"counts\":\"00\"}"))), "size");
        assertMentions(fails(() -> SegmentationJson.read(om.readTree("{\"size\":[2,2]}"))), "counts");
        assertMentions(fails(() -> SegmentationJson.read(om.readTree("{\"size\":[2,2],\"counts\":[1,\"a\"]}"))),
                "run 1");
        assertMentions(fails(() -> SegmentationJson.read(om.readTree("{\"size\":[2.5,2],\"counts\":\"4\"}"))),
                "two integers");
        assertMentions(fails(() -> SegmentationJson.read(om.readTree("{\"size\":[0,2],\"counts\":\"\"}"))),
                "positive");
        assertMentions(fails(() -> SegmentationJson.read(om.readTree("\"abc\""))), "list of polygons");
        assertMentions(fails(() -> SegmentationJson.read(om.readTree("[[1,2],\"x\"]"))), "polygon 1");
    }
}
