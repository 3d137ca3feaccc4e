package osprey4j.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.model.GenerationOptions;

/**
 * One loaded model asked from several threads at once gives, question for question, the answers it gives when
 * asked one question at a time (greedy decoding), and those are the reference's answers: what a call owns (its
 * image session, KV cache, scratch, warnings) stays its own, and the shared weights are only read.
 */
class OspreyServiceConcurrencyTest {
    static final GenerationOptions GREEDY = GenerationOptions.greedy(20);
    static OspreyService service;
    static final List<String> warnings = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void load() {
        service = OspreyService.load(ServiceFixtures.MODEL, warnings::add);
    }

    @AfterAll
    static void close() {
        if (service != null) {
            service.close();
        }
    }

    static AskRequest request(String name) {
        JsonNode c = ServiceFixtures.testCase(name);
        return new AskRequest(ServiceFixtures.input(c.path("image").asText()), ServiceFixtures.masks(c),
                ServiceFixtures.question(c), GREEDY);
    }

    @Test
    void concurrentQuestionsGetTheSequentialAnswers() throws Exception {
        List<AskRequest> requests = ServiceFixtures.CASES.stream().map(OspreyServiceConcurrencyTest::request).toList();
        List<AskResult> sequential = new ArrayList<>();
        List<List<String>> sequentialWarnings = new ArrayList<>();
        for (AskRequest r : requests) {
            List<String> sink = new ArrayList<>();
            sequential.add(service.ask(r, null, sink::add));
            sequentialWarnings.add(sink);
        }
        // case C's second region is too small for any feature level: the one warning among the cases
        assertEquals(List.of(List.of(), List.of(), List.of(1), List.of()),
                sequentialWarnings.stream().map(w -> w.stream().map(l -> l.startsWith("region 2 (") ? 1 : 0).toList())
                        .toList(), sequentialWarnings.toString());
        for (int i = 0; i < requests.size(); i++) {
            JsonNode c = ServiceFixtures.testCase(ServiceFixtures.CASES.get(i));
            assertArrayEquals(ServiceFixtures.ints(c.path("generated_ids")), sequential.get(i).tokens(),
                    "case " + ServiceFixtures.CASES.get(i) + " asked alone: the reference's answer");
        }

        // Every case twice, eight threads released together, each call with its own warning sink.
        int threads = 2 * requests.size();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<AskResult>> futures = new ArrayList<>();
        List<List<String>> callWarnings = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                AskRequest r = requests.get(t % requests.size());
                List<String> sink = new CopyOnWriteArrayList<>();
                callWarnings.add(sink);
                futures.add(pool.submit(() -> {
                    start.await();
                    return service.ask(r, null, sink::add);
                }));
            }
            start.countDown();
            for (int t = 0; t < threads; t++) {
                AskResult concurrent = futures.get(t).get(10, TimeUnit.MINUTES);
                AskResult alone = sequential.get(t % requests.size());
                String what = "case " + ServiceFixtures.CASES.get(t % requests.size()) + " on thread " + t;
                assertArrayEquals(alone.tokens(), concurrent.tokens(), what);
                assertEquals(alone.text(), concurrent.text(), what);
                assertEquals(alone.promptTokens(), concurrent.promptTokens(), what);
                assertEquals(sequentialWarnings.get(t % requests.size()), callWarnings.get(t),
                        what + ": its own warnings, and no other call's");
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(warnings.isEmpty(), "no warnings from loading: " + warnings);
    }
}
