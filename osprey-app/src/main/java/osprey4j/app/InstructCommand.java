package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import osprey4j.data.datasets.DatasetFormatException;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.instruct.ChatClient;
import osprey4j.data.instruct.InstructEngine;
import osprey4j.data.instruct.InstructOptions;
import osprey4j.data.instruct.InstructSummary;
import osprey4j.data.instruct.LlmGenerator;
import osprey4j.data.instruct.MiniLmEmbedder;
import osprey4j.data.instruct.SceneReader;
import osprey4j.data.instruct.Subset;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code osprey data instruct}: the five Osprey-724K instruction files from annotations. */
@Command(name = "instruct", mixinStandardHelpOptions = true,
        description = {"Write Osprey-724K-style instruction data (detailed descriptions, conversations, part-level "
                + "QA, positive/negative yes-no questions, short-form answers) from COCO/LVIS/PACO-style annotations.",
                "By default the text comes from templates filled with facts measured from the annotations (no "
                        + "network). With --llm it comes from an OpenAI-compatible chat-completions endpoint; such a "
                        + "run keeps a work log in --out and, if interrupted, finishes the job when run again with "
                        + "the same command.",
                "Negative categories are mined with all-MiniLM-L6-v2 (in process) among the 8 most similar "
                        + "categories; vectors are cached in --out."})
final class InstructCommand implements Callable<Integer> {
    static final class Input {
        @Option(names = "--annotations", paramLabel = "DIR", required = true,
                description = "folder with instances.json and optionally parts.json, captions.json (and images/)")
        Path dir;

        @Option(names = "--instances", paramLabel = "FILE", required = true,
                description = "COCO/LVIS/PACO instances file (instead of --annotations)")
        Path instances;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--parts", paramLabel = "FILE", description = "PACO-style parts file (with --instances)")
    Path parts;

    @Option(names = "--captions", paramLabel = "FILE", description = "COCO captions file (with --instances)")
    Path captions;

