package osprey4j.eval.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.mask.Mask;
import osprey4j.data.instruct.ChatClient;
import osprey4j.eval.metrics.GptReview;
import osprey4j.eval.runner.EvalRun;
import osprey4j.eval.runner.RegionAsker;
import osprey4j.eval.runner.Shard;
import osprey4j.model.GenerationOptions;

/** Ferret-Bench answers and reviews against a local OpenAI-compatible judge. */
class FerretBenchmarkTest {
    static final ObjectMapper M = new ObjectMapper();
    @TempDir
    Path tmp;
    HttpServer server;
    final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    final AtomicInteger refuseAfter = new AtomicInteger(Integer.MAX_VALUE);

    @BeforeEach
    void judgeServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", ex -> {
            JsonNode req = M.readTree(ex.getRequestBody());
            byte[] body;
            int code;
            if (requests.size() >= refuseAfter.get()) {
                code = 401;
                body = "{\"error\": \"bad key\"}".getBytes(StandardCharsets.UTF_8);
            } else {
                requests.add(req);
                String user = req.get("messages").get(1).get("content").asText();
                String review = user.contains("thing2") ? "9 6\nGood." : user.contains("thing3") ? "Eight, seven"
                        : "8 7\nFine.";
                ObjectNode o = M.createObjectNode();
                o.putArray("choices").addObject().putObject("message").put("role", "assistant").put("content", review);
                o.putObject("usage").put("prompt_tokens", 100).put("completion_tokens", 10);
                body = M.writeValueAsBytes(o);
                code = 200;
            }
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(code, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    GptJudge.Judge judge(int concurrency) {
        URI endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/chat/completions");
        ChatClient client = new ChatClient(new ChatClient.Settings(endpoint, "judge-x", null, Duration.ofSeconds(10),
                1, Duration.ofMillis(1), Duration.ofMillis(1), GptReview.TEMPERATURE));
        return new GptJudge.Judge(tmp.resolve("ferret"), tmp.resolve("rule.json"), client, "judge-x",
                concurrency, 2.0, 4.0);
    }

    Path data() throws IOException {
        Path images = Files.createDirectories(tmp.resolve("images"));
        Path ferret = Files.createDirectories(tmp.resolve("ferret"));
        StringBuilder box = new StringBuilder("[");
        StringBuilder q = new StringBuilder();
        StringBuilder c = new StringBuilder();
        StringBuilder a = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            String image = String.format("%012d.jpg", i % 3);
            if (i < 3) {
                ImageIO.write(new BufferedImage(30 + i, 20, BufferedImage.TYPE_INT_RGB), "png",
                        images.resolve(image).toFile());
                c.append("{\"question_id\": ").append(i).append(", \"image\": \"").append(image)
                        .append("\", \"category\": \"refer_desc\", \"text\": \"Objects:\\nObject 0 : thing at [0.1, 0.1, 0.5, 0.5].\"}\n");
            }
            box.append(i > 0 ? "," : "").append("{\"question_id\": ").append(i).append(", \"image\": \"").append(image)
                    .append("\", \"category\": \"description\", \"text\": \"What is thing").append(i)
                    .append(" <region> doing?\", \"annotation\": {\"bbox\": [2, 2, 8, 8], \"segmentation\": "
                            + "[[2, 2, 10, 2, 10, 10, 2, 10]]}}");
            q.append("{\"question_id\": ").append(i).append(", \"image\": \"").append(image)
                    .append("\", \"category\": \"refer_desc\", \"text\": \"What is thing").append(i)
                    .append(" [0.1, 0.1, 0.3, 0.4] doing?\"}\n");
            a.append("{\"question_id\": ").append(i).append(", \"text\": \"GPT-4 says thing").append(i).append(".\"}\n");
        }
        Files.writeString(ferret.resolve("question.jsonl"), q);
        Files.writeString(ferret.resolve("context.jsonl"), c);
        Files.writeString(ferret.resolve("answer.jsonl"), a);
        Files.writeString(tmp.resolve("rule.json"), "{\"refer_desc\": {\"role\": \"Assistant\", \"prompt\": \"Rate them.\"}}");
        return Files.writeString(tmp.resolve("box_refer_caption.json"), box.append(']'));
    }

