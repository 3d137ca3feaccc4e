package osprey4j.eval.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import osprey4j.data.samples.TrainingSample;
import osprey4j.eval.metrics.CategoryAnswers;
import osprey4j.eval.metrics.GptReview;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.RegionAsker;

/**
 * Detailed region description (the paper's Table 4) on Osprey's {@code osprey/eval/description} files: the 80
 * questions of {@code questions.json} asked as {@code osprey_generate_gpt_description_answer.py} asks them (the
 * Ferret-Bench way, but the answer is cut after a {@code :} like the LVIS one: {@link CategoryAnswers#afterLabel}),
 * then judged as {@code eval_gpt.py} does: the context is {@code prompt.json}'s {@code prompt} for the image, the
 * reference answer the one at the same position in {@code answers.json}, the rule {@code rule.json}'s; the figure
 * is {@code summarize_gpt_score.py}'s relative score (2 decimals).
 */
public final class DescriptionBenchmark {
    private static final Map<String, Double> PAPER = Map.of("description", 77.54, "all", 77.54);

    private DescriptionBenchmark() {
    }

    public static EvalRun.Scorer scorer() {
        return (sample, answer, r) -> r.put("text", CategoryAnswers.afterLabel(answer));
    }

    public static EvalRun.Result answer(Path file, Path images, EvalRun.Options options, RegionAsker asker)
            throws IOException {
        List<TrainingSample> all = FerretBenchmark.regionQuestions(file, images, "description");
        List<TrainingSample> selected = EvalRun.select(all.iterator(), options.shard(), options.limit());
        ObjectNode info = Reports.JSON.createObjectNode();
        info.put("data", file.toAbsolutePath().normalize().toString());
        return EvalRun.run(selected, options, asker, scorer(), info);
    }

    /**
     * Judges the answered questions.
     *
     * @param questions the benchmark's questions.json (the judge sees its text, {@code <region>} and all)
     */
    public static List<JsonNode> judge(EvalRun.Result answers, Path questions, GptJudge.Judge judge, Path out,
                                       Consumer<String> progress) throws IOException, InterruptedException {
        Map<String, JsonNode> ours = new LinkedHashMap<>();
        for (JsonNode r : answers.records()) {
            ours.put(r.path("id").asText().substring("description:".length()), r);
        }
        List<JsonNode> qs = GptJudge.array(questions);
        List<JsonNode> gpt4 = GptJudge.array(judge.data().resolve("answers.json"));
        Map<String, JsonNode> contexts = new LinkedHashMap<>();
        for (JsonNode c : GptJudge.array(judge.data().resolve("prompt.json"))) {
            contexts.put(c.path("image").asText(), c); // a later entry for an image wins, as in the reference's dict
        }
        JsonNode rules = GptJudge.rules(judge.rule());
        List<ObjectNode> items = new ArrayList<>();
        for (int i = 0; i < qs.size(); i++) {
            JsonNode q = qs.get(i);
            String qid = q.path("question_id").asText();
            JsonNode mine = ours.get(qid);
            if (mine == null) {
                continue;
            }
            if (i >= gpt4.size() || !gpt4.get(i).path("question_id").asText().equals(qid)) {
                throw new IllegalArgumentException(judge.data().resolve("answers.json") + ": entry " + i
                        + " is not the answer to question " + qid + " (the reference pairs them by position)");
            }
            String category = q.path("category").asText();
            JsonNode rule = rules.path(category);
            JsonNode context = contexts.get(q.path("image").asText());
            if (context == null || rule.isMissingNode()) {
                throw new IllegalArgumentException("question " + qid + ": " + (context == null ? "no context for "
                        + q.path("image").asText() + " in prompt.json" : "no rule for category " + category));
            }
            String ans1 = gpt4.get(i).path("text").asText();
            String ans2 = mine.path("text").asText();
            items.add(GptJudge.item("description:" + qid, q.path("question_id").asInt(), category, ans1, ans2,
                    GptReview.content(context.path("prompt").asText(), q.path("text").asText(),
                            rule.path("role").asText(), ans1, ans2, rule.path("prompt").asText())));
        }
        return GptJudge.run(items, judge, out, progress);
    }

    public static ObjectNode report(EvalRun.Result r, List<JsonNode> reviews, GptJudge.Judge judge, Path data,
                                    Path out) throws IOException {
        ObjectNode s = Reports.summaryHead(r, data, null);
        StringBuilder b = new StringBuilder(Reports.header("Detailed region description", r, data, null));
        if (reviews == null) {
            s.putNull("scores");
            b.append("Answers only: not judged (give --judge URL and --judge-model NAME; --judge-data defaults to "
                    + "the folder of questions.json, with answers.json and prompt.json). The paper's figure: 77.54 "
                    + "(Osprey-7B; 83.78 for Osprey-7B*), judged by GPT-4.\n");
        } else {
            GptJudge.summarise(reviews, judge, 2, PAPER, "Osprey-7B", s, b, out);
        }
        b.append("\nAnswers are in `samples.jsonl`, reviews in `" + GptJudge.REVIEWS + "`.\n");
        String md = b.toString();
        Reports.write(out, s, md);
        return s;
    }
}
