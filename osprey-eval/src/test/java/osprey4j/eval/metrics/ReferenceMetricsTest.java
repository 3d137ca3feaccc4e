package osprey4j.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * The LVIS/PACO and POPE scoring against the reference's own code run on hand-made answers
 * ({@code tools/fixtures/eval/make_metric_fixtures.py}; see the fixture folder's README).
 */
class ReferenceMetricsTest {
    static JsonNode fixture(String name) throws IOException {
        try (InputStream in = ReferenceMetricsTest.class.getResourceAsStream("/fixtures/eval/" + name)) {
            return new ObjectMapper().readTree(in);
        }
    }

    @Test
    void categoryCleanUpAndSemanticIouMatchTheReference() throws IOException {
        JsonNode samples = fixture("category_metrics.json").get("samples");
        assertEquals(24, samples.size());
        for (JsonNode s : samples) {
            String answer = s.get("answer").asText();
            String label = answer.length() > 40 ? answer.substring(0, 40) + "..." : answer;
            String cleaned = CategoryAnswers.clean(answer);
            String spelled = CategoryAnswers.spell(s.get("category").asText());
            assertEquals(s.get("cleaned").asText(), cleaned, "clean-up of '" + label + "'");
            assertEquals(s.get("spelled").asText(), spelled, "category " + s.get("category"));
            assertEquals(s.get("semantic_iou").asDouble(), CategoryAnswers.semanticIou(cleaned, spelled), 1e-15,
                    "S-IoU of '" + label + "'");
        }
    }

    @Test
    void semanticSimilarityMatchesTheReferenceTo1e5() throws IOException {
        SentenceEncoder encoder = SentenceEncoder.get();
        double worst = 0;
        for (JsonNode s : fixture("category_metrics.json").get("samples")) {
            double ss = CategoryAnswers.semanticSimilarity(encoder, CategoryAnswers.clean(s.get("answer").asText()),
                    CategoryAnswers.spell(s.get("category").asText()));
            assertEquals(s.get("semantic_similarity").asDouble(), ss, 1e-5, "SS of '" + s.get("cleaned") + "'");
            worst = Math.max(worst, Math.abs(s.get("semantic_similarity").asDouble() - ss));
        }
        System.out.println("Semantic Similarity: largest |difference| to the reference's code: " + worst);
    }

    @Test
    void embeddingsEqualSentenceTransformersTo1e5() throws IOException {
        SentenceEncoder encoder = SentenceEncoder.get();
        double overall = 0;
        for (JsonNode e : fixture("category_metrics.json").get("embeddings")) {
            String text = e.get("text").asText();
            assertEquals(e.get("tokens").asInt(), encoder.tokenCount(text), "tokens of '" + text + "'");
            float[] v = encoder.embed(text);
            JsonNode want = e.get("vector");
            assertEquals(want.size(), v.length);
            double worst = 0;
            for (int i = 0; i < v.length; i++) {
                worst = Math.max(worst, Math.abs(want.get(i).asDouble() - v[i]));
            }
            assertEquals(0, worst, 1e-5, "largest difference for '" + text + "'");
            overall = Math.max(overall, worst);
        }
        System.out.println("all-MiniLM-L6-v2: largest |difference| to sentence-transformers over the fixture's "
                + "phrases: " + overall);
    }

    @Test
    void theDataEnginesEmbedderAgreesOnShortTexts() {
        // Same ONNX file through langchain4j's wrapper: equal wherever that wrapper takes the text (not blank, short).
        java.util.List<String> texts = java.util.List.of("dog", "baseball bat", "a red double-decker bus");
        float[][] theirs = osprey4j.data.instruct.MiniLmEmbedder.get().embed(texts);
        for (int t = 0; t < texts.size(); t++) {
            float[] ours = SentenceEncoder.get().embed(texts.get(t));
            for (int i = 0; i < ours.length; i++) {
                assertEquals(theirs[t][i], ours[i], 1e-6, texts.get(t) + " [" + i + "]");
            }
        }
    }

    @Test
    void popeDecisionsAndFiguresMatchTheReference() throws IOException {
        JsonNode f = fixture("pope.json");
        PopeAnswers.Counts c = new PopeAnswers.Counts(0, 0, 0, 0);
        for (JsonNode s : f.get("samples")) {
            boolean no = PopeAnswers.saysNo(s.get("answer").asText());
            assertEquals(s.get("decision").asText(), no ? "no" : "yes", "'" + s.get("answer").asText() + "'");
            c = c.add(!no, s.get("label").asText().equals("yes"));
        }
        assertEquals(new PopeAnswers.Counts(f.get("tp").asInt(), f.get("fp").asInt(), f.get("tn").asInt(),
                f.get("fn").asInt()), c);
        JsonNode fig = f.get("figures");
        assertEquals(fig.get("Accuracy").asDouble(), c.accuracy(), 1e-15);
        assertEquals(fig.get("Precision").asDouble(), c.precision(), 1e-15);
        assertEquals(fig.get("Recall").asDouble(), c.recall(), 1e-15);
        assertEquals(fig.get("F1 score").asDouble(), c.f1(), 1e-15);
        assertEquals(fig.get("Yes ratio").asDouble(), c.yesRatio(), 1e-15);
    }

    @Test
    void popeRatiosWithoutPositivesAreUndefinedNotZero() {
        PopeAnswers.Counts allNo = new PopeAnswers.Counts(0, 0, 3, 1);
        assertEquals(Double.NaN, allNo.precision());
        assertEquals(0.75, allNo.accuracy());
        assertEquals(0.0, allNo.yesRatio());
    }

    @Test
    void semanticIouOfTwoEmptyTextsIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> CategoryAnswers.semanticIou(" ", ""));
    }

    @Test
    void pythonSplitUsesPythonWhitespace() {
        assertEquals(java.util.List.of("a", "b", "c", "d"), PythonText.split(" a\u00a0b\u0085c\u202fd "));
        assertEquals(java.util.List.of("", " b", " c"), PythonText.split(": b: c", ":"));
    }
}
