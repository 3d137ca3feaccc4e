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
import java.util.Iterator;
import java.util.LinkedHashMap;
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
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import osprey4j.core.prompt.Preambles;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.data.datasets.Turn;
import osprey4j.data.instruct.ChatClient;
import osprey4j.data.samples.Prompts;
import osprey4j.data.samples.TrainingSample;
import osprey4j.eval.metrics.CategoryAnswers;
import osprey4j.eval.metrics.GptReview;
import osprey4j.eval.metrics.PythonText;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.RegionAsker;
import osprey4j.eval.runner.SamplesFile;

/**
 * Ferret-Bench referring description and reasoning (the paper's Table 5), in two resumable steps.
 *
 * <p><b>Answers</b> ({@code samples.jsonl}), as {@code ferret_bench_eval.py} asks them: the questions of Osprey's
 * {@code box_refer_caption.json} / {@code box_refer_reason.json} (Ferret's boxes as polygons), {@code <region>}
 * replaced by {@code <mask><pos>} after the preamble {@code "<image>.\nThis provides an overview of the picture.\n"}
 * and the image token moved to the front as {@code preprocess_multimodal} does (so the model reads
 * {@code "<image>\n.\nThis provides..."}), the mask rasterised at the image's size, the answer stripped and cut at
 * {@code </s>}.
 *
 * <p><b>Reviews</b> ({@code reviews.jsonl}), as Ferret's {@code eval_gpt_review_3newclass.py} makes them: per
 * question of Ferret's {@code question.jsonl} (matched by {@code question_id}), the judge model gets the context
 * ({@code context.jsonl}), the question with its box, GPT-4's answer ({@code answer.jsonl}) as assistant 1 and ours
 * as assistant 2 ({@link GptReview}), with the rule of the question's category from {@code rule.json}. Requests run
 * a few at a time; each review is appended as it arrives; a rerun asks only for the missing ones. The figure per
 * category is Ferret's relative score ({@link GptReview#relativeScore}).
 */
public final class FerretBenchmark {
    public static final String REVIEWS = "reviews.jsonl";
    private static final Map<String, Double> PAPER = Map.of("refer_desc", 72.2, "refer_reason", 67.8);

    /**
     * The judge.
     *
     * @param ferretData  Ferret's folder for the split ({@code ferret/eval/ferret_gpt4_data/refer_caption} or
     *                    {@code refer_reason}): {@code question.jsonl}, {@code context.jsonl}, {@code answer.jsonl}
     * @param rule        Ferret's {@code rule.json}
     * @param client      an OpenAI-compatible client (temperature 0.2 as the reference)
     * @param concurrency requests in flight
     * @param priceIn     cost per million prompt tokens (0: not counted)
     * @param priceOut    cost per million completion tokens
     */
    public record Judge(Path ferretData, Path rule, ChatClient client, String model, int concurrency, double priceIn,
                        double priceOut) {
        public Judge {
            Objects.requireNonNull(ferretData, "ferretData");
            Objects.requireNonNull(rule, "rule");
            Objects.requireNonNull(client, "client");
            if (concurrency < 1) {
                throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
            }
        }
    }

    private FerretBenchmark() {
    }

