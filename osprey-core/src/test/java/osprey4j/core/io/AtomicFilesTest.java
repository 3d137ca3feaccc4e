package osprey4j.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aFinishedBodyReplacesTheTargetAndAFailedOneLeavesItAsItWas() throws IOException {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "old");
        AtomicFiles.write(target, tmp -> Files.writeString(tmp, "new"));
        assertEquals("new", Files.readString(target));

        assertThrows(IOException.class, () -> AtomicFiles.write(target, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("disk full");
        }));
        assertEquals("new", Files.readString(target));
        assertEquals(List.of("out.txt"), names(), "no temporary file left");
    }

    @Test
    void temporaryNamesAreHiddenSiblingsThatDoNotRepeat() {
        Path a = AtomicFiles.temporarySibling(dir.resolve("x.json"));
        Path b = AtomicFiles.temporarySibling(dir.resolve("x.json"));
        assertEquals(dir.toAbsolutePath(), a.getParent());
        assertEquals(true, a.getFileName().toString().startsWith(".x.json."));
        assertEquals(false, a.equals(b));
    }
}
