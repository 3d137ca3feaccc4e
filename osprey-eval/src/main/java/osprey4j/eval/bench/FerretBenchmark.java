package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import osprey4j.core.prompt.Preambles;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.data.datasets.Turn;
import osprey4j.data.samples.Prompts;
import osprey4j.data.samples.TrainingSample;
import osprey4j.eval.metrics.CategoryAnswers;
import osprey4j.eval.metrics.GptReview;
import osprey4j.eval.metrics.PythonText;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.RegionAsker;

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
    private static final Map<String, Double> PAPER = Map.of("refer_desc", 72.2, "refer_reason", 67.8);

    private FerretBenchmark() {
    }

    /** The questions of Osprey's Ferret-Bench file, one sample each, in file order. */
    public static List<TrainingSample> samples(Path file, Path images) throws IOException {
        return regionQuestions(file, images, "ferret");
    }

    /**
     * Questions about one region each, in the layout Osprey's Ferret-Bench and description files share
     * ({@code question_id}, {@code image}, {@code text} with {@code <region>}, {@code annotation.segmentation}),
     * asked as both scripts ask them; sample ids are {@code dataset:question_id}.
     */
    static List<TrainingSample> regionQuestions(Path file, Path images, String dataset) throws IOException {
        JsonNode root = Reports.JSON.readTree(file.toFile());
        if (root == null || !root.isArray()) {
            throw new IllegalArgumentException(file + ": expected a JSON array of questions");
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
            out.add(new TrainingSample(dataset + ":" + id.asText(), dataset, image.toString(), size[0], size[1],
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
     * Asks the judge about every answered question not yet in reviews.jsonl ({@link GptJudge#run}).
     *
     * @throws IOException naming the question when the judge fails (every review received so far is kept)
     */
    public static List<JsonNode> judge(EvalRun.Result answers, GptJudge.Judge judge, Path out, Consumer<String> progress)
            throws IOException, InterruptedException {
        Map<String, JsonNode> ours = new LinkedHashMap<>();
        for (JsonNode r : answers.records()) {
            ours.put(r.path("id").asText().substring("ferret:".length()), r);
        }
        List<JsonNode> questions = GptJudge.jsonl(judge.data().resolve("question.jsonl"));
        Map<String, JsonNode> contexts = new LinkedHashMap<>();
        for (JsonNode c : GptJudge.jsonl(judge.data().resolve("context.jsonl"))) {
            contexts.put(c.path("image").asText(), c);
        }
        Map<String, JsonNode> gpt4 = new LinkedHashMap<>();
        for (JsonNode a : GptJudge.jsonl(judge.data().resolve("answer.jsonl"))) {
            gpt4.put(a.path("question_id").asText(), a);
        }
        JsonNode rules = GptJudge.rules(judge.rule());
        List<ObjectNode> items = new ArrayList<>();
        for (JsonNode q : questions) {
            String qid = q.path("question_id").asText();
            JsonNode mine = ours.get(qid);
            if (mine == null) {
                continue; // not answered in this selection
            }
            String image = q.path("image").asText();
            if (!Path.of(mine.path("image").asText()).getFileName().toString().equals(image)) {
                throw new IllegalArgumentException("question " + qid + " is about " + image + " in "
                        + judge.data().resolve("question.jsonl") + " but about " + mine.path("image").asText()
                        + " in the answered file: the two files are not the same split");
            }
            JsonNode context = contexts.get(image);
            JsonNode reference = gpt4.get(qid);
            String category = q.path("category").asText();
            JsonNode rule = rules.path(category);
            if (context == null || reference == null || rule.isMissingNode()) {
                throw new IllegalArgumentException("question " + qid + ": " + (context == null ? "no context for "
                        + image : reference == null ? "no GPT-4 answer" : "no rule for category " + category)
                        + " in " + judge.data());
            }
            String ans2 = GptReview.postprocessAnswer(mine.path("text").asText(), category);
            items.add(GptJudge.item("ferret:" + qid, q.path("question_id").asInt(), category,
                    reference.path("text").asText(), ans2, GptReview.content(context.path("text").asText(),
                            q.path("text").asText(), rule.path("role").asText(), reference.path("text").asText(), ans2,
                            rule.path("prompt").asText())));
        }
        return GptJudge.run(items, judge, out, progress);
    }

    /** Writes summary.json and report.md; {@code reviews} is null when no judge was given. */
    public static ObjectNode report(EvalRun.Result r, List<JsonNode> reviews, GptJudge.Judge judge, Path data,
                                    Path out) throws IOException {
        ObjectNode s = Reports.summaryHead(r, data, null);
        StringBuilder b = new StringBuilder(Reports.header("Ferret-Bench", r, data, null));
        if (reviews == null) {
            s.putNull("scores");
            b.append("Answers only: not judged (give --judge URL and --judge-model NAME, with --judge-data pointing "
                    + "at Ferret's ferret_gpt4_data split folder). The paper's figures: referring description 72.2, "
                    + "referring reasoning 67.8 (Osprey-7B*, judged by GPT-4).\n");
        } else {
            GptJudge.summarise(reviews, judge, 1, PAPER, "Osprey-7B*", s, b, out);
        }
        b.append("\nAnswers are in `samples.jsonl`, reviews in `" + GptJudge.REVIEWS + "`.\n");
        String md = b.toString();
        Reports.write(out, s, md);
        return s;
    }
}
