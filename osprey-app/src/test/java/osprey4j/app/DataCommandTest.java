package osprey4j.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataCommandTest {
    @Test
    void writesOneJsonLinePerSample(@TempDir Path dir) throws IOException {
        Path ann = dir.resolve("osprey_lvis_positive_negative.json");
        Files.writeString(ann, "[{\"file_name\": \"x.jpg\", \"height\": 4, \"width\": 5, "
                + "\"annotation\": [{\"segmentation\": [[0, 0, 3, 0, 3, 3]]}], "
                + "\"conversations\": [{\"from\": \"human\", \"value\": \"Is <region1> a cat?\"}, "
                + "{\"from\": \"gpt\", \"value\": \"Yes\"}]}]");
        Path out = dir.resolve("out.jsonl");
        int rc = OspreyCli.execute("data", "samples", "--dataset", "osprey_lvis_positive_negative",
                "--annotations", ann.toString(), "--images", "imgs", "--out", out.toString());
        assertEquals(0, rc);
        List<String> lines = Files.readAllLines(out);
        assertEquals(1, lines.size());
        assertTrue(lines.getFirst().contains("\"value\":\"<image>\\nThis provides an overview of the picture.\\n"
                + "Is <mask><pos> a cat?\""), lines.getFirst());
    }

    @Test
    void wrongSchemaIsAUsageErrorAndLeavesNoOutput(@TempDir Path dir) throws IOException {
        Path ann = dir.resolve("not_coco.json");
        Files.writeString(ann, "[]");
        Path out = dir.resolve("out.jsonl");
        int rc = OspreyCli.execute("data", "samples", "--dataset", "coco", "--annotations", ann.toString(),
                "--images", "imgs", "--out", out.toString());
        assertEquals(2, rc);
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());   // no temporary file left behind
        }
        assertEquals(2, OspreyCli.execute("data", "samples", "--dataset", "nope", "--annotations", ann.toString(),
                "--images", "imgs"));
    }
}
