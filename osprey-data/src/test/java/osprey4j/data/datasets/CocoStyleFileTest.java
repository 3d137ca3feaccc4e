package osprey4j.data.datasets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.data.coco.Segmentation;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CocoStyleFileTest {
    static Path resource(String name) {
        try {
            return Path.of(CocoStyleFileTest.class.getResource("/datasets/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<ImageAnnotations> all(CocoStyleFile f) {
        try (var s = f.images()) {
            return s.toList();
        }
    }

    @Test
    void cocoInstancesWithAnnotationsBeforeImagesAreGroupedPerImageInFileOrder() throws IOException {
        ReadReport report = ReadReport.lenient();
        CocoStyleFile f = CocoStyleFile.index(resource("coco_instances.json"), report);
        List<ImageAnnotations> images = all(f);

        assertEquals(List.of(1L, 2L, 3L), images.stream().map(i -> i.image().id()).toList());
        assertEquals(List.of(102L), images.get(0).annotations().stream().map(CocoAnnotation::id).toList());
        assertEquals(List.of(101L, 103L, 108L), images.get(1).annotations().stream().map(CocoAnnotation::id).toList());
        assertTrue(images.get(2).annotations().isEmpty());

        CocoImage second = images.get(1).image();
        assertEquals("000000000002.jpg", second.fileName());
        assertEquals(640, second.width());
        assertEquals(480, second.height());   // written as 480.0
        assertNull(second.caption());

        CocoAnnotation a101 = images.get(1).annotations().get(0);
        assertEquals(18L, a101.categoryId());
        assertEquals(120.5, a101.area());
        assertArrayEquals(new double[] {10, 20, 30, 40}, a101.bbox());
        Segmentation.Polygons polys = assertInstanceOf(Segmentation.Polygons.class, a101.segmentation());
        assertEquals(2, polys.polygons().size());
        assertArrayEquals(new double[] {10, 20, 40, 20, 40, 60}, polys.polygons().get(0));
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6.5}, polys.polygons().get(1));
        assertFalse(a101.crowd());
        assertEquals(5, a101.line());

        CocoAnnotation crowd = images.get(0).annotations().get(0);
        assertTrue(crowd.crowd());
        Segmentation.UncompressedRle rle = assertInstanceOf(Segmentation.UncompressedRle.class, crowd.segmentation());
        assertEquals(4, rle.height());
        assertEquals(5, rle.width());
        assertArrayEquals(new long[] {3, 2, 4, 11}, rle.counts());

        Segmentation.CompressedRle c = assertInstanceOf(Segmentation.CompressedRle.class,
                images.get(1).annotations().get(1).segmentation());
        assertEquals("52203", c.counts());
        assertTrue(Double.isNaN(images.get(1).annotations().get(1).area()));

        assertEquals(Map.of(1L, "person", 18L, "dog"), f.categories().values().stream()
                .collect(Collectors.toMap(CocoCategory::id, CocoCategory::name)));
    }

    @Test
    void malformedEntriesAreSkippedAndCountedWithLineIndexAndField() throws IOException {
        ReadReport report = ReadReport.lenient();
        CocoStyleFile f = CocoStyleFile.index(resource("coco_instances.json"), report);
        all(f);
        Map<String, ReadReport.Skip> byWhere = report.skips().stream()
                .collect(Collectors.toMap(s -> s.section() + "[" + s.entryIndex() + "]." + s.field(), s -> s));
        assertEquals(7, report.skipped(), report.skips().toString());
        assertEquals(7, byWhere.size(), byWhere.keySet().toString());
        // annotations[3] has no image_id (line 11), [4] an odd polygon, [5] an unknown image, [6] an unknown
        // category, [8] is a string; images[3] lacks its height and images[4] repeats id 1.
        assertEquals(11, byWhere.get("annotations[3].image_id").line());
        assertEquals(5, byWhere.get("annotations[3].image_id").column());
        assertTrue(byWhere.get("annotations[4].segmentation[0]").reason().contains("x,y pairs"));
        assertEquals(12, byWhere.get("annotations[4].segmentation[0]").line());
        assertTrue(byWhere.get("annotations[5].image_id").reason().contains("99"));
        assertTrue(byWhere.get("annotations[6].category_id").reason().contains("5"));
        assertEquals(16, byWhere.get("annotations[8].$").line());
        assertEquals("missing", byWhere.get("images[3].height").reason());
        assertEquals(22, byWhere.get("images[3].height").line());
        assertTrue(byWhere.get("images[4].id").reason().contains("duplicate"));
        assertFalse(byWhere.containsKey("annotations[7].category_id"));
        // 4 images + 5 good annotations accepted: 1, 2, 3 and the annotations 101, 102, 103, 108
        assertEquals(3 + 4, report.accepted());
    }

    @Test
    void strictReportStopsAtTheFirstMalformedEntry() {
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> all(CocoStyleFile.index(resource("coco_instances.json"), ReadReport.strict())));
        assertTrue(e.getMessage().contains("coco_instances.json:11:5"), e.getMessage());
        assertEquals("annotations[3].image_id", e.field());
    }

    @Test
    void lvisNamesImagesByTheirUrlAndKeepsFederatedLists() throws IOException {
        ReadReport report = ReadReport.strict();
        CocoStyleFile f = CocoStyleFile.index(resource("lvis_v1.json"), report);
        List<ImageAnnotations> images = all(f);
        CocoImage img = images.getFirst().image();
        assertEquals("000000397133.jpg", img.fileName());
        assertArrayEquals(new long[] {7, 12}, img.negativeCategoryIds());
        assertArrayEquals(new long[0], img.notExhaustiveCategoryIds());
        CocoCategory balloon = f.categories().get(7L);
        assertEquals("hot-air_balloon", balloon.name());
        assertEquals(List.of("hot-air_balloon", "balloon"), balloon.synonyms());
        assertEquals("r", balloon.frequency());
        assertNull(balloon.supercategory());
        assertEquals(List.of(7L, 3L), images.getFirst().annotations().stream().map(CocoAnnotation::categoryId).toList());
    }

    @Test
    void pacoKeepsPartsAttributesAndObjectLinks() throws IOException {
        CocoStyleFile f = CocoStyleFile.index(resource("paco_lvis.json"), ReadReport.strict());
        assertEquals(List.of(new CocoAttribute(0, "black", "color"), new CocoAttribute(30, "plain", "pattern_marking")),
                f.attributes());
        List<CocoAnnotation> anns = all(f).getFirst().annotations();
        assertArrayEquals(new long[] {0, 30}, anns.get(0).attributeIds());
        assertEquals(900L, anns.get(1).objectAnnotationId());
        assertEquals("mug:handle", f.categories().get(anns.get(1).categoryId()).name());
        assertEquals("val2017/000000000005.jpg", f.imageList().getFirst().fileName());
    }

    @Test
    void refcocoEntriesCarryTheirExpression() throws IOException {
        CocoStyleFile f = CocoStyleFile.index(resource("refcoco_with_mask.json"), ReadReport.strict());
        List<ImageAnnotations> images = all(f);
        assertEquals("the lady with the blue shirt", images.get(0).image().caption());
        assertEquals("COCO_train2014_000000581857.jpg", images.get(0).image().fileName());
        assertNull(images.get(1).image().caption());
        assertEquals(0L, images.get(0).image().id());   // id 0 is a valid id
    }

    @Test
    void visualGenomeAndCaptionFilesNeedNoCategories() throws IOException {
        CocoStyleFile vg = CocoStyleFile.index(resource("vg_with_mask.json"), ReadReport.strict());
        List<CocoAnnotation> anns = all(vg).getFirst().annotations();
        assertEquals(6, anns.size());
        assertTrue(anns.get(1).ignore());
        assertEquals("a red car parked", anns.get(0).caption());
        assertNull(anns.get(0).categoryId());
        assertNull(anns.get(5).caption());

        CocoStyleFile captions = CocoStyleFile.index(resource("coco_captions.json"), ReadReport.strict());
        List<CocoAnnotation> caps = all(captions).getFirst().annotations();
        assertEquals(List.of("A plate of food. ", "Broccoli and rice on a plate."),
                caps.stream().map(CocoAnnotation::caption).toList());
        assertNull(caps.getFirst().segmentation());
    }

    @Test
    void wrongTopLevelShapesAreErrorsNamingFileLineAndField(@TempDir Path dir) throws IOException {
        Path array = dir.resolve("array.json");
        Files.writeString(array, "\n[{\"images\": []}]");
        DatasetFormatException e1 = assertThrows(DatasetFormatException.class,
                () -> CocoStyleFile.index(array, ReadReport.lenient()));
        assertEquals(array, e1.file());
        assertEquals(2, e1.line());
        assertEquals("$", e1.field());

        Path images = dir.resolve("images.json");
        Files.writeString(images, "{\"annotations\": [],\n \"images\": {\"id\": 1}}");
        DatasetFormatException e2 = assertThrows(DatasetFormatException.class,
                () -> CocoStyleFile.index(images, ReadReport.lenient()));
        assertEquals(2, e2.line());
        assertEquals("images", e2.field());

        Path none = dir.resolve("none.json");
        Files.writeString(none, "{\"annotations\": []}");
        assertEquals("images", assertThrows(DatasetFormatException.class,
                () -> CocoStyleFile.index(none, ReadReport.lenient())).field());

        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"images\": [\n{\"id\": 1,,}]}");
        DatasetFormatException e3 = assertThrows(DatasetFormatException.class,
                () -> CocoStyleFile.index(broken, ReadReport.lenient()));
        assertEquals(2, e3.line());
        assertTrue(e3.getMessage().startsWith(broken.toString()), e3.getMessage());
    }

    @Test
    void annotationsAreFoundByByteOffsetEvenAfterMultiByteText(@TempDir Path dir) throws IOException {
        // Non-ASCII captions before and between annotations: offsets must count bytes, not characters.
        Path f = dir.resolve("utf8.json");
        Files.writeString(f, "{\"info\": {\"description\": \"caf\u00e9 \u2615 \ud83d\udc15\"}, \"annotations\": ["
                + "{\"id\": 1, \"image_id\": 2, \"caption\": \"\u00fcber den Fu\u00dfweg \ud83d\udc15\"},"
                + "{\"id\": 2, \"image_id\": 1, \"caption\": \"\u4e00\u53ea\u72d7\"},"
                + "{\"id\": 3, \"image_id\": 2, \"caption\": \"plain\"}],"
                + "\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"height\": 1, \"width\": 1},"
                + "{\"id\": 2, \"file_name\": \"b.jpg\", \"height\": 1, \"width\": 1}]}", StandardCharsets.UTF_8);
        List<ImageAnnotations> images = all(CocoStyleFile.index(f, ReadReport.strict()));
        assertEquals(List.of("\u4e00\u53ea\u72d7"), images.get(0).annotations().stream().map(CocoAnnotation::caption).toList());
        assertEquals(List.of("\u00fcber den Fu\u00dfweg \ud83d\udc15", "plain"),
                images.get(1).annotations().stream().map(CocoAnnotation::caption).toList());
    }
}