    @Option(names = "--images", paramLabel = "DIR",
            description = "image folder, to measure colours the annotations do not name (default: DIR/images)")
    Path images;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "output folder for the five files")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "seed for wording and negatives (default 0)")
    long seed;

    @Option(names = "--max-regions", defaultValue = "20", paramLabel = "N",
            description = "regions per record at most, largest first (default 20)")
    int maxRegions;

    @Option(names = "--llm", paramLabel = "URL", description = "OpenAI-compatible base URL (e.g. http://host/v1)")
    String llmUrl;

    @Option(names = "--llm-model", paramLabel = "NAME", description = "model name to request")
    String llmModel;

    @Option(names = "--llm-key-env", paramLabel = "VAR", defaultValue = "OPENAI_API_KEY",
            description = "environment variable holding the API key (default OPENAI_API_KEY; may be unset)")
    String keyEnv;

    @Option(names = "--concurrency", defaultValue = "4", paramLabel = "N", description = "requests in flight (default 4)")
    int concurrency;

    @Option(names = "--timeout", defaultValue = "120", paramLabel = "SECONDS",
            description = "per-request timeout (default 120)")
    double timeoutSeconds;

    @Option(names = "--max-attempts", defaultValue = "6", paramLabel = "N",
            description = "tries per request on 429/5xx/timeouts/connection errors (default 6)")
    int maxAttempts;

    @Option(names = "--max-invalid", defaultValue = "2", paramLabel = "N",
            description = "malformed replies retried per task before it is skipped (default 2)")
    int maxInvalid;

    @Option(names = "--backoff", defaultValue = "1", paramLabel = "SECONDS",
            description = "first retry waits up to this long, doubling each time (default 1; max 60)")
    double backoffSeconds;

    @Option(names = "--temperature", defaultValue = "0.7", description = "sampling temperature (default 0.7)")
    double temperature;

    @Option(names = "--price-in", defaultValue = "0", paramLabel = "X", description = "cost per 1M prompt tokens")
    double priceIn;

    @Option(names = "--price-out", defaultValue = "0", paramLabel = "X", description = "cost per 1M completion tokens")
    double priceOut;

    @Option(names = "--no-progress", description = "no progress bar on stderr")
    boolean noProgress;

    @Option(names = "--strict", description = "fail at the first malformed annotation instead of skipping it")
    boolean strict;

    @Option(names = "--json", description = "print the summary as JSON")
    boolean json;

    @Override
    public Integer call() throws IOException {
        SceneReader.Inputs inputs = inputs();
        if (maxRegions < 1) {
            throw new UsageException("--max-regions must be at least 1, got " + maxRegions);
        }
        if ((llmUrl == null) != (llmModel == null)) {
            throw new UsageException("--llm and --llm-model go together");
        }
        ReadReport report = strict ? ReadReport.strict() : ReadReport.lenient();
        InstructOptions options = new InstructOptions(seed, maxRegions);
        InstructSummary summary;
        try {
            SceneReader reader = SceneReader.open(inputs, report);
            summary = llmUrl == null ? InstructEngine.templates(reader, MiniLmEmbedder.get(), options, out)
                    : LlmGenerator.run(reader, MiniLmEmbedder.get(), options, llmOptions(), out, inputs);
        } catch (DatasetFormatException | IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        print(summary, report);
        return 0;
    }

    private SceneReader.Inputs inputs() {
        if (input.dir != null) {
            if (parts != null || captions != null) {
                throw new UsageException("--parts and --captions go with --instances; with --annotations DIR they "
                        + "are DIR/parts.json and DIR/captions.json");
            }
            if (!Files.isRegularFile(input.dir.resolve("instances.json"))) {
                throw new UsageException("no instances.json in " + input.dir);
            }
            requireDir(images, "--images");
            return SceneReader.Inputs.directory(input.dir, images);
        }
        requireFile(input.instances, "--instances");
        requireFile(parts, "--parts");
        requireFile(captions, "--captions");
        requireDir(images, "--images");
        return new SceneReader.Inputs(input.instances, parts, captions, images);
    }

    private static void requireFile(Path p, String option) {
        if (p != null && !Files.isRegularFile(p)) {
            throw new UsageException(option + ": no such file: " + p);
        }
    }

    private static void requireDir(Path p, String option) {
        if (p != null && !Files.isDirectory(p)) {
            throw new UsageException(option + ": no such folder: " + p);
        }
    }

    private LlmGenerator.Options llmOptions() {
        if (concurrency < 1 || maxAttempts < 1 || maxInvalid < 0 || timeoutSeconds <= 0 || backoffSeconds < 0) {
            throw new UsageException("--concurrency and --max-attempts must be at least 1, --timeout positive, "
                    + "--max-invalid and --backoff not negative");
        }
        String key = System.getenv(keyEnv);   // never printed
        ChatClient.Settings chat;
        try {
            chat = new ChatClient.Settings(ChatClient.Settings.endpoint(llmUrl), llmModel, key,
                    Duration.ofMillis((long) (timeoutSeconds * 1000)), maxAttempts,
                    Duration.ofMillis((long) (backoffSeconds * 1000)), Duration.ofSeconds(60), temperature);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--llm: not a URL: " + llmUrl);
        }
        if (!chat.endpoint().isAbsolute() || !chat.endpoint().getScheme().startsWith("http")) {
            throw new UsageException("--llm: expected an http(s) URL, got " + llmUrl);
        }
        return new LlmGenerator.Options(chat, concurrency, maxInvalid, priceIn, priceOut,
                noProgress ? null : System.err);
    }

    private void print(InstructSummary s, ReadReport report) throws IOException {
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            o.put("out", out.toString());
            o.put("images", s.images());
            o.put("regions", s.regions());
            ObjectNode files = o.putObject("records");
            for (Subset subset : Subset.values()) {
                files.put(subset.fileName(), s.records().getOrDefault(subset, 0L));
            }
            o.put("mode", llmUrl == null ? "templates" : "llm");
            if (llmUrl != null) {
                o.put("tasks_done", s.tasksDone()).put("tasks_resumed", s.tasksResumed())
                        .put("tasks_skipped", s.tasksSkipped()).put("requests", s.requests())
                        .put("retries", s.retries()).put("invalid_replies", s.invalidReplies())
                        .put("prompt_tokens", s.promptTokens()).put("completion_tokens", s.completionTokens())
                        .put("cost", s.cost());
            }
            o.put("annotations_skipped", report.skipped());
            System.out.println(m.writeValueAsString(o));
            return;
        }
        StringBuilder b = new StringBuilder();
        b.append(s.images()).append(" images, ").append(s.regions()).append(" regions -> ").append(out).append('\n');
        for (Subset subset : Subset.values()) {
            b.append(String.format(Locale.ROOT, "  %-38s %d records%n", subset.fileName(),
                    s.records().getOrDefault(subset, 0L)));
        }
        if (llmUrl != null) {
            b.append(String.format(Locale.ROOT, "  tasks: %d done, %d resumed, %d skipped; %d requests, %d retries, "
                            + "%d invalid replies; tokens %d in / %d out; cost %.4f%n", s.tasksDone(),
                    s.tasksResumed(), s.tasksSkipped(), s.requests(), s.retries(), s.invalidReplies(),
                    s.promptTokens(), s.completionTokens(), s.cost()));
        }
        if (report.skipped() > 0) {
            b.append("  ").append(report.skipped()).append(" malformed annotations skipped\n");
        }
        System.out.print(b);
    }
}
