package osprey4j.data.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import osprey4j.core.io.AtomicFiles;
import osprey4j.data.datasets.Turn;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * LLM mode. One task per image and LLM-written subset (detailed description, conversation, short form): the prompt
 * goes to the endpoint, the reply is validated, and the finished record is appended to the work log. At most
 * {@code concurrency} requests are in flight. When all tasks are done the five files are assembled, in image order,
 * from the log (LLM subsets) and from templates (part-level and yes/no subsets, which the paper also derives from
 * annotations).
 *
 * <p>Resume: tasks already in the log are not asked again. A run killed at any point (even {@code kill -9}) and
 * started again with the same command finishes the job; every task ends up in the output exactly once. A checkpoint
 * file beside the log records the settings the log was made with (a rerun with other settings is refused rather than
 * mixing two runs) and the running totals.
 */
public final class LlmGenerator {
    static final List<Subset> LLM_SUBSETS = List.of(Subset.DETAILED_DESCRIPTION, Subset.CONVERSATION,
            Subset.SHORT_FORM);
    static final String CHECKPOINT = "instruct_checkpoint.json";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * @param concurrency   requests in flight at most
     * @param maxInvalid    how many malformed replies a task may get before it is skipped (and counted)
     * @param pricePerMIn   currency units per million prompt tokens
     * @param pricePerMOut  currency units per million completion tokens
     * @param progress      where the progress bar goes (stderr), or null
     */
    public record Options(ChatClient.Settings chat, int concurrency, int maxInvalid, double pricePerMIn,
                          double pricePerMOut, PrintStream progress) {
        public Options {
            if (concurrency < 1) {
                throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
            }
            if (maxInvalid < 0) {
                throw new IllegalArgumentException("max invalid replies must be 0 or more, got " + maxInvalid);
            }
        }

        double cost(long in, long out) {
            return in / 1e6 * pricePerMIn + out / 1e6 * pricePerMOut;
        }
    }

    private LlmGenerator() {
    }

    static String taskKey(Subset subset, long imageId) {
        return subset.id() + "/" + imageId;
    }