    /** The questions of Osprey's Ferret-Bench file, one sample each, in file order. */
    public static List<TrainingSample> samples(Path file, Path images) throws IOException {
        JsonNode root = Reports.JSON.readTree(file.toFile());
        if (root == null || !root.isArray()) {
            throw new IllegalArgumentException(file + ": expected a JSON array of questions (Osprey's "
                    + "box_refer_caption.json or box_refer_reason.json)");
        }
        List<TrainingSample> out = new ArrayList<>();
        int i = 0;
        for (JsonNode q : root) {
            String where = file + ": question " + i++;
            JsonNode id = q.path("question_id");
            JsonNode seg = q.path("annotation").path("segmentation");
            if (!id.isIntegralNumber() && !id.isTextual() || !q.path("image").isTextual() || !q.path("text").isTextual()
                    || seg.isMissingNode()) {
                throw new IllegalArgumentException(where + ": needs question_id, image, text and "
                        + "annotation.segmentation");
            }
            Segmentation s;
            try {
                s = SegmentationJson.read(seg);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + ": unreadable segmentation: " + e.getMessage(), e);
            }
            Path image = images.resolve(q.get("image").asText());
            int[] size = imageSize(image);
            String question = Prompts.moveImageToFront(Preambles.REFCOCOG_EVAL
                    + q.get("text").asText().replace("<region>", "<mask><pos>"));
            out.add(new TrainingSample("ferret:" + id.asText(), "ferret", image.toString(), size[0], size[1],
                    List.of(s), List.of(Turn.human(question))));
        }
        return out;
    }

    /** Width and height from the file's header (0, 0 when it cannot be read: the runner then names the file). */
    static int[] imageSize(Path image) {
        if (!Files.isRegularFile(image)) {
            return new int[] {0, 0};
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(image.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                return new int[] {0, 0};
            }
            ImageReader r = readers.next();
            try {
                r.setInput(in);
                return new int[] {r.getWidth(0), r.getHeight(0)};
            } finally {
                r.dispose();
            }
        } catch (IOException e) {
            return new int[] {0, 0};
        }
    }

    /** The reference's clean-up: stripped, a trailing {@code </s>} removed, stripped again. */
    public static EvalRun.Scorer scorer() {
        return (sample, answer, r) -> {
            String s = PythonText.strip(answer);
            if (s.endsWith(CategoryAnswers.STOP)) {
                s = s.substring(0, s.length() - CategoryAnswers.STOP.length());
            }
            r.put("text", PythonText.strip(s));
        };
    }

    public static EvalRun.Result answer(Path file, Path images, EvalRun.Options options, RegionAsker asker)
            throws IOException {
        List<TrainingSample> all = samples(file, images);
        List<TrainingSample> selected = EvalRun.select(all.iterator(), options.shard(), options.limit());
        ObjectNode info = Reports.JSON.createObjectNode();
        info.put("data", file.toAbsolutePath().normalize().toString());
        return EvalRun.run(selected, options, asker, scorer(), info);
    }

    /** One judged question, as in reviews.jsonl. */
    record Review(JsonNode json) {
        String category() {
            return json.path("category").asText();
        }

        double[] tuple() {
            return new double[] {json.path("tuple").path(0).asDouble(), json.path("tuple").path(1).asDouble()};
        }
    }

    /**
     * Asks the judge about every answered question not yet in reviews.jsonl.
     *
     * @throws IOException naming the question when the judge fails (every review received so far is kept)
     */
    public static List<JsonNode> judge(EvalRun.Result answers, Judge judge, Path out, Consumer<String> progress)
            throws IOException, InterruptedException {
        Map<String, JsonNode> ours = new LinkedHashMap<>();
        for (JsonNode r : answers.records()) {
            ours.put(r.path("id").asText().substring("ferret:".length()), r);
        }
        List<JsonNode> questions = jsonl(judge.ferretData().resolve("question.jsonl"));
        Map<String, JsonNode> contexts = new LinkedHashMap<>();
        for (JsonNode c : jsonl(judge.ferretData().resolve("context.jsonl"))) {
            contexts.put(c.path("image").asText(), c);
        }
        Map<String, JsonNode> gpt4 = new LinkedHashMap<>();
        for (JsonNode a : jsonl(judge.ferretData().resolve("answer.jsonl"))) {
            gpt4.put(a.path("question_id").asText(), a);
        }
        if (!Files.isRegularFile(judge.rule())) {
            throw new IllegalArgumentException("judge rule file not found: " + judge.rule() + " (Ferret's rule.json)");
        }
        JsonNode rules = Reports.JSON.readTree(judge.rule().toFile());

        Path reviewsFile = out.resolve(REVIEWS);
        Map<String, JsonNode> done = SamplesFile.read(reviewsFile);
        List<ObjectNode> todo = new ArrayList<>();
        List<String> order = new ArrayList<>();
        for (JsonNode q : questions) {
            String qid = q.path("question_id").asText();
            JsonNode mine = ours.get(qid);
            if (mine == null) {
                continue; // not answered in this selection
            }
            String id = "ferret:" + qid;
            order.add(id);
            if (done.containsKey(id)) {
                continue;
            }
            String image = q.path("image").asText();
            if (!Path.of(mine.path("image").asText()).getFileName().toString().equals(image)) {
                throw new IllegalArgumentException("question " + qid + " is about " + image + " in "
                        + judge.ferretData().resolve("question.jsonl") + " but about " + mine.path("image").asText()
                        + " in the answered file: the two files are not the same split");
            }
            JsonNode context = contexts.get(image);
            JsonNode reference = gpt4.get(qid);
            String category = q.path("category").asText();
            JsonNode rule = rules.path(category);
            if (context == null || reference == null || rule.isMissingNode()) {
                throw new IllegalArgumentException("question " + qid + ": " + (context == null ? "no context for "
                        + image : reference == null ? "no GPT-4 answer" : "no rule for category " + category)
                        + " in " + judge.ferretData());
            }
            String ans2 = GptReview.postprocessAnswer(mine.path("text").asText(), category);
            String content = GptReview.content(context.path("text").asText(), q.path("text").asText(),
                    rule.path("role").asText(), reference.path("text").asText(), ans2, rule.path("prompt").asText());
            ObjectNode r = Reports.JSON.createObjectNode();
            r.put("id", id);
            r.put("question_id", q.path("question_id").asInt());
            r.put("category", category);
            r.put("answer1", reference.path("text").asText());
            r.put("answer2", ans2);
            r.put("content", content);
            todo.add(r);
        }
        if (!todo.isEmpty()) {
            AtomicInteger reviewed = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(judge.concurrency());
            try (SamplesFile w = SamplesFile.append(reviewsFile)) {
                List<Future<ObjectNode>> futures = new ArrayList<>();
                for (ObjectNode r : todo) {
                    futures.add(pool.submit(() -> {
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
        for (String id : order) {
            JsonNode r = done.get(id);
            if (r == null) {
                r = SamplesFile.read(reviewsFile).get(id);
            }
            reviews.add(r);
        }
        return reviews;
    }

    private static List<JsonNode> jsonl(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("judge data file not found: " + file + " (Ferret's "
                    + "ferret/eval/ferret_gpt4_data/<split>/" + file.getFileName() + ")");
        }
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

    /** Writes summary.json and report.md; {@code reviews} is null when no judge was given. */
    public static ObjectNode report(EvalRun.Result r, List<JsonNode> reviews, Judge judge, Path data, Path out)
            throws IOException {
        ObjectNode s = Reports.summaryHead(r, data, null);
        StringBuilder b = new StringBuilder(Reports.header("Ferret-Bench", r, data, null));
        if (reviews == null) {
            s.putNull("scores");
            b.append("Answers only: not judged (give --judge URL and --judge-model NAME, with --judge-data pointing "
                    + "at Ferret's ferret_gpt4_data split folder). The paper's figures: referring description 72.2, "
                    + "referring reasoning 67.8 (Osprey-7B*, judged by GPT-4).\n");
        } else {
            Map<String, List<double[]>> byCategory = new TreeMap<>();
            long promptTokens = 0;
            long completionTokens = 0;
            int failed = 0;
            for (JsonNode n : reviews) {
                Review v = new Review(n);
                byCategory.computeIfAbsent(v.category(), k -> new ArrayList<>()).add(v.tuple());
                byCategory.computeIfAbsent("all", k -> new ArrayList<>()).add(v.tuple());
                promptTokens += n.path("prompt_tokens").asLong();
                completionTokens += n.path("completion_tokens").asLong();
                if (v.tuple()[0] == -1 && v.tuple()[1] == -1) {
                    failed++;
                }
            }
            ObjectNode scores = s.putObject("scores");
            b.append("| category | reviews | osprey4j | paper (Osprey-7B*) |\n|---|---:|---:|---:|\n");
            for (Map.Entry<String, List<double[]>> e : byCategory.entrySet()) {
                double score = GptReview.relativeScore(e.getValue(), 1);
                scores.put(e.getKey(), score);
                Double paper = PAPER.get(e.getKey());
                b.append("| ").append(e.getKey()).append(" | ").append(e.getValue().size()).append(" | ")
                        .append(String.format(Locale.ROOT, "%.1f", score)).append(" | ")
                        .append(paper == null ? "-" : String.format(Locale.ROOT, "%.1f", paper)).append(" |\n");
            }
            List<String> cats = new ArrayList<>(byCategory.keySet());
            b.append('\n').append(Figures.chart(out, "chart.png", List.of(new Figures.Bars(
                    "Ferret-Bench relative score", "score", List.of("osprey4j", "paper"), cats, List.of(
                            cats.stream().map(k -> (Number) GptReview.relativeScore(byCategory.get(k), 1)).toList(),
                            cats.stream().map(k -> (Number) PAPER.getOrDefault(k, 0.0)).toList())))));
            double cost = (promptTokens * judge.priceIn() + completionTokens * judge.priceOut()) / 1e6;
            s.put("judge_model", judge.model());
            s.put("unparsed_reviews", failed);
            s.put("prompt_tokens", promptTokens);
            s.put("completion_tokens", completionTokens);
            s.put("cost", cost);
            b.append("\nScore: the mean of our answers' scores over the mean of GPT-4's, in percent, as Ferret's "
                    + "summarize_gpt_review.py computes it; reviews whose first line is not two numbers count as "
                    + "-1/-1 there and here (").append(failed).append(" of them). Judge: `").append(judge.model())
                    .append("` (the paper's was GPT-4). ").append(promptTokens).append(" prompt and ")
                    .append(completionTokens).append(" completion tokens");
            if (cost > 0) {
                b.append(String.format(Locale.ROOT, ", cost %.4f", cost));
            }
            b.append(".\n");
        }
        b.append("\nAnswers are in `samples.jsonl`, reviews in `" + REVIEWS + "`.\n");
        String md = b.toString();
        Reports.write(out, s, md);
        return s;
    }
}
