package osprey4j.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Ferret-Bench's judge-side code run on hand-made inputs ({@code make_review_fixtures.py}). */
class GptReviewTest {
    static JsonNode fixture() throws IOException {
        try (InputStream in = GptReviewTest.class.getResourceAsStream("/fixtures/eval/gpt_review.json")) {
            return JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build().readTree(in);
        }
    }

    @Test
    void judgeMessageIsTheReferencesCharacterForCharacter() throws IOException {
        JsonNode f = fixture();
        JsonNode in = f.get("content_inputs");
        assertEquals(f.get("content").asText(), GptReview.content(in.get("inst").get("text").asText(),
                in.get("ques").get("text").asText(), in.get("role").asText(), in.get("ans1").get("text").asText(),
                in.get("ans2").get("text").asText(), in.get("prompt").asText()));
    }

    @Test
    void answerPostProcessingAndScoreParsingMatch() throws IOException {
        JsonNode f = fixture();
        for (JsonNode p : f.get("postprocess")) {
            assertEquals(p.get("processed").asText(), GptReview.postprocessAnswer(p.get("answer").asText(),
                    p.get("category").asText()), p.get("answer").asText());
        }
        for (JsonNode p : f.get("parse")) {
            double[] want = {p.get("tuple").get(0).asDouble(), p.get("tuple").get(1).asDouble()};
            assertArrayEquals(want, GptReview.parseScore(p.get("review").asText()), 0, p.get("review").asText());
        }
    }

    @Test
    void ospreysDescriptionJudgeMatchesToo() throws IOException {
        JsonNode o = fixture().get("osprey");
        JsonNode in = o.get("content_inputs");
        assertEquals(o.get("content").asText(), GptReview.content(in.get("inst").get("prompt").asText(),
                in.get("ques").get("text").asText(), in.get("role").asText(), in.get("ans1").get("text").asText(),
                in.get("ans2").get("text").asText(), in.get("prompt").asText()));
        JsonNode reviews = fixture().get("parse");
        for (int i = 0; i < reviews.size(); i++) {
            JsonNode t = o.get("parse").get(i);
            assertArrayEquals(new double[] {t.get(0).asDouble(), t.get(1).asDouble()},
                    GptReview.parseScore(reviews.get(i).get("review").asText()), 0);
        }
        for (JsonNode s : o.get("summaries")) {
            List<double[]> tuples = new ArrayList<>();
            s.get("tuples").forEach(t -> tuples.add(new double[] {t.get(0).asDouble(), t.get(1).asDouble()}));
            assertEquals(s.get("score").asDouble(), GptReview.relativeScore(tuples, 2), 0, s.get("tuples").toString());
        }
    }

    @Test
    void relativeScoresMatchTheSummary() throws IOException {
        for (JsonNode s : fixture().get("summaries")) {
            List<double[]> tuples = new ArrayList<>();
            s.get("tuples").forEach(t -> tuples.add(new double[] {t.get(0).asDouble(), t.get(1).asDouble()}));
            assertEquals(s.get("score").asDouble(), GptReview.relativeScore(tuples, 1), 0, s.get("tuples").toString());
        }
    }
}
