package osprey4j.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Captioning metrics against pycocoevalcap run on hand-made captions ({@code make_caption_fixtures.py}): the
 * reference's RefCOCOg clean-up, the PTB tokenisation (CoreNLP 3.4.1 on both sides), BLEU-1..4, ROUGE-L, CIDEr-D.
 */
class CaptionMetricsTest {
    @Test
    void cleanUpTokenisationAndScoresMatchPycocoevalcap() throws IOException {
        JsonNode f = ReferenceMetricsTest.fixture("caption_metrics.json");
        Map<String, List<String>> candidates = new LinkedHashMap<>();
        Map<String, List<String>> references = new LinkedHashMap<>();
        for (JsonNode s : f.get("samples")) {
            String cleaned = CategoryAnswers.caption(s.get("answer").asText());
            assertEquals(s.get("cleaned").asText(), cleaned, "clean-up of " + s.get("answer"));
            candidates.put(s.get("id").asText(), List.of(cleaned));
            List<String> refs = new ArrayList<>();
            s.get("references").forEach(r -> refs.add(r.asText()));
            references.put(s.get("id").asText(), refs);
        }
        Map<String, List<String>> res = PtbTokenizer.tokenize(candidates);
        Map<String, List<String>> gts = PtbTokenizer.tokenize(references);
        Map<String, String> res1 = new LinkedHashMap<>();
        int i = 0;
        double[] rouge = null;
        for (JsonNode s : f.get("samples")) {
            String id = s.get("id").asText();
            assertEquals(s.get("tokenized_candidate").asText(), res.get(id).getFirst(), "tokens of " + id);
            List<String> wantRefs = new ArrayList<>();
            s.get("tokenized_references").forEach(r -> wantRefs.add(r.asText()));
            assertEquals(wantRefs, gts.get(id), "reference tokens of " + id);
            res1.put(id, res.get(id).getFirst());
        }
        double[] bleu = CaptionScores.bleu(gts, res1);
        double[] want = new double[4];
        for (int k = 0; k < 4; k++) {
            want[k] = f.get("bleu").get(k).asDouble();
        }
        assertArrayEquals(want, bleu, 1e-12);
        rouge = CaptionScores.rougeL(gts, res1);
        double[] cider = CaptionScores.ciderD(gts, res1);
        for (JsonNode s : f.get("samples")) {
            assertEquals(s.get("rouge_l").asDouble(), rouge[i], 1e-12, "ROUGE-L of " + s.get("id"));
            assertEquals(s.get("cider_d").asDouble(), cider[i], 1e-12, "CIDEr-D of " + s.get("id"));
            i++;
        }
        assertEquals(f.get("rouge_l").asDouble(), CaptionScores.mean(rouge), 1e-12);
        assertEquals(f.get("cider_d").asDouble(), CaptionScores.mean(cider), 1e-12);
    }
}
