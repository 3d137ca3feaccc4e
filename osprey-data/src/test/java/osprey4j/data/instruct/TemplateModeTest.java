package osprey4j.data.instruct;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.data.datasets.Osprey724k;
import osprey4j.data.datasets.Osprey724kEntry;
import osprey4j.data.datasets.ReadReport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TemplateModeTest {
    @TempDir
    Path tmp;

    @Test
    void writesFiveFilesTheReaderAccepts() throws Exception {
        Path world = WorldFiles.write(tmp.resolve("world"), 0);
        SceneReader reader = SceneReader.open(SceneReader.Inputs.directory(world, null), ReadReport.strict());
        Path out = tmp.resolve("out");
        InstructSummary s = InstructEngine.templates(reader, MiniLmEmbedder.get(), new InstructOptions(7, 20), out);
        for (Subset subset : Subset.values()) {
            System.out.println("== " + subset + " " + s.records().get(subset));
            System.out.println(Files.readString(out.resolve(subset.fileName())).replaceAll("\"segmentation\":\\[\\[[^]]*]]", "SEG"));
            ReadReport r = ReadReport.strict();
            try (var entries = Osprey724k.read(out.resolve(subset.fileName()), r)) {
                List<Osprey724kEntry> list = entries.toList();
                assertEquals(s.records().get(subset), list.size());
            }
        }
    }
}
