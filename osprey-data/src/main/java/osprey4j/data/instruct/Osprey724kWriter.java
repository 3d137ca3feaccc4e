package osprey4j.data.instruct;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import osprey4j.core.io.AtomicFiles;

/**
 * Writes one Osprey-724K file: a root JSON array, one record per line (readable, diffable, and the shape the
 * official files have). Written to a temporary file beside the target and renamed into place at the end, so a
 * crash leaves either the old file or the complete new one.
 */
final class Osprey724kWriter implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path target;
    private final Path tmp;
    private final JsonGenerator out;
    private long count;
    private boolean done;

    Osprey724kWriter(Path target) throws IOException {
        this.target = target;
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        this.tmp = AtomicFiles.temporarySibling(target);
        this.out = MAPPER.getFactory().createGenerator(Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW),
                JsonEncoding.UTF8);
        out.writeRaw('[');
    }

    void write(InstructRecord r) throws IOException {
        writeJson(json(r));
    }

    /** One record's JSON text, as it is written (one line). */
    static String json(InstructRecord r) throws IOException {
        return MAPPER.writeValueAsString(r.toJson());
    }

    /** Writes a record given as its JSON text ({@link #json}). */
    void writeJson(String json) throws IOException {
        out.writeRaw(count == 0 ? "\n" : ",\n");
        out.writeRaw(json);
        count++;
    }

    long count() {
        return count;
    }

    /** Closes and renames into place. */
    void commit() throws IOException {
        out.writeRaw(count == 0 ? "]\n" : "\n]\n");
        out.close();
        AtomicFiles.moveIntoPlace(tmp, target);
        done = true;
    }

    @Override
    public void close() throws IOException {
        if (!done) {
            out.close();
            Files.deleteIfExists(tmp);
        }
    }
}
