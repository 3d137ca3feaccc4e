package osprey4j.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * METEOR against METEOR 1.5 itself (cmu-mtlab/meteor built from source, driven as pycocoevalcap's meteor.py drives
 * meteor-1.5.jar; {@code make_meteor_fixtures.py}) on 201 candidate/reference sets: the statistics line of every
 * segment and every score printed as METEOR prints them, so equality is exact.
 */
class MeteorScorerTest {
    static Path dataDir() {
        try {
            return Path.of(MeteorScorerTest.class.getResource("/fixtures/eval/meteor-data").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void statisticsSegmentScoresAndAggregateEqualMeteors() throws IOException {
        JsonNode f = ReferenceMetricsTest.fixture("meteor.json");
        MeteorScorer scorer = new MeteorScorer(MeteorData.load(dataDir()));
        List<MeteorScorer.Stats> all = new ArrayList<>();
        for (JsonNode c : f.get("cases")) {
            List<String> refs = new ArrayList<>();
            c.get("references").forEach(r -> refs.add(r.asText()));
            MeteorScorer.Stats s = scorer.stats(c.get("candidate").asText(), refs);
            assertEquals(c.get("stats").asText(), s.line(), "statistics of " + c.get("candidate"));
            assertEquals(c.get("score").asText(), Double.toString(MeteorScorer.score(s)),
                    "score of " + c.get("candidate"));
            all.add(s);
        }
        assertEquals(201, all.size());
        assertEquals(f.get("aggregate").asText(), Double.toString(MeteorScorer.aggregate(all)));
        // The corpus score is not the mean of the segment scores.
        double mean = all.stream().mapToDouble(MeteorScorer::score).average().orElseThrow();
        assertNotEquals(mean, MeteorScorer.aggregate(all), 1e-3);
    }

    @Test
    void normalisationEqualsMeteors() throws IOException {
        MeteorScorer scorer = new MeteorScorer(MeteorData.load(dataDir()));
        for (JsonNode n : ReferenceMetricsTest.fixture("meteor.json").get("normalized")) {
            assertEquals(n.get("normalized").asText().toLowerCase(java.util.Locale.ROOT),
                    scorer.normalize(n.get("text").asText()), "normalisation of " + n.get("text"));
        }
    }

    @Test
    void readsTheDataOfAMeteorInstallFromItsJar(@TempDir Path dir) throws IOException {
        Path src = dataDir();
        try (OutputStream out = Files.newOutputStream(dir.resolve(MeteorData.JAR));
             ZipOutputStream zip = new ZipOutputStream(out)) {
            for (String name : List.of(MeteorData.FUNCTION_WORDS, MeteorData.PREFIXES, MeteorData.EXCEPTIONS,
                    MeteorData.SYNSETS)) {
                zip.putNextEntry(new ZipEntry(name));
                zip.write(Files.readAllBytes(src.resolve(name)));
                zip.closeEntry();
            }
        }
        Files.createDirectories(dir.resolve("data"));
        Files.copy(src.resolve(MeteorData.PARAPHRASES), dir.resolve(MeteorData.PARAPHRASES));
        MeteorScorer fromJar = new MeteorScorer(MeteorData.load(dir));
        MeteorScorer fromFolder = new MeteorScorer(MeteorData.load(src));
        List<String> refs = List.of("the guy on the left side of the big dogs.");
        assertEquals(fromFolder.stats("The man to the left of the large dog", refs).line(),
                fromJar.stats("The man to the left of the large dog", refs).line());
        // METEOR 1.5 on the same data: "guy" by paraphrase, "big" by synonym, "dogs" by stem.
        assertEquals("9.0 11.0 5.0 6.0 1.0 1.0 4.0 4.0 1.0 1.0 0.0 0.0 1.0 1.0 0.0 0.0 1.0 1.0 0.0 0.0 3.0 8.0 8.0",
                fromJar.stats("The man to the left of the large dog", refs).line());
        assertEquals(0.3230082286707264,
                MeteorScorer.score(fromJar.stats("The man to the left of the large dog", refs)));

        MeteorData.check(dir);
        Files.delete(dir.resolve(MeteorData.PARAPHRASES));
        assertThrows(IOException.class, () -> MeteorData.check(dir));
        IOException e = assertThrows(IOException.class, () -> MeteorData.load(dir));
        assertTrue(e.getMessage().contains("paraphrase"), e.getMessage());
        IOException missing = assertThrows(IOException.class, () -> MeteorData.load(dir.resolve("absent")));
        assertTrue(missing.getMessage().contains("absent"), missing.getMessage());
    }

    @Test
    void needsAReference() throws IOException {
        MeteorScorer scorer = new MeteorScorer(MeteorData.load(dataDir()));
        assertThrows(IllegalArgumentException.class, () -> scorer.stats("a dog", List.of()));
    }
}
