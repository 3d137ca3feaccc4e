package osprey4j.data.datasets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.data.coco.Segmentation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static osprey4j.data.datasets.CocoStyleFileTest.resource;

class RootArrayReadersTest {
    private static <T> List<T> all(Stream<T> s) {
        try (s) {
            return s.toList();
        }
    }

    @Test
    void ospreyConversationRecordsAndTheirSkips() throws IOException {
        ReadReport report = ReadReport.lenient();
        List<Osprey724kEntry> entries = all(Osprey724k.read(resource("osprey_conversation.json"), report));
        assertEquals(List.of(0L, 1L), entries.stream().map(Osprey724kEntry::index).toList());

        Osprey724kEntry first = entries.getFirst();
        assertEquals("COCO_train2014_000000000042.jpg", first.fileName());
        assertEquals(120, first.width());
        assertEquals(100, first.height());
        assertEquals(2, first.line());
        assertEquals(2, first.regions().size());
        assertInstanceOf(Segmentation.Polygons.class, first.regions().get(0));
        assertEquals(new Segmentation.CompressedRle(100, 120, "abc").counts(),
                assertInstanceOf(Segmentation.CompressedRle.class, first.regions().get(1)).counts());
        assertEquals(5, first.conversations().size());
        assertEquals(new Turn("gpt", "<region1> is chasing <region2>."), first.conversations().get(1));
        assertTrue(first.descriptions().isEmpty());

        assertEquals(3, report.skipped(), report.skips().toString());
        List<String> fields = report.skips().stream().map(ReadReport.Skip::field).toList();
        assertEquals(List.of("width", "annotation[1].segmentation", "conversations[1].value"), fields);
        assertEquals(List.of(2L, 3L, 4L), report.skips().stream().map(ReadReport.Skip::entryIndex).toList());
        assertEquals(List.of(17L, 20L, 23L), report.skips().stream().map(ReadReport.Skip::line).toList());
    }

    @Test
    void detailedDescriptionsAreRead() throws IOException {
        List<Osprey724kEntry> entries = all(Osprey724k.read(resource("osprey_detail_description.json"),
                ReadReport.strict()));
        assertEquals(3, entries.size());
        assertEquals(List.of("<region1>: A brown dog: fluffy and small.", "<region2>: A red ball on the grass."),
                entries.getFirst().descriptions());
        assertTrue(entries.getFirst().conversations().isEmpty());
    }

    @Test
    void categoryEvaluationFile() throws IOException {
        ReadReport report = ReadReport.lenient();
        List<CategoryEvalEntry> entries = all(CategoryEval.read(resource("lvis_val_1k_category.json"), report));
        assertEquals(1, entries.size());
        CategoryEvalEntry e = entries.getFirst();
        assertEquals(List.of("baseball_bat", "mug:handle"), e.categories());
        assertEquals(2, e.regions().size());
        assertEquals(640, e.width());
        assertEquals(1, report.skipped());
        assertEquals("categories", report.skips().getFirst().field());
        assertTrue(report.skips().getFirst().reason().contains("1 names for 0 regions"));
    }

    @Test
    void popeLinesStandAlone() throws IOException {
        ReadReport report = ReadReport.lenient();
        List<PopeQuestion> qs = all(Pope.read(resource("coco_pope_random.json"), report));
        assertEquals(List.of(1L, 2L, 6L), qs.stream().map(PopeQuestion::questionId).toList());
        assertEquals(new PopeQuestion(1, "COCO_val2014_000000310196.jpg", "Is there a snowboard in the image?", "yes", 1),
                qs.getFirst());
        assertEquals(7, qs.get(2).line());
        assertEquals(3, report.skipped(), report.skips().toString());
        assertEquals(List.of(4L, 5L, 6L), report.skips().stream().map(ReadReport.Skip::line).toList());
        assertEquals(List.of("label", "$", "image"), report.skips().stream().map(ReadReport.Skip::field).toList());
    }

    @Test
    void rootThatIsNotAnArrayIsAnError(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("osprey_short_form.json");
        Files.writeString(f, "\n\n{\"images\": []}");
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Osprey724k.read(f, ReadReport.lenient()));
        assertEquals(3, e.line());
        assertEquals("$", e.field());
        assertTrue(e.getMessage().contains("Osprey-724K"));

        Path g = dir.resolve("truncated.json");
        Files.writeString(g, "[{\"file_name\": \"a.jpg\", \"height\": 1, \"width\": 1, \"annotation\": []},\n{\"file_name\": ");
        ReadReport report = ReadReport.lenient();
        try (Stream<Osprey724kEntry> s = Osprey724k.read(g, report)) {
            var it = s.iterator();
            assertEquals("a.jpg", it.next().fileName());
            DatasetFormatException t = assertThrows(DatasetFormatException.class, it::hasNext);
            assertEquals(2, t.line());
            assertTrue(t.getMessage().contains("truncated.json"));
        }
    }

    @Test
    void nullOptionalFieldsCountAsAbsent(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("nulls.json");
        Files.writeString(f, "[{\"file_name\": \"a.jpg\", \"height\": 2, \"width\": 3, \"annotation\": [], "
                + "\"conversations\": null, \"description\": null, \"extra\": {\"deep\": [1, [2]]}}]");
        Osprey724kEntry e = all(Osprey724k.read(f, ReadReport.strict())).getFirst();
        assertTrue(e.conversations().isEmpty());
        assertTrue(e.descriptions().isEmpty());
    }
}
