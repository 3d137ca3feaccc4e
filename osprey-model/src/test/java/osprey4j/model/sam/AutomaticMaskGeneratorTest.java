package osprey4j.model.sam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import osprey4j.core.mask.Mask;
import osprey4j.model.image.RgbImage;

/**
 * The automatic mask generator against the official {@code SamAutomaticMaskGenerator} on the fixture model
 * (sam/README.md), on a 320x240 image: a coarse grid with one crop layer (5 crops, downscaled crop grids), a second
 * option set with IoU and stability thresholds, another overlap and NMS thresholds, and a third with small-region
 * removal ({@code min_mask_region_area}). Records must be the same in number and order, with identical RLEs, areas,
 * boxes, crop boxes and points; predicted IoUs within 1e-5 (the decoder's float32 rounding, see
 * {@link SamParityTest}) and stability scores within 1e-3 (a ratio of pixel counts: a logit within rounding of the
 * +-offset cut moves it by about 1/union).
 */
class AutomaticMaskGeneratorTest {
    private static Sam sam;

    @BeforeAll
    static void load() {
        sam = Sam.load(SamFixtures.checkpoint());
    }

    @AfterAll
    static void close() {
        sam.close();
    }

    static AutomaticMaskGenerator.Options options(JsonNode o) {
        AutomaticMaskGenerator.Options d = AutomaticMaskGenerator.Options.defaults();
        return new AutomaticMaskGenerator.Options(
                o.path("points_per_side").asInt(d.pointsPerSide()),
                o.path("points_per_batch").asInt(d.pointsPerBatch()),
                o.path("pred_iou_thresh").asDouble(d.predIouThresh()),
                o.path("stability_score_thresh").asDouble(d.stabilityScoreThresh()),
                o.path("stability_score_offset").asDouble(d.stabilityScoreOffset()),
                o.path("box_nms_thresh").asDouble(d.boxNmsThresh()),
                o.path("crop_n_layers").asInt(d.cropNLayers()),
                o.path("crop_nms_thresh").asDouble(d.cropNmsThresh()),
                o.path("crop_overlap_ratio").asDouble(d.cropOverlapRatio()),
                o.path("crop_n_points_downscale_factor").asInt(d.cropNPointsDownscaleFactor()),
                o.path("min_mask_region_area").asInt(d.minMaskRegionArea()));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void recordsMatchTheOfficialGenerator(int index) {
        JsonNode c = SamFixtures.cases().get("amg").get(index);
        RgbImage image = SamFixtures.image(c.get("image").asText());
        List<AutomaticMaskGenerator.MaskRecord> records = new AutomaticMaskGenerator(sam, options(c.get("options")))
                .generate(image);
        JsonNode expected = c.get("records");
        System.out.printf("AMG case %d: %d records (reference %d)%n", index, records.size(), expected.size());
        assertEquals(expected.size(), records.size(), "number of records");
        for (int i = 0; i < records.size(); i++) {
            JsonNode e = expected.get(i);
            AutomaticMaskGenerator.MaskRecord r = records.get(i);
            String at = "case " + index + " record " + i;
            JsonNode counts = e.get("segmentation").get("counts");
            long[] want = new long[counts.size()];
            for (int k = 0; k < want.length; k++) {
                want[k] = counts.get(k).asLong();
            }
            assertArrayEquals(want, r.segmentation().counts(), at + ": RLE counts");
            assertEquals(e.get("segmentation").get("size").get(0).asInt(), r.segmentation().height(), at);
            assertEquals(e.get("segmentation").get("size").get(1).asInt(), r.segmentation().width(), at);
            assertEquals(e.get("area").asLong(), r.area(), at + ": area");
            assertArrayEquals(ints(e.get("bbox")), r.bbox(), at + ": bbox");
            assertArrayEquals(ints(e.get("crop_box")), r.cropBox(), at + ": crop_box");
            assertEquals(e.get("point_coords").get(0).get(0).asDouble(), r.pointCoords()[0], 1e-9, at + ": point x");
            assertEquals(e.get("point_coords").get(0).get(1).asDouble(), r.pointCoords()[1], 1e-9, at + ": point y");
            assertEquals(e.get("predicted_iou").asDouble(), r.predictedIou(), 1e-5, at + ": predicted_iou");
            double stability = e.get("stability_score").asDouble();
            if (Double.isNaN(stability)) {
                assertEquals(Float.NaN, r.stabilityScore(), at + ": stability_score");
            } else {
                assertEquals(stability, r.stabilityScore(), 1e-3, at + ": stability_score");
            }
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    @Test
    void cropBoxesAndGridsAreTheReferences() {
        // generate_crop_boxes((240, 320), 1, 512 / 1500): overlap int(0.3413 * 240 * 1) = 81, crops 201 x 161
        List<AutomaticMaskGenerator.Crop> crops = AutomaticMaskGenerator.cropBoxes(240, 320, 1, 512 / 1500.0);
        assertEquals(5, crops.size());
        assertArrayEquals(new int[] {0, 0, 320, 240}, crops.get(0).box());
        assertArrayEquals(new int[] {0, 0, 201, 161}, crops.get(1).box());
        assertArrayEquals(new int[] {0, 80, 201, 240}, crops.get(2).box());
        assertArrayEquals(new int[] {120, 0, 320, 161}, crops.get(3).box());
        assertArrayEquals(new int[] {120, 80, 320, 240}, crops.get(4).box());
        double[][] g = AutomaticMaskGenerator.pointGrid(4);
        assertArrayEquals(new double[] {0.125, 0.125}, g[0]);
        assertArrayEquals(new double[] {0.375, 0.125}, g[1]);
        assertArrayEquals(new double[] {0.875, 0.875}, g[15]);
    }

    @Test
    void smallRegionsFillHolesAndDropIslands() {
        // a 10x10 square with a 1-pixel hole, plus a 2-pixel island
        Mask m = Mask.fromPredicate(20, 20, (x, y) -> (x >= 2 && x < 12 && y >= 2 && y < 12 && !(x == 6 && y == 6))
                || (y == 17 && (x == 17 || x == 18)));
        SmallRegions.Result holes = SmallRegions.remove(m, 5, true);
        assertEquals(true, holes.changed());
        assertEquals(true, holes.mask().get(6, 6));
        SmallRegions.Result islands = SmallRegions.remove(holes.mask(), 5, false);
        assertEquals(true, islands.changed());
        assertEquals(100, islands.mask().area());
        assertEquals(false, SmallRegions.remove(islands.mask(), 5, false).changed());
    }

    @Test
    void badOptionsAreRefused() {
        AutomaticMaskGenerator.Options d = AutomaticMaskGenerator.Options.defaults();
        assertThrows(IllegalArgumentException.class, () -> new AutomaticMaskGenerator.Options(0, 64, 0.88, 0.95, 1, 0.7,
                0, 0.7, 0.34, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new AutomaticMaskGenerator(sam,
                new AutomaticMaskGenerator.Options(2, 64, 0.88, 0.95, 1, 0.7, 2, 0.7, 0.34, 2, 0)));
        assertEquals(32, d.pointsPerSide());
    }
}
