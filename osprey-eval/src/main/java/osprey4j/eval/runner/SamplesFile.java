package osprey4j.eval.runner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import osprey4j.core.io.AtomicFiles;

/**
 * An evaluation's per-sample results: one JSON object per line with a string {@code id}, appended and flushed as
 * each sample is answered, so a process killed at any moment loses at most the line it was writing.
 * {@link #read} takes back what an earlier run wrote: a line cut short (or any line that does not parse or has no
 * id) is dropped and the file rewritten without it, so that sample is asked again and the file stays valid JSON
 * lines.
 */
public final class SamplesFile implements Closeable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;

    private SamplesFile(BufferedWriter out) {
        this.out = out;
    }

    /** The samples already in {@code file} by id (the last line wins for a repeated id), repairing it if needed. */
    public static Map<String, JsonNode> read(Path file) throws IOException {
        Map<String, JsonNode> done = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return done;
        }
        String content = Files.readString(file, StandardCharsets.UTF_8);
        List<String> kept = new ArrayList<>();
        int nonBlank = 0;
        for (String line : content.split("\n", -1)) {
            if (line.isBlank()) {
                continue;
            }
            nonBlank++;
            try {
                JsonNode o = JSON.readTree(line);
                if (o != null && o.isObject() && o.path("id").isTextual()) {
                    done.put(o.get("id").asText(), o);
                    kept.add(line);
                }
            } catch (IOException damaged) {
                // asked again
            }
        }
        if (kept.size() != nonBlank || !content.isEmpty() && !content.endsWith("\n")) {
            AtomicFiles.write(file, f -> Files.write(f, kept, StandardCharsets.UTF_8));
        }
        return done;
    }

    /** Opens {@code file} for appending (created when absent). */
    public static SamplesFile append(Path file) throws IOException {
        return new SamplesFile(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND));
    }

    /** Writes one sample as a line and flushes it. */
    public void write(JsonNode sample) throws IOException {
        out.write(JSON.writeValueAsString(sample));
        out.write('\n');
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
