package osprey4j.data.stats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.data.world.SyntheticWorld;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetStatsTest {
    private static final String REGION = "\"annotation\": [{\"segmentation\": [[0, 0, 3, 0, 3, 3]]}, "
            + "{\"segmentation\": {\"size\": [4, 5], \"counts\": [2, 3, 15]}}]";
    private static final String PREAMBLE = "<image>\\nThis provides an overview of the picture.\\n";

    /** Writes hand-made files in the Osprey-724K schema: 3 conversation records, 3 yes/no, 1 description record. */
    static Path instructDir(Path dir) throws IOException {
        Files.writeString(dir.resolve("osprey_conversation.json"), "["
                + record(PREAMBLE + "What is <region1> doing?", "It is sleeping on the red mat near the door.",
                "Can you describe <region2>?", "A small blue mug with a handle.") + ","
                + record(PREAMBLE + "What is the colour of <region1>?", "Red.") + ","
                + record(PREAMBLE + "Can you see <region2>?", "Yes") + "]");
        Files.writeString(dir.resolve("osprey_lvis_positive_negative.json"), "["
                + record(PREAMBLE + "Is <region1> a cat?", "Yes") + ","
                + record(PREAMBLE + "Is <region1> a fox?", "No") + ","
                + record(PREAMBLE + "Is <region2> a mug?", "yes.") + "]");
        Files.writeString(dir.resolve("osprey_detail_description.json"), "[{\"file_name\": \"a.png\", "
                + "\"height\": 4, \"width\": 5, " + REGION + ", \"description\": [\"<region1>: A dog.\", "
                + "\"<region2>: A tall white vase with a narrow neck and a round body, standing on a table.\"]}]");
        return dir;
    }

    private static String record(String... turns) {
        StringBuilder s = new StringBuilder("{\"file_name\": \"a.png\", \"height\": 4, \"width\": 5, " + REGION
                + ", \"conversations\": [");
        for (int i = 0; i < turns.length; i++) {
            s.append(i == 0 ? "" : ", ").append("{\"from\": \"").append(i % 2 == 0 ? "human" : "gpt")
                    .append("\", \"value\": \"").append(turns[i]).append("\"}");
        }
        return s.append("]}").toString();
    }

    @Test
    void countsSubsetsQuestionTypesAnswerLengthsAndBalance(@TempDir Path dir) throws IOException {
        DatasetStats.Report r = DatasetStats.of(instructDir(dir));
        assertNull(r.world());
        assertEquals(3, r.subsets().size());
        DatasetStats.Subset desc = r.subsets().get(0);
        DatasetStats.Subset conv = r.subsets().get(1);
        DatasetStats.Subset lvis = r.subsets().get(2);
        assertEquals("detail_description", desc.name());
        assertEquals(1, desc.records());
        assertEquals(2, desc.answers());
        assertEquals(0, desc.questions());
        assertEquals(1, desc.answerLengths().buckets().get("2-3"));   // "A dog." once its region prefix is off
        assertEquals(1, desc.answerLengths().buckets().get("16-31"));  // the 16-word vase description

        assertEquals(3, conv.records());
        assertEquals(6, conv.regions());
        assertEquals(4, conv.questions());
        assertEquals(4, conv.answers());
        assertEquals(Map.of("what is", 2L, "can you", 2L), conv.questionTypes().top(10));
        assertEquals(10, conv.answerLengths().max());
        assertEquals(Map.of("red", 1L, "yes", 1L), conv.shortAnswers().top(10));

        assertEquals(Map.of("is <region>", 3L), lvis.questionTypes().top(10));
        assertEquals(Map.of("yes", 2L, "no", 1L), lvis.shortAnswers().top(10));
        assertEquals(1.0, lvis.answerLengths().mean());

        String md = StatsReport.markdown(r, "stats.png");
        assertTrue(md.contains("| conversation | 3 | 6 | 4 | 4 | 0 |"), md);
        assertTrue(md.contains("| is <region> | 3 | 100.0% |"), md);
        assertTrue(md.contains("| yes | 2 | 66.7% |"), md);
        assertEquals(3, StatsReport.json(r).get("subsets").get("lvis_positive_negative").get("records").asInt());

        Path png = dir.resolve("chart.png");
        StatsReport.writeChart(r, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img);
        assertTrue(img.getWidth() >= 800 && img.getHeight() >= 450);
    }

    @Test
    void worldDirectoriesReportObjectsPartsAndCategories(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("w");
        SyntheticWorld.Summary s = SyntheticWorld.generate(new SyntheticWorld.Options(3, 5, 96, 96, 1), out, null);
        DatasetStats.Report r = DatasetStats.of(out);
        assertTrue(r.subsets().isEmpty());
        DatasetStats.World w = r.world();
        assertEquals(3, w.images());
        assertEquals(s.objects(), w.objects());
        assertEquals(s.parts(), w.parts());
        assertEquals(s.captions(), w.captions());
        assertEquals(s.objects(), w.objectsPerCategory().total());
        assertTrue(w.categories() >= 20);
        assertEquals(s.objects() * 4, w.attributes().total(), "colour, pattern, size and shading per object");
        assertTrue(StatsReport.markdown(r, null).contains("## Synthetic world"));
        StatsReport.writeChart(r, dir.resolve("w.png"));
        assertNotNull(ImageIO.read(dir.resolve("w.png").toFile()));
    }

    @Test
    void questionTypeIgnoresThePreambleAndRegionNumbers() {
        assertEquals("is <region>", DatasetStats.questionType("<image>\nThis provides an overview of the picture.\n"
                + "Is <region12> a cat?"));
        assertEquals("give me", DatasetStats.questionType("Give me a short description of <mask><pos>."));
        assertEquals("(empty)", DatasetStats.questionType("<image>\n"));
    }

    @Test
    void aDirectoryWithoutDataIsRefused(@TempDir Path dir) {
        assertThrows(IllegalArgumentException.class, () -> DatasetStats.of(dir));
        assertThrows(IllegalArgumentException.class, () -> DatasetStats.of(dir.resolve("missing")));
    }
}
