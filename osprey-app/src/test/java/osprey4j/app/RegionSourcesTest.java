package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Mask;
import osprey4j.service.DescribeRequest;

/** Regions from the command line (--box) and from COCO-style files, without the model. */
class RegionSourcesTest {
    @TempDir
    Path dir;

    private Path write(String json) throws IOException {
        Path p = dir.resolve("a.json");
        Files.writeString(p, json);
        return p;
    }

    @Test
    void boxIsARectangleWithExclusiveEndsClippedToTheImage() {
        Mask m = RegionInputs.box("2,1,5,3", 10, 8);
        assertEquals(new Mask.Box(2, 1, 3, 2), m.bbox());
        assertEquals(6, m.area());
        assertEquals(new Mask.Box(8, 6, 2, 2), RegionInputs.box("8,6,30,20", 10, 8).bbox());
        UsageException e = assertThrows(UsageException.class, () -> RegionInputs.box("5,5,5,7", 10, 8));
        assertTrue(e.getMessage().contains("covers no pixel"), e.getMessage());
        e = assertThrows(UsageException.class, () -> RegionInputs.box("1,2,3", 10, 8));
        assertTrue(e.getMessage().contains("x1,y1,x2,y2"), e.getMessage());
    }

    @Test
    void cocoFileSelectsTheImageByFileName() throws IOException {
        Path f = write("""
                {"images": [{"id": 1, "file_name": "dir/a.png"}, {"id": 2, "file_name": "b.png"}],
                 "annotations": [{"id": 10, "image_id": 2, "segmentation": [[0,0,4,0,4,4,0,4]]},
                                 {"id": 11, "image_id": 1, "segmentation": [[0,0,2,0,2,2]]},
                                 {"id": 12, "image_id": 2, "segmentation": {"size": [6, 8], "counts": [0, 48]}}]}
                """);
        List<DescribeRequest.Region> r = CocoRegions.read(f, Path.of("x/b.png"), 8, 6);
        assertEquals(List.of(10L, 12L), r.stream().map(DescribeRequest.Region::id).toList());
        assertEquals(48, r.get(1).mask().area());
        assertEquals(1, CocoRegions.read(f, Path.of("a.png"), 8, 6).size());
        UsageException e = assertThrows(UsageException.class, () -> CocoRegions.read(f, Path.of("c.png"), 8, 6));
        assertTrue(e.getMessage().contains("none has the file name c.png"), e.getMessage());
    }

    @Test
    void listOfAnnotationsOneAnnotationOrOneSegmentation() throws IOException {
        Path list = write("[{\"segmentation\": [[0,0,4,0,4,4,0,4]]}, {\"id\": 5, \"segmentation\": [[1,1,3,1,3,3]]}]");
        assertEquals(List.of(1L, 5L), CocoRegions.read(list, Path.of("i.png"), 8, 6).stream()
                .map(DescribeRequest.Region::id).toList());
        Path one = write("{\"id\": 9, \"segmentation\": {\"size\": [6, 8], \"counts\": [6, 42]}}");
        assertEquals(42, CocoRegions.read(one, Path.of("i.png"), 8, 6).getFirst().mask().area());
        Path polygons = write("[[0,0,4,0,4,4,0,4]]");
        assertEquals(1, CocoRegions.read(polygons, Path.of("i.png"), 8, 6).size());
    }

    @Test
    void rleOfAnotherSizeNamesTheAnnotation() throws IOException {
        Path f = write("[{\"id\": 3, \"segmentation\": {\"size\": [5, 5], \"counts\": [25]}}]");
        UsageException e = assertThrows(UsageException.class, () -> CocoRegions.read(f, Path.of("i.png"), 8, 6));
        assertTrue(e.getMessage().contains("annotation 3") && e.getMessage().contains("8x6"), e.getMessage());
    }
}
