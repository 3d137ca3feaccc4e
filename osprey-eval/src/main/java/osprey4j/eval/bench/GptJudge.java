package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import osprey4j.data.instruct.ChatClient;
import osprey4j.eval.metrics.GptReview;
import osprey4j.eval.runner.SamplesFile;

/**
 * The GPT-judged benchmarks' second step (Ferret-Bench, detailed region description): send each prepared judge
 * message ({@link GptReview#content}) a few at a time, append each review to {@code reviews.jsonl} as it arrives
 * (a rerun sends only the missing ones), count tokens and cost, and summarise per category.
 */
public final class GptJudge {
    public static final String REVIEWS = "reviews.jsonl";

    /**
     * The judge.
     *
     * @param data        the benchmark's judge-side files (Ferret's split folder, or Osprey's description folder)
     * @param rule        the benchmark's {@code rule.json}
     * @param client      an OpenAI-compatible client (temperature 0.2 as the reference)
     * @param concurrency requests in flight
     * @param priceIn     cost per million prompt tokens (0: not counted)
     * @param priceOut    cost per million completion tokens
     */
    public record Judge(Path data, Path rule, ChatClient client, String model, int concurrency, double priceIn,
                        double priceOut) {
        public Judge {
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(rule, "rule");
            Objects.requireNonNull(client, "client");
            if (concurrency < 1) {
                throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
            }
        }
    }

    private GptJudge() {
    }

    /** One question to judge; {@code content} is the whole user message. */
    static ObjectNode item(String id, int questionId, String category, String answer1, String answer2,
                           String content) {
        ObjectNode r = Reports.JSON.createObjectNode();
        r.put("id", id);
        r.put("question_id", questionId);
        r.put("category", category);
        r.put("answer1", answer1);
        r.put("answer2", answer2);
        r.put("content", content);
        return r;
    }