    public static InstructSummary run(SceneReader reader, TextEmbedder embedder, InstructOptions options,
                                      Options llm, Path out, SceneReader.Inputs inputs) throws IOException {
        Files.createDirectories(out);
        ObjectNode fingerprint = fingerprint(options, llm, inputs);
        checkFingerprint(out.resolve(CHECKPOINT), fingerprint);
        TemplateText text = new TemplateText(InstructEngine.miner(reader, embedder, out));
        ChatClient client = new ChatClient(llm.chat());
        try (WorkLog log = WorkLog.open(WorkLog.in(out))) {
            long resumed = log.doneCount();
            writeCheckpoint(out, fingerprint, resumed, totals(log, llm), false);   // claims the folder for these settings
            long total = (long) reader.imageCount() * LLM_SUBSETS.size();
            Progress bar = new Progress(llm.progress(), total);
            AtomicLong finished = new AtomicLong(resumed);
            AtomicLong skipped = new AtomicLong();
            AtomicLong invalid = new AtomicLong();
            AtomicReference<IOException> fatal = new AtomicReference<>();
            Semaphore inFlight = new Semaphore(llm.concurrency());
            Runnable redraw = () -> bar.update(finished.get(), skipped.get(), log.promptTokens(),
                    log.completionTokens(), llm.cost(log.promptTokens(), log.completionTokens()), false);
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
                 Stream<Scene> scenes = reader.scenes()) {
                for (Iterator<Scene> it = scenes.iterator(); it.hasNext() && fatal.get() == null; ) {
                    Scene scene = it.next();
                    List<SceneObject> regions = InstructEngine.chosen(scene, options.maxRegions());
                    for (Subset subset : LLM_SUBSETS) {
                        String key = taskKey(subset, scene.image().id());
                        if (log.isDone(key)) {
                            continue;
                        }
                        if (regions.isEmpty()) {   // nothing to ask about: done, with no record
                            finished.incrementAndGet();
                            continue;
                        }
                        inFlight.acquireUninterruptibly();
                        pool.submit(() -> {
                            try {
                                if (fatal.get() != null) {
                                    return;
                                }
                                boolean ok = task(client, log, llm, subset, scene, regions, key, invalid);
                                (ok ? finished : skipped).incrementAndGet();
                                if (ok) {
                                    writeCheckpointEvery(out, fingerprint, finished.get(), log, llm);
                                }
                                redraw.run();
                            } catch (ChatClient.ChatException e) {
                                if (e.refused()) {
                                    fatal.compareAndSet(null, e);
                                } else {
                                    skipped.incrementAndGet();
                                    logSkip(log, key, e.getMessage());
                                }
                            } catch (IOException e) {
                                fatal.compareAndSet(null, e);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            } finally {
                                inFlight.release();
                            }
                        });
                    }
                }
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            if (fatal.get() != null) {
                throw fatal.get();
            }
            bar.update(finished.get(), skipped.get(), log.promptTokens(), log.completionTokens(),
                    llm.cost(log.promptTokens(), log.completionTokens()), true);
            InstructSummary written = InstructEngine.write(reader, options, out, (subset, scene) -> {
                if (!LLM_SUBSETS.contains(subset)) {
                    return InstructEngine.templateRecords(text, subset, scene, options);
                }
                JsonNode r = log.record(taskKey(subset, scene.image().id()));
                return r == null ? List.of() : List.of(InstructRecord.fromJson(r));
            });
            written.tasksResumed = resumed;
            written.tasksDone = finished.get() - resumed;
            written.tasksSkipped = skipped.get();
            written.invalidReplies = invalid.get();
            written.requests = client.requests();
            written.retries = client.retries();
            written.promptTokens = log.promptTokens();
            written.completionTokens = log.completionTokens();
            written.cost = llm.cost(written.promptTokens, written.completionTokens);
            writeCheckpoint(out, fingerprint, finished.get(), written, true);
            return written;
        }
    }

    /**
     * One image and subset: ask, validate, retry a malformed reply up to {@code maxInvalid} times. Returns whether
     * a record was logged; a task given up is logged as skipped (with its tokens) and tried again on a rerun.
     */
    private static boolean task(ChatClient client, WorkLog log, Options llm, Subset subset, Scene scene,
                                List<SceneObject> regions, String key, AtomicLong invalid)
            throws IOException, InterruptedException {
        List<ChatClient.Message> messages = LlmPrompts.messages(subset, scene, regions);
        long in = 0;
        long outTokens = 0;
        String reason = null;
        for (int attempt = 0; attempt <= llm.maxInvalid(); attempt++) {
            ChatClient.Reply reply = client.complete(messages);
            in += reply.promptTokens();
            outTokens += reply.completionTokens();
            try {
                InstructRecord record = record(subset, scene, regions, reply.content());
                ObjectNode line = WorkLog.line(key, WorkLog.OK).put("prompt_tokens", in)
                        .put("completion_tokens", outTokens).put("attempts", attempt + 1);
                line.set("record", record.toJson());
                log.append(line);
                return true;
            } catch (ReplyParser.InvalidReply e) {
                invalid.incrementAndGet();
                reason = e.getMessage();
            }
        }
        log.append(WorkLog.line(key, WorkLog.SKIPPED).put("reason", "invalid reply: " + reason)
                .put("prompt_tokens", in).put("completion_tokens", outTokens));
        return false;
    }

    private static void logSkip(WorkLog log, String key, String reason) {
        try {
            log.append(WorkLog.line(key, WorkLog.SKIPPED).put("reason", reason));
        } catch (IOException ignored) {
            // the skip is counted in the summary; a rerun retries the task either way
        }
    }