    static final class Asker implements RegionAsker {
        final List<String> questions = new ArrayList<>();
        final List<int[]> sizes = new ArrayList<>();

        @Override
        public Image open(Path image) {
            return (regions, question, options) -> {
                questions.add(question);
                Mask m = regions.getFirst();
                sizes.add(new int[] {m.width(), m.height()});
                return "  A thing [0.1, 0.2, 0.3, 0.4] doing things.</s> ";
            };
        }
    }

    EvalRun.Options options(Path out) {
        return new EvalRun.Options("ferret", out, 0, Shard.ALL, GenerationOptions.greedy(16), null);
    }

    @Test
    void answersAsTheReferenceAsksThenJudgesAndScores() throws IOException {
        Path data = data();
        Asker asker = new Asker();
        Path out = tmp.resolve("out");
        ObjectNode s = PaperEval.FERRET.run(data, tmp.resolve("images"), options(out), asker, judge(2));
        assertEquals("<image>\n.\nThis provides an overview of the picture.\nWhat is thing0 <mask><pos> doing?",
                asker.questions.getFirst());
        assertEquals(31, asker.sizes.get(1)[0], "masks at the image's own size");
        assertEquals(4, requests.size());
        JsonNode first = requests.stream().filter(r -> r.toString().contains("thing0")).findFirst().orElseThrow();
        assertEquals(GptReview.SYSTEM, first.get("messages").get(0).get("content").asText());
        assertEquals(GptReview.content("Objects:\nObject 0 : thing at [0.1, 0.1, 0.5, 0.5].",
                        "What is thing0 [0.1, 0.1, 0.3, 0.4] doing?", "Assistant", "GPT-4 says thing0.",
                        "A thing doing things.", "Rate them."),
                first.get("messages").get(1).get("content").asText());
        assertEquals(1024, first.get("max_tokens").asInt());
        assertEquals(0.2, first.get("temperature").asDouble(), 1e-9);
        // thing0 8/7, thing1 8/7, thing2 9/6, thing3 unparsed (-1/-1): means 6.0 and 4.75.
        assertEquals(GptReview.relativeScore(List.of(new double[] {8, 7}, new double[] {8, 7}, new double[] {9, 6},
                new double[] {-1, -1}), 1), s.get("scores").get("refer_desc").asDouble());
        assertEquals(79.2, s.get("scores").get("all").asDouble());
        assertEquals(1, s.get("unparsed_reviews").asInt());
        assertEquals((400 * 2.0 + 40 * 4.0) / 1e6, s.get("cost").asDouble(), 1e-15);
        assertTrue(Files.readString(out.resolve("report.md")).contains("| refer_desc | 4 | 79.2 | 72.2 |"));
    }

    @Test
    void aFailingJudgeKeepsItsReviewsAndTheRerunAsksOnlyTheRest() throws IOException {
        Path data = data();
        Path out = tmp.resolve("fail");
        refuseAfter.set(2);
        IOException e = assertThrows(IOException.class, () -> PaperEval.FERRET.run(data, tmp.resolve("images"),
                options(out), new Asker(), judge(1)));
        assertTrue(e.getMessage().startsWith("the judge failed on question 2: the endpoint refused the request: HTTP 401"),
                e.getMessage());
        assertEquals(4, Files.readAllLines(out.resolve(EvalRun.SAMPLES)).size(), "the answers are kept");
        assertEquals(2, Files.readAllLines(out.resolve(GptJudge.REVIEWS)).size(), "the reviews received too");
        refuseAfter.set(Integer.MAX_VALUE);
        // The client retries a request whose connection dropped (it may then reach the server twice), so the
        // requests are compared by what they ask, not counted raw.
        java.util.Set<String> before = new java.util.HashSet<>();
        requests.forEach(r -> before.add(r.get("messages").get(1).get("content").asText()));
        assertEquals(2, before.size(), "two reviews before");
        int sent = requests.size();
        Asker again = new Asker();
        ObjectNode s = PaperEval.FERRET.run(data, tmp.resolve("images"), options(out), again, judge(1));
        assertEquals(0, again.questions.size(), "no answer asked again");
        java.util.Set<String> now = new java.util.HashSet<>();
        requests.subList(sent, requests.size()).forEach(r -> now.add(r.get("messages").get(1).get("content").asText()));
        assertEquals(2, now.size(), "two reviews now");
        for (String q : now) {
            assertTrue(!before.contains(q), "a review received before is not asked again");
        }
        assertEquals(4, Files.readAllLines(out.resolve(GptJudge.REVIEWS)).size());
        assertEquals(79.2, s.get("scores").get("all").asDouble());
    }

