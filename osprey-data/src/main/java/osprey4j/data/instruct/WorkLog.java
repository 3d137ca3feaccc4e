package osprey4j.data.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The append-only record of finished LLM tasks: one JSON object per line, written with a single write and forced
 * to disk before the task counts as done. On open the file is read back; a last line without its newline (the run
 * was killed mid-write) is cut off, so every line that remains is whole. A task whose line is there is never asked
 * again, which is what makes a rerun finish the job with nothing lost and nothing twice.
 */
final class WorkLog implements Closeable {
    static final String FILE = "instruct_work.jsonl";
    static final String OK = "ok";
    static final String SKIPPED = "skipped";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final FileChannel channel;
    /** Finished tasks by key, with their line; skipped tasks are not here (a rerun tries them again). */
    private final Map<String, JsonNode> done = new LinkedHashMap<>();
    private long tornBytes;
    private long promptTokens;
    private long completionTokens;

    private WorkLog(FileChannel channel) {
        this.channel = channel;
    }

    static WorkLog open(Path file) throws IOException {
        WorkLog log = new WorkLog(FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE));
        log.load();
        return log;
    }

    private void load() throws IOException {
        long size = channel.size();
        byte[] all = new byte[Math.toIntExact(size)];
        ByteBuffer buf = ByteBuffer.wrap(all);
        while (buf.hasRemaining() && channel.read(buf, buf.position()) >= 0) {
            // read it all
        }
        int start = 0;
        for (int i = 0; i < all.length; i++) {
            if (all[i] == '\n') {
                accept(new String(all, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start < all.length) {   // torn tail: drop it so the next append starts on a fresh line
            tornBytes = all.length - start;
            channel.truncate(start);
            channel.force(true);
        }
        channel.position(start);
    }

    private void accept(String line) {
        if (line.isBlank()) {
            return;
        }
        JsonNode n;
        try {
            n = MAPPER.readTree(line);
        } catch (IOException e) {
            return;   // cannot happen for lines we wrote whole; ignore rather than refuse to resume
        }
        promptTokens += n.path("prompt_tokens").asLong(0);
        completionTokens += n.path("completion_tokens").asLong(0);
        if (OK.equals(n.path("status").asText()) && n.has("record")) {
            done.putIfAbsent(n.path("task").asText(), n);
        }
    }

    synchronized boolean isDone(String task) {
        return done.containsKey(task);
    }

    synchronized JsonNode record(String task) {
        JsonNode n = done.get(task);
        return n == null ? null : n.get("record");
    }

    synchronized int doneCount() {
        return done.size();
    }

    /** Bytes cut from the end when the log was opened (a line torn by a kill). */
    long tornBytes() {
        return tornBytes;
    }

    /** Tokens recorded by every line of earlier runs and this one. */
    synchronized long promptTokens() {
        return promptTokens;
    }

    synchronized long completionTokens() {
        return completionTokens;
    }

    /** Appends one line and forces it to disk. */
    synchronized void append(ObjectNode line) throws IOException {
        byte[] bytes = (MAPPER.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
        channel.force(false);
        promptTokens += line.path("prompt_tokens").asLong(0);
        completionTokens += line.path("completion_tokens").asLong(0);
        if (OK.equals(line.path("status").asText())) {
            done.putIfAbsent(line.path("task").asText(), line);
        }
    }

    static ObjectNode line(String task, String status) {
        return MAPPER.createObjectNode().put("task", task).put("status", status);
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }

    static Path in(Path dir) {
        return dir.resolve(FILE);
    }

    static boolean exists(Path dir) {
        return Files.exists(in(dir));
    }
}