    static InstructRecord record(Subset subset, Scene scene, List<SceneObject> regions, String reply)
            throws ReplyParser.InvalidReply {
        List<InstructRecord.SceneRegion> rs = regions.stream().map(InstructRecord.SceneRegion::of).toList();
        return switch (subset) {
            case DETAILED_DESCRIPTION -> InstructRecord.described(scene, rs,
                    ReplyParser.descriptions(reply, regions.size()));
            case CONVERSATION -> InstructRecord.conversation(scene, rs,
                    ReplyParser.conversation(reply, regions.size(), false));
            case SHORT_FORM -> {
                List<Turn> turns = ReplyParser.conversation(reply, regions.size(), true);
                yield InstructRecord.conversation(scene, rs, turns);
            }
            default -> throw new IllegalArgumentException(subset.toString());
        };
    }

    // ---- checkpoint -----------------------------------------------------------------------------------------

    private static ObjectNode fingerprint(InstructOptions options, Options llm, SceneReader.Inputs in) {
        ObjectNode f = MAPPER.createObjectNode();
        f.put("endpoint", llm.chat().endpoint().toString());
        f.put("model", llm.chat().model());
        f.put("seed", options.seed());
        f.put("max_regions", options.maxRegions());
        f.put("instances", in.instances().toAbsolutePath().normalize().toString());
        f.put("parts", Objects.toString(in.parts() == null ? null : in.parts().toAbsolutePath().normalize()));
        f.put("captions", Objects.toString(in.captions() == null ? null : in.captions().toAbsolutePath().normalize()));
        try {   // in the form it has when read back from the file, so that equal settings compare equal
            return (ObjectNode) MAPPER.readTree(MAPPER.writeValueAsString(f));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void checkFingerprint(Path checkpoint, ObjectNode fingerprint) throws IOException {
        if (!Files.isRegularFile(checkpoint)) {
            return;
        }
        JsonNode old;
        try {
            old = MAPPER.readTree(checkpoint.toFile()).get("settings");
        } catch (IOException e) {
            return;   // written atomically, so unreadable means foreign: the log alone decides
        }
        if (old != null && !old.equals(fingerprint)) {
            List<String> diff = new ArrayList<>();
            fingerprint.fieldNames().forEachRemaining(k -> {
                if (!fingerprint.get(k).equals(old.get(k))) {
                    diff.add(k);
                }
            });
            throw new IllegalArgumentException("the work log in " + checkpoint.getParent() + " was made with other "
                    + "settings (" + String.join(", ", diff) + "); use another --out or delete " + WorkLog.FILE
                    + " and " + CHECKPOINT + " there to start over");
        }
    }

    private static final int CHECKPOINT_EVERY = 25;

    private static InstructSummary totals(WorkLog log, Options llm) {
        InstructSummary s = new InstructSummary();
        s.promptTokens = log.promptTokens();
        s.completionTokens = log.completionTokens();
        s.cost = llm.cost(s.promptTokens, s.completionTokens);
        return s;
    }

    /** Refreshes the checkpoint's totals now and then; the log, not the checkpoint, decides what is done. */
    private static void writeCheckpointEvery(Path out, ObjectNode fingerprint, long done, WorkLog log, Options llm)
            throws IOException {
        if (done % CHECKPOINT_EVERY == 0) {
            synchronized (LlmGenerator.class) {
                writeCheckpoint(out, fingerprint, done, totals(log, llm), false);
            }
        }
    }

    private static void writeCheckpoint(Path out, ObjectNode fingerprint, long done, InstructSummary s,
                                        boolean finished) throws IOException {
        ObjectNode c = MAPPER.createObjectNode();
        c.set("settings", fingerprint);
        c.put("tasks_done", done);
        c.put("prompt_tokens", s.promptTokens);
        c.put("completion_tokens", s.completionTokens);
        c.put("cost", s.cost);
        c.put("finished", finished);
        byte[] bytes = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(c);
        AtomicFiles.write(out.resolve(CHECKPOINT),
                tmp -> Files.write(tmp, bytes, java.nio.file.StandardOpenOption.CREATE_NEW));
    }
}