    @Test
    void descriptionIsAskedAndJudgedAsOspreysOwnScripts() throws IOException {
        Path images = Files.createDirectories(tmp.resolve("images"));
        Path desc = Files.createDirectories(tmp.resolve("eval").resolve("description"));
        StringBuilder q = new StringBuilder("[");
        StringBuilder a = new StringBuilder("[");
        StringBuilder p = new StringBuilder("[");
        for (int i = 0; i < 3; i++) {
            String image = String.format("%012d.jpg", i);
            ImageIO.write(new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB), "png", images.resolve(image).toFile());
            String sep = i > 0 ? "," : "";
            q.append(sep).append("{\"question_id\": ").append(i).append(", \"image\": \"").append(image)
                    .append("\", \"category\": \"description\", \"text\": \"Could you describe thing").append(i)
                    .append(" <region> in great detail?\", \"annotation\": {\"bbox\": [1, 1, 9, 9], "
                            + "\"segmentation\": [[1, 1, 10, 1, 10, 10, 1, 10]]}}");
            a.append(sep).append("{\"question_id\": ").append(i).append(", \"image\": \"").append(image)
                    .append("\", \"category\": \"description\", \"text\": \"GPT-4 describes thing").append(i)
                    .append(".\"}");
            p.append(sep).append("{\"question_id\": ").append(i).append(", \"image\": \"").append(image)
                    .append("\", \"category\": \"description\", \"prompt\": \"Context ").append(i).append("\"}");
        }
        // A second context for image 0: the reference's dict keeps the last one.
        p.append(", {\"question_id\": 9, \"image\": \"000000000000.jpg\", \"category\": \"description\", "
                + "\"prompt\": \"Later context 0\"}");
        Path questions = Files.writeString(desc.resolve("questions.json"), q.append(']'));
        Files.writeString(desc.resolve("answers.json"), a.append(']'));
        Files.writeString(desc.resolve("prompt.json"), p.append(']'));
        Files.writeString(tmp.resolve("eval").resolve("rule.json"),
                "{\"description\": {\"role\": \"Assistant\", \"prompt\": \"Rate.\"}}");
        URI endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1");
        ChatClient client = new ChatClient(new ChatClient.Settings(ChatClient.Settings.endpoint(endpoint.toString()),
                "judge-x", null, Duration.ofSeconds(10), 1, Duration.ofMillis(1), Duration.ofMillis(1), 0.2));
        GptJudge.Judge judge = new GptJudge.Judge(desc, tmp.resolve("eval").resolve("rule.json"), client, "judge-x",
                3, 0, 0);
        RegionAsker asker = image -> (regions, question, options) -> "Region: A small box. It is grey.";
        ObjectNode s = PaperEval.DESCRIPTION.run(questions, images, options(tmp.resolve("desc")), asker, judge);
        JsonNode first = requests.stream().filter(r -> r.toString().contains("thing0")).findFirst().orElseThrow();
        assertEquals(GptReview.content("Later context 0", "Could you describe thing0 <region> in great detail?",
                "Assistant", "GPT-4 describes thing0.", " A small box. It is grey.", "Rate."),
                first.get("messages").get(1).get("content").asText());
        // thing0 8/7, thing1 8/7, thing2 9/6: 6.667 / 8.333 -> 80.0 at 2 decimals.
        assertEquals(GptReview.relativeScore(List.of(new double[] {8, 7}, new double[] {8, 7}, new double[] {9, 6}),
                2), s.get("scores").get("description").asDouble());
        assertTrue(Files.readString(tmp.resolve("desc").resolve("report.md")).contains("| 77.54 |"));
    }

    @Test
    void withoutAJudgeOnlyTheAnswers() throws IOException {
        Path data = data();
        ObjectNode s = PaperEval.FERRET.run(data, tmp.resolve("images"), options(tmp.resolve("nojudge")), new Asker(),
                null);
        assertTrue(s.get("scores").isNull());
        assertEquals(0, requests.size());
    }
}
