package osprey4j.data.coco;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Rle;

/**
 * Everything here is checked against outputs of the official pycocotools C code (see the README next to
 * pycocotools_masks.json for how they were made).
 */
class PycocotoolsFixtureTest {
    private static JsonNode fixtures;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = PycocotoolsFixtureTest.class.getResourceAsStream("pycocotools_masks.json")) {
            fixtures = new ObjectMapper().readTree(in);
        }
    }

    static double[] doubles(JsonNode n) {
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).doubleValue();
        }
        return out;
    }

    static long[] longs(JsonNode n) {
        long[] out = new long[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).longValue();
        }
        return out;
    }

    /** A mask from rows of '0'/'1' characters (row-major, as pycocotools' decoded array prints). */
    static Mask fromRows(JsonNode rows) {
        int h = rows.size(), w = rows.get(0).textValue().length();
        return Mask.fromPredicate(w, h, (x, y) -> rows.get(y).textValue().charAt(x) == '1');
    }

    @Test
    void polygonsRasteriseAsPycocotools() {
        int checked = 0;
        for (JsonNode c : fixtures.get("polygons")) {
            String name = c.get("name").textValue();
            int h = c.get("height").intValue(), w = c.get("width").intValue();
            List<double[]> polys = new ArrayList<>();
            for (JsonNode p : c.get("polygons")) {
                polys.add(doubles(p));
            }
            for (int i = 0; i < polys.size(); i++) {
                assertEquals(c.get("parts").get(i).textValue(),
                        PolygonRaster.polygon(polys.get(i), h, w).toCompressedString(), name + ", part " + i);
            }
            Segmentation seg = new Segmentation.Polygons(polys);
            Rle merged = CocoMasks.toRle(seg, h, w);
            assertEquals(c.get("counts").textValue(), merged.toCompressedString(), name);
            assertEquals(c.get("area").longValue(), CocoMasks.area(seg, h, w), name);
            assertArrayEquals(doubles(c.get("bbox")), CocoMasks.toBbox(seg, h, w), name);

            Mask mask = CocoMasks.decode(seg, h, w);
            assertEquals(w, mask.width());
            assertEquals(h, mask.height());
            assertEquals(c.get("area").longValue(), mask.area(), name);
            assertArrayEquals(doubles(c.get("bbox")), mask.bbox().toXywh(), name);
            if (c.has("rows")) {
                assertEquals(fromRows(c.get("rows")), mask, name);
            } else { // the large cases: the dense mask must encode back to pycocotools' string
                assertEquals(c.get("counts").textValue(), CocoMasks.encode(mask).counts(), name);
            }
            checked++;
        }
        assertTrue(checked > 100);
    }

    @Test
    void largeCasesReallyHaveRunsLongerThan2To20() {
        JsonNode last = fixtures.get("polygons").get(fixtures.get("polygons").size() - 1);
        Rle rle = Rle.fromString(last.get("height").intValue(), last.get("width").intValue(),
                last.get("counts").textValue());
        long longest = 0;
        for (long r : rle.counts()) {
            longest = Math.max(longest, r);
        }
        assertTrue(longest > 1 << 20, "longest run " + longest);
    }

    @Test
    void encodeDecodeMatchPycocotools() {
        for (JsonNode c : fixtures.get("encode")) {
            int h = c.get("height").intValue(), w = c.get("width").intValue();
            Mask mask = fromRows(c.get("rows"));
            String counts = c.get("counts").textValue();
            Segmentation.CompressedRle encoded = CocoMasks.encode(mask);
            assertEquals(counts, encoded.counts());
            assertEquals(h, encoded.height());
            assertEquals(w, encoded.width());
            assertEquals(mask, CocoMasks.decode(new Segmentation.CompressedRle(h, w, counts)));
            assertEquals(c.get("area").longValue(), mask.area());
            assertArrayEquals(doubles(c.get("bbox")), CocoMasks.toBbox(mask));
            assertArrayEquals(doubles(c.get("bbox")), mask.bbox().toXywh());
        }
    }

    @Test
    void uncompressedRleAsPycocotools() {
        for (JsonNode c : fixtures.get("uncompressed")) {
            int h = c.get("height").intValue(), w = c.get("width").intValue();
            long[] runs = longs(c.get("uncompressed"));
            Segmentation u = new Segmentation.UncompressedRle(h, w, runs);
            String counts = c.get("counts").textValue();
            assertEquals(counts, CocoMasks.toRle(u).toCompressedString());
            assertArrayEquals(runs, Rle.fromString(h, w, counts).counts());
            assertEquals(c.get("area").longValue(), CocoMasks.area(u, h, w));
            assertArrayEquals(doubles(c.get("bbox")), CocoMasks.toBbox(u, 0, 0));
            if ((long) h * w <= 10_000_000) { // the 65535x65535 case stays an RLE
                Mask m = CocoMasks.decode(u);
                assertEquals(c.get("area").longValue(), m.area());
                assertArrayEquals(doubles(c.get("bbox")), m.bbox().toXywh());
            }
        }
    }

    @Test
    void boxesAsPycocotools() {
        for (JsonNode c : fixtures.get("boxes")) {
            assertEquals(c.get("counts").textValue(), PolygonRaster.box(doubles(c.get("box")), c.get("height").intValue(),
                    c.get("width").intValue()).toCompressedString());
        }
    }

    @Test
    void mergeAsPycocotools() {
        for (JsonNode c : fixtures.get("merges")) {
            int h = c.get("height").intValue(), w = c.get("width").intValue();
            List<Segmentation> parts = new ArrayList<>();
            List<Rle> rles = new ArrayList<>();
            for (JsonNode p : c.get("parts")) {
                parts.add(new Segmentation.CompressedRle(h, w, p.textValue()));
                rles.add(Rle.fromString(h, w, p.textValue()));
            }
            assertEquals(c.get("union").textValue(), CocoMasks.merge(parts, h, w, false).counts());
            assertEquals(c.get("intersection").textValue(), CocoMasks.merge(parts, h, w, true).counts());

            Mask union = rles.getFirst().toMask(), inter = union;
            for (Rle r : rles) {
                union = union.union(r.toMask());
                inter = inter.intersection(r.toMask());
            }
            assertEquals(c.get("union").textValue(), CocoMasks.encode(union).counts());
            assertEquals(c.get("intersection").textValue(), CocoMasks.encode(inter).counts());
        }
    }

    @Test
    void iouAsPycocotoolsIncludingCrowds() {
        JsonNode c = fixtures.get("iou");
        int h = c.get("height").intValue(), w = c.get("width").intValue();
        List<Segmentation> dt = new ArrayList<>(), gt = new ArrayList<>();
        c.get("dt").forEach(s -> dt.add(new Segmentation.CompressedRle(h, w, s.textValue())));
        c.get("gt").forEach(s -> gt.add(new Segmentation.CompressedRle(h, w, s.textValue())));
        boolean[] crowd = new boolean[gt.size()];
        for (int g = 0; g < crowd.length; g++) {
            crowd[g] = c.get("iscrowd").get(g).intValue() != 0;
        }
        double[][] iou = CocoMasks.iou(dt, gt, crowd, h, w);
        assertEquals(dt.size(), iou.length);
        boolean sawCrowdDifference = false;
        for (int d = 0; d < dt.size(); d++) {
            assertArrayEquals(doubles(c.get("iou").get(d)), iou[d], 0.0, "row " + d);
            for (int g = 0; g < gt.size(); g++) {
                double plain = CocoMasks.decode(dt.get(d)).iou(CocoMasks.decode(gt.get(g)));
                if (!crowd[g]) {
                    assertEquals(iou[d][g], plain, 1e-15);
                } else if (Math.abs(iou[d][g] - plain) > 1e-9) {
                    sawCrowdDifference = true;
                }
            }
        }
        assertTrue(sawCrowdDifference, "the crowd rule should change some IoU in this fixture");

        JsonNode b = fixtures.get("box_iou");
        List<double[]> bdt = new ArrayList<>(), bgt = new ArrayList<>();
        b.get("dt").forEach(x -> bdt.add(doubles(x)));
        b.get("gt").forEach(x -> bgt.add(doubles(x)));
        double[][] biou = Rle.boxIou(bdt, bgt, new boolean[] {false, true});
        for (int d = 0; d < bdt.size(); d++) {
            assertArrayEquals(doubles(b.get("iou").get(d)), biou[d], 0.0);
        }
    }

    @Test
    void bboxOfRunCrossingIntoNextColumn() {
        JsonNode c = fixtures.get("bbox_wrap");
        Mask m = fromRows(c.get("rows"));
        assertEquals(c.get("counts").textValue(), CocoMasks.encode(m).counts());
        assertArrayEquals(doubles(c.get("bbox")), CocoMasks.toBbox(m));
        assertArrayEquals(doubles(c.get("bbox")), m.bbox().toXywh());
    }
}