    /**
     * Judges the items not yet in {@code out/reviews.jsonl} and returns every item's review, in item order.
     *
     * @throws IOException naming the question when the judge fails; the reviews received are kept
     */
    static List<JsonNode> run(List<ObjectNode> items, Judge judge, Path out, Consumer<String> progress)
            throws IOException, InterruptedException {
        Path reviewsFile = out.resolve(REVIEWS);
        Map<String, JsonNode> done = SamplesFile.read(reviewsFile);
        List<ObjectNode> todo = items.stream().filter(i -> !done.containsKey(i.get("id").asText())).toList();
        if (!todo.isEmpty()) {
            AtomicInteger reviewed = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(judge.concurrency());
            try (SamplesFile w = SamplesFile.append(reviewsFile)) {
                List<Future<ObjectNode>> futures = new ArrayList<>();
                for (ObjectNode item : todo) {
                    futures.add(pool.submit(() -> {
                        ObjectNode r = item.deepCopy();
                        ChatClient.Reply reply = judge.client().complete(List.of(
                                new ChatClient.Message("system", GptReview.SYSTEM),
                                new ChatClient.Message("user", r.get("content").asText())), GptReview.MAX_TOKENS);
                        double[] t = GptReview.parseScore(reply.content());
                        r.put("review", reply.content());
                        ArrayNode tuple = r.putArray("tuple");
                        tuple.add(t[0]);
                        tuple.add(t[1]);
                        r.put("prompt_tokens", reply.promptTokens());
                        r.put("completion_tokens", reply.completionTokens());
                        synchronized (w) {
                            w.write(r);
                        }
                        progress.accept(reviewed.incrementAndGet() + "/" + todo.size() + " reviews");
                        return r;
                    }));
                }
                for (int i = 0; i < futures.size(); i++) {
                    try {
                        ObjectNode r = futures.get(i).get();
                        done.put(r.get("id").asText(), r);
                    } catch (ExecutionException e) {
                        pool.shutdownNow();
                        Throwable c = e.getCause();
                        throw new IOException("the judge failed on question " + todo.get(i).get("question_id")
                                + ": " + c.getMessage() + "; the reviews received are kept in " + reviewsFile
                                + ", rerun to continue", c);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
        List<JsonNode> reviews = new ArrayList<>();
        for (ObjectNode item : items) {
            reviews.add(done.get(item.get("id").asText()));
        }
        return reviews;
    }

    /** A JSON-lines file of the judge's data. */
    static List<JsonNode> jsonl(Path file) throws IOException {
        requireFile(file);
        List<JsonNode> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.isBlank()) {
                    out.add(Reports.JSON.readTree(line));
                }
            }
        }
        return out;
    }

    /** A JSON array file of the judge's data. */
    static List<JsonNode> array(Path file) throws IOException {
        requireFile(file);
        JsonNode root = Reports.JSON.readTree(file.toFile());
        if (root == null || !root.isArray()) {
            throw new IllegalArgumentException(file + ": expected a JSON array");
        }
        List<JsonNode> out = new ArrayList<>();
        root.forEach(out::add);
        return out;
    }

    static JsonNode rules(Path rule) throws IOException {
        if (!Files.isRegularFile(rule)) {
            throw new IllegalArgumentException("judge rule file not found: " + rule);
        }
        return Reports.JSON.readTree(rule.toFile());
    }

    private static void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("judge data file not found: " + file);
        }
    }

    /**
     * Adds the per-category relative scores (rounded to {@code decimals}), token counts and cost to the summary and
     * a table with the paper's figures to the Markdown; draws the chart.
     */
    static void summarise(List<JsonNode> reviews, Judge judge, int decimals, Map<String, Double> paper,
                          String paperModel, ObjectNode s, StringBuilder b, Path out) {
        Map<String, List<double[]>> byCategory = new TreeMap<>();
        long promptTokens = 0;
        long completionTokens = 0;
        int failed = 0;
        for (JsonNode n : reviews) {
            double[] t = {n.path("tuple").path(0).asDouble(), n.path("tuple").path(1).asDouble()};
            byCategory.computeIfAbsent(n.path("category").asText(), k -> new ArrayList<>()).add(t);
            byCategory.computeIfAbsent("all", k -> new ArrayList<>()).add(t);
            promptTokens += n.path("prompt_tokens").asLong();
            completionTokens += n.path("completion_tokens").asLong();
            if (t[0] == -1 && t[1] == -1) {
                failed++;
            }
        }
        String f = "%." + decimals + "f";
        ObjectNode scores = s.putObject("scores");
        b.append("| category | reviews | osprey4j | paper (").append(paperModel).append(") |\n|---|---:|---:|---:|\n");
        List<String> cats = new ArrayList<>(byCategory.keySet());
        List<Number> ours = new ArrayList<>();
        List<Number> theirs = new ArrayList<>();
        for (String c : cats) {
            double score = GptReview.relativeScore(byCategory.get(c), decimals);
            scores.put(c, score);
            Double p = paper.get(c);
            ours.add(score);
            theirs.add(p == null ? 0 : p);
            b.append("| ").append(c).append(" | ").append(byCategory.get(c).size()).append(" | ")
                    .append(String.format(Locale.ROOT, f, score)).append(" | ")
                    .append(p == null ? "-" : String.format(Locale.ROOT, f, p)).append(" |\n");
        }
        double cost = (promptTokens * judge.priceIn() + completionTokens * judge.priceOut()) / 1e6;
        s.put("judge_model", judge.model());
        s.put("unparsed_reviews", failed);
        s.put("prompt_tokens", promptTokens);
        s.put("completion_tokens", completionTokens);
        s.put("cost", cost);
        b.append("\nScore: the mean of our answers' scores over the mean of GPT-4's, in percent, as the reference's "
                + "summary script computes it; reviews whose first line is not two numbers count as -1/-1 there and "
                + "here (").append(failed).append(" of them). Judge: `").append(judge.model())
                .append("` (the paper's was GPT-4). ").append(promptTokens).append(" prompt and ")
                .append(completionTokens).append(" completion tokens");
        if (cost > 0) {
            b.append(String.format(Locale.ROOT, ", cost %.4f", cost));
        }
        b.append(".\n\n");
        b.append(Figures.chart(out, "chart.png", List.of(new Figures.Bars("Relative score", "score",
                List.of("osprey4j", "paper"), cats, List.of(ours, theirs)))));
    }
}
