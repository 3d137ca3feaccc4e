package osprey4j.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.app.serve.ServeFixtures.Client;
import osprey4j.app.serve.ServeFixtures.Client.Reply;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.MaskPng;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.model.GenerationOptions;
import osprey4j.model.image.RgbImage;
import osprey4j.service.AskRequest;
import osprey4j.service.AskResult;
import osprey4j.service.ChatSession;
import osprey4j.service.DescribeRequest;
import osprey4j.service.DescribeResult;
import osprey4j.service.OspreyService;

/**
 * {@code osprey serve} on 127.0.0.1 with the demo model: every endpoint, streaming, the region forms, limits and
 * errors. Answers are compared with the service called in-process on the same inputs (greedy, so they must be
 * equal), which is what {@code osprey ask}/{@code chat}/{@code describe} print.
 */
class ServeApiTest {
    static OspreyServer server;
    static Client client;
    static RgbImage scene;
    static ServerConfig config;

    @BeforeAll
    static void start() throws Exception {
        config = ServerConfig.defaults("demo").withPort(0).withQueue(2, 8)
                .withLimits(300_000, 1.0, 4, 2000, 64);
        server = OspreyServer.start(ServeFixtures.service(), null, config);
        client = new Client(server.uri());
        scene = RgbImage.read(ServeFixtures.SCENE);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static OspreyService service() {
        return ServeFixtures.service();
    }

    static Mask rect(int x1, int y1, int x2, int y2) {
        return Mask.fromPredicate(scene.width(), scene.height(), (x, y) -> x >= x1 && x < x2 && y >= y1 && y < y2);
    }

    static ObjectNode greedy(ObjectNode body, int maxTokens) {
        return body.put("temperature", 0).put("max_tokens", maxTokens);
    }

    @Test
    void bindsLoopbackAndServesHealthModelsAndMetrics() {
        assertTrue(server.address().getAddress().isLoopbackAddress(), "binds 127.0.0.1 by default");
        Reply h = client.get("/health");
        assertEquals(200, h.status());
        assertEquals("ok", h.json().path("status").asText());
        assertFalse(h.json().path("segment").asBoolean());
        Reply m = client.get("/v1/models");
        assertEquals(200, m.status());
        assertEquals("list", m.json().path("object").asText());
        assertEquals("demo", m.json().path("data").get(0).path("id").asText());
        Reply metrics = client.get("/metrics");
        assertEquals(200, metrics.status());
        assertTrue(metrics.raw().headers().firstValue("content-type").orElse("").startsWith("text/plain"));
        for (String name : List.of("osprey_requests_total", "osprey_queue_length", "osprey_generated_tokens_total",
                "osprey_time_to_first_token_seconds_bucket", "osprey_image_cache_total", "osprey_rejected_total")) {
            assertTrue(metrics.body().contains(name), name);
        }
        assertTrue(client.metric("osprey_requests_total{endpoint=\"/health\",status=\"200\"}") >= 1);
    }

    @Test
    void uploadKeepsAnImageByItsBytesUntilDeleted() {
        byte[] png = ServeFixtures.sceneBytes();
        Reply first = client.postRaw("/v1/images", png, "image/png");
        assertEquals(200, first.status(), first.body());
        String id = first.json().path("id").asText();
        assertTrue(id.startsWith("img-"));
        assertEquals(128, first.json().path("width").asInt());
        Reply again = client.post("/v1/images", ServeFixtures.JSON.createObjectNode()
                .put("image", ServeFixtures.dataUrl(png)));
        assertEquals(id, again.json().path("id").asText(), "same bytes, same id");
        assertTrue(again.json().path("cached").asBoolean(), "not encoded twice");
        assertEquals(200, client.get("/v1/images/" + id).status());

        BufferedImage other = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        String otherId = client.upload(ServeFixtures.png(other));
        assertEquals(200, client.delete("/v1/images/" + otherId).status());
        Reply gone = client.get("/v1/images/" + otherId);
        assertEquals(404, gone.status());
        ObjectNode ask = greedy(ServeFixtures.chat(otherId, "What is it?"), 4);
        assertEquals(404, client.post("/v1/chat/completions", ask).status());
    }

    @Test
    void chatAnswersAsTheServiceDoesAndTheSecondQuestionReusesTheImage() {
        String id = client.upload(ServeFixtures.sceneBytes());
        String q = "What is <region1>?";
        ObjectNode body = greedy(ServeFixtures.chat(id, q), 40);
        ServeFixtures.box(body.putArray("regions"), 64, 0, 128, 64);
        Reply r = client.post("/v1/chat/completions", body);
        assertEquals(200, r.status(), r.body());
        AskResult expected = service().ask(scene, new AskRequest("scene", List.of(rect(64, 0, 128, 64)), q,
                GenerationOptions.greedy(40)), null, null);
        JsonNode choice = r.json().path("choices").get(0);
        assertEquals(expected.text(), choice.path("message").path("content").asText());
        assertEquals("chat.completion", r.json().path("object").asText());
        JsonNode usage = r.json().path("usage");
        assertEquals(expected.promptTokens(), usage.path("prompt_tokens").asInt());
        assertEquals(expected.tokens().length, usage.path("completion_tokens").asInt());

        ObjectNode second = greedy(ServeFixtures.chat(id, "Is <region1> red?"), 8);
        ServeFixtures.box(second.putArray("regions"), 0, 0, 64, 64);
        Reply r2 = client.post("/v1/chat/completions", second);
        assertEquals(200, r2.status(), r2.body());
        JsonNode u2 = r2.json().path("usage");
        assertTrue(u2.path("osprey").path("image_cached").asBoolean());
        assertTrue(u2.path("prompt_tokens_details").path("cached_tokens").asInt() >= 64,
                "the system sentence and the 64 image tokens come from the prompt cache: " + u2);
        assertEquals(0.0, u2.path("osprey").path("encode_ms").asDouble());
    }

    @Test
    void streamingSendsTheSameTextAsChunksThenUsageAndDone() {
        String q = "Paint a detailed verbal picture of <region1>.";
        ObjectNode body = greedy(ServeFixtures.chat(ServeFixtures.dataUrl(ServeFixtures.sceneBytes()), q), 48);
        ServeFixtures.box(body.putArray("regions"), 10, 10, 90, 100);
        Reply plain = client.post("/v1/chat/completions", body.deepCopy());
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        Reply streamed = client.post("/v1/chat/completions", body);
        assertEquals(200, streamed.status());
        assertTrue(streamed.raw().headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> events = Client.events(streamed.body());
        assertEquals("[DONE]", events.get(events.size() - 1));
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        int contentChunks = 0;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode c = parse(e);
            assertEquals("chat.completion.chunk", c.path("object").asText());
            if (c.has("usage")) {
                usage = c.get("usage");
                continue;
            }
            JsonNode ch = c.path("choices").get(0);
            String piece = ch.path("delta").path("content").asText("");
            if (!piece.isEmpty()) {
                contentChunks++;
            }
            text.append(piece);
            if (!ch.path("finish_reason").isNull()) {
                finish = ch.path("finish_reason").asText();
            }
        }
        String expected = plain.json().path("choices").get(0).path("message").path("content").asText();
        assertEquals(expected, text.toString());
        assertTrue(contentChunks > 1, "the answer arrives in pieces, not at once: " + contentChunks);
        assertEquals(plain.json().path("choices").get(0).path("finish_reason").asText(), finish);
        assertEquals(plain.json().path("usage").path("completion_tokens").asInt(),
                usage.path("completion_tokens").asInt());
    }

    @Test
    void regionsAsRlePolygonsAndAlphaChannelGiveTheirMasks() throws Exception {
        Mask region = MaskPng.read(ServeFixtures.REGION);
        String id = client.upload(ServeFixtures.sceneBytes());
        String q = "Please give me a short description of <region1>.";
        AskResult expected = service().ask(scene, new AskRequest("scene", List.of(region), q,
                GenerationOptions.greedy(24)), null, null);

        ObjectNode rle = greedy(ServeFixtures.chat(id, q), 24);
        rle.putArray("regions").addObject().set("mask", SegmentationJson.write(CocoMasks.encode(region)));
        Reply a = client.post("/v1/chat/completions", rle);
        assertEquals(200, a.status(), a.body());
        assertEquals(expected.text(), a.json().path("choices").get(0).path("message").path("content").asText());

        // A polygon for a rectangle rasterises as pycocotools does: compare with that rectangle's mask.
        ObjectNode poly = greedy(ServeFixtures.chat(id, q), 24);
        poly.putArray("regions").addObject().putArray("mask").addArray()
                .add(20).add(20).add(80).add(20).add(80).add(70).add(20).add(70);
        Mask polyMask = CocoMasks.decode(SegmentationJson.read(ServeFixtures.JSON.readTree(
                "[[20,20,80,20,80,70,20,70]]")), 128, 128);
        AskResult expectedPoly = service().ask(scene, new AskRequest("scene", List.of(polyMask), q,
                GenerationOptions.greedy(24)), null, null);
        Reply p = client.post("/v1/chat/completions", poly);
        assertEquals(200, p.status(), p.body());
        assertEquals(expectedPoly.text(), p.json().path("choices").get(0).path("message").path("content").asText());

        // The Describe Anything convention: RGBA, alpha > 0 is the region; text without <region1>.
        BufferedImage rgba = new BufferedImage(128, 128, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 128; y++) {
            for (int x = 0; x < 128; x++) {
                rgba.setRGB(x, y, (region.get(x, y) ? 0xFF000000 : 0) | scene.rgbAt(x, y));
            }
        }
        String dam = "Describe the masked region in detail.";
        ObjectNode alpha = greedy(ServeFixtures.chat(ServeFixtures.dataUrl(ServeFixtures.png(rgba)), "Image: <image>\n"
                + dam), 24);
        Reply d = client.post("/chat/completions", alpha);
        assertEquals(200, d.status(), d.body());
        try (ChatSession chat = service().chat(scene, "scene", null)) {
            chat.addRegion(region);
            AskResult e = chat.ask(dam, GenerationOptions.greedy(24), null);
            assertEquals(e.text(), d.json().path("choices").get(0).path("message").path("content").asText());
        }
    }

    @Test
    void multiTurnKeepsTheTemplatesHistoryAndContinuesTheKeptConversation() {
        String id = client.upload(ServeFixtures.sceneBytes());
        String q1 = "What is <region1>?";
        String q2 = "What colour is it?";
        String q3 = "And <region1>'s parts?";
        String a1;
        String a2;
        String a3;
        try (ChatSession chat = service().chat(scene, "scene", null)) {
            chat.addRegion(rect(64, 0, 128, 64));
            a1 = chat.ask(q1, GenerationOptions.greedy(16), null).text();
            a2 = chat.ask(q2, GenerationOptions.greedy(16), null).text();
            a3 = chat.ask(q3, GenerationOptions.greedy(16), null).text();
        }
        // Turn 2 with turn 1 as history (a1 is the reference's conversation answer, not the single-question one).
        ObjectNode t2 = conversation(id, q1, a1, q2);
        Reply r2 = client.post("/v1/chat/completions", t2);
        assertEquals(200, r2.status(), r2.body());
        assertEquals(a2, r2.json().path("choices").get(0).path("message").path("content").asText());
        double hits = client.metric("osprey_chat_cache_total{result=\"hit\"}");
        ObjectNode t3 = conversation(id, q1, a1, q2);
        ((ArrayNode) t3.get("messages")).addObject().put("role", "assistant").put("content", a2);
        ((ArrayNode) t3.get("messages")).addObject().put("role", "user").put("content", q3);
        Reply r3 = client.post("/v1/chat/completions", t3);
        assertEquals(200, r3.status(), r3.body());
        assertEquals(a3, r3.json().path("choices").get(0).path("message").path("content").asText());
        assertEquals(hits + 1, client.metric("osprey_chat_cache_total{result=\"hit\"}"),
                "turn 3 continued the conversation kept after turn 2");
        assertTrue(r3.json().path("usage").path("prompt_tokens_details").path("cached_tokens").asInt() > 64);
    }

    private static ObjectNode conversation(String id, String q1, String a1, String q2) {
        ObjectNode body = greedy(ServeFixtures.chat(id, q1), 16);
        ServeFixtures.box(body.putArray("regions"), 64, 0, 128, 64);
        ArrayNode messages = (ArrayNode) body.get("messages");
        messages.insertObject(0).put("role", "system").put("content", "ignored: the template's system sentence");
        messages.addObject().put("role", "assistant").put("content", a1);
        messages.addObject().put("role", "user").put("content", q2);
        return body;
    }

    @Test
    void stopStringsEndTheAnswerBeforeThem() {
        String id = client.upload(ServeFixtures.sceneBytes());
        ObjectNode body = greedy(ServeFixtures.chat(id, "Paint a detailed verbal picture of <region1>."), 48);
        ServeFixtures.box(body.putArray("regions"), 64, 0, 128, 64);
        String full = client.post("/v1/chat/completions", body.deepCopy()).json().path("choices").get(0)
                .path("message").path("content").asText();
        String[] words = full.split(" ");
        assertTrue(words.length > 4, full);
        String stop = " " + words[3];
        int cut = full.indexOf(stop);
        body.put("stop", stop);
        Reply r = client.post("/v1/chat/completions", body.deepCopy());
        JsonNode choice = r.json().path("choices").get(0);
        assertEquals(full.substring(0, cut), choice.path("message").path("content").asText());
        assertEquals("stop", choice.path("finish_reason").asText());
        assertTrue(r.json().path("usage").path("completion_tokens").asInt()
                < client.post("/v1/chat/completions", body.without("stop")).json().path("usage")
                .path("completion_tokens").asInt(), "generation ended at the stop string");
        body.put("stream", true).put("stop", stop);
        StringBuilder streamed = new StringBuilder();
        for (String e : Client.events(client.post("/v1/chat/completions", body).body())) {
            if (!e.equals("[DONE]")) {
                streamed.append(parse(e).path("choices").get(0).path("delta").path("content").asText(""));
            }
        }
        assertEquals(full.substring(0, cut), streamed.toString());
    }

    @Test
    void describeGivesEachRegionAsTheServiceDoesAndStreamsThem() {
        String id = client.upload(ServeFixtures.sceneBytes());
        ObjectNode body = ServeFixtures.JSON.createObjectNode().put("image", id).put("temperature", 0)
                .put("max_tokens", 20);
        ArrayNode regions = body.putArray("regions");
        ServeFixtures.box(regions, 64, 0, 128, 64);
        ServeFixtures.box(regions, 0, 64, 64, 128);
        Reply r = client.post("/v1/describe", body.deepCopy());
        assertEquals(200, r.status(), r.body());
        DescribeResult expected = service().describe(scene, new DescribeRequest("scene", List.of(
                new DescribeRequest.Region(1, rect(64, 0, 128, 64)), new DescribeRequest.Region(2, rect(0, 64, 64, 128))),
                DescribeRequest.Detail.SHORT, GenerationOptions.greedy(20)), null, null);
        for (int i = 0; i < 2; i++) {
            JsonNode got = r.json().path("regions").get(i);
            assertEquals(expected.regions().get(i).answer(), got.path("text").asText());
            assertEquals(64 * 64, got.path("area").asInt());
        }
        body.put("stream", true);
        List<String> events = Client.events(client.post("/v1/describe", body).body());
        assertEquals(3, events.size(), events.toString());
        assertEquals(expected.regions().get(1).answer(), parse(events.get(1)).path("text").asText());
        assertEquals("[DONE]", events.get(2));
    }

    @Test
    void segmentTurnsBoxesIntoRectanglesAndRefusesPointsWithoutSam() {
        String id = client.upload(ServeFixtures.sceneBytes());
        ObjectNode body = ServeFixtures.JSON.createObjectNode().put("image", id);
        ServeFixtures.box(body.putArray("prompts"), 10, 20, 30, 60);
        Reply r = client.post("/v1/segment", body);
        assertEquals(200, r.status(), r.body());
        assertEquals("rectangle", r.json().path("segmenter").asText());
        JsonNode m = r.json().path("masks").get(0);
        assertEquals(20 * 40, m.path("area").asInt());
        assertEquals(rect(10, 20, 30, 60), CocoMasks.decode(SegmentationJson.read(m.path("segmentation"))));

        ObjectNode points = ServeFixtures.JSON.createObjectNode().put("image", id);
        ObjectNode p = points.putArray("prompts").addObject();
        p.putArray("points").addArray().add(50).add(50);
        p.putArray("labels").add(1);
        Reply refused = client.post("/v1/segment", points);
        assertEquals(400, refused.status());
        assertEquals("segmenter_required", refused.errorCode());
        assertTrue(refused.errorMessage().contains("points need a SAM checkpoint (--sam)"), refused.errorMessage());

        ObjectNode chat = greedy(ServeFixtures.chat(id, "What is <region1>?"), 4);
        chat.set("regions", points.get("prompts"));
        Reply chatRefused = client.post("/v1/chat/completions", chat);
        assertEquals(400, chatRefused.status());
        assertTrue(chatRefused.errorMessage().contains("points need a SAM checkpoint (--sam)"));

        ObjectNode everything = ServeFixtures.JSON.createObjectNode().put("image", id).put("everything", true);
        assertEquals("segmenter_required", client.post("/v1/segment", everything).errorCode());
        assertEquals("segmenter_required", client.post("/v1/describe", everything).errorCode());
    }

    @Test
    void limitsAndBadInputGetClearClientErrors() {
        String id = client.upload(ServeFixtures.sceneBytes());
        // max_tokens over the limit
        Reply r = client.post("/v1/chat/completions", ServeFixtures.chat(id, "What?").put("max_tokens", 65));
        assertEquals(400, r.status());
        assertEquals("max_tokens_too_large", r.errorCode());
        assertTrue(r.errorMessage().contains("limit is 64"), r.errorMessage());
        // too many regions
        ObjectNode many = ServeFixtures.chat(id, "What is <region1>?");
        ArrayNode regions = many.putArray("regions");
        for (int i = 0; i < 5; i++) {
            ServeFixtures.box(regions, i, i, i + 10, i + 10);
        }
        assertEquals("too_many_regions", client.post("/v1/chat/completions", many).errorCode());
        // prompt too long
        Reply longPrompt = client.post("/v1/chat/completions", ServeFixtures.chat(id, "x".repeat(2001)));
        assertEquals("prompt_too_long", longPrompt.errorCode());
        // upload too large (bytes), too many megapixels, not an image
        Reply big = client.postRaw("/v1/images", new byte[300_001], "image/png");
        assertEquals(413, big.status());
        BufferedImage huge = new BufferedImage(1200, 1000, BufferedImage.TYPE_BYTE_GRAY);
        Reply mp = client.postRaw("/v1/images", ServeFixtures.png(huge), "image/png");
        assertEquals(400, mp.status());
        assertEquals("image_too_large", mp.errorCode());
        assertTrue(mp.errorMessage().contains("1200x1000"), mp.errorMessage());
        Reply notImage = client.postRaw("/v1/images", "hello".getBytes(), "image/png");
        assertEquals(400, notImage.status());
        // never a path or a URL
        for (String ref : List.of("/etc/passwd", "file:///etc/passwd", "http://127.0.0.1/x.png", "../models/demo")) {
            Reply path = client.post("/v1/chat/completions", ServeFixtures.chat(ref, "What?"));
            assertEquals(400, path.status(), ref);
            assertTrue(path.errorMessage().contains("never fetches URLs or reads paths"), path.errorMessage());
        }
        // malformed requests
        assertEquals(400, client.postRaw("/v1/chat/completions", "{nope".getBytes(), "application/json").status());
        ObjectNode noImage = ServeFixtures.JSON.createObjectNode();
        noImage.putArray("messages").addObject().put("role", "user").put("content", "hi");
        Reply ni = client.post("/v1/chat/completions", noImage);
        assertEquals(400, ni.status());
        assertTrue(ni.errorMessage().contains("image_url"), ni.errorMessage());
        ObjectNode badRef = ServeFixtures.chat(id, "What is <region3>?");
        ServeFixtures.box(badRef.putArray("regions"), 0, 0, 10, 10);
        Reply br = client.post("/v1/chat/completions", badRef);
        assertEquals(400, br.status());
        assertTrue(br.errorMessage().contains("region3"), br.errorMessage());
        ObjectNode emptyBox = ServeFixtures.chat(id, "What is <region1>?");
        ServeFixtures.box(emptyBox.putArray("regions"), 10, 10, 10, 20);
        assertTrue(client.post("/v1/chat/completions", emptyBox).errorMessage().contains("covers no pixel"));
        ObjectNode badMask = ServeFixtures.chat(id, "What is <region1>?");
        ObjectNode small = badMask.putArray("regions").addObject().putObject("mask");
        small.putArray("size").add(5).add(5);
        small.putArray("counts").add(20).add(5);
        Reply bm = client.post("/v1/chat/completions", badMask);
        assertEquals(400, bm.status());
        assertTrue(bm.errorMessage().contains("5x5"), bm.errorMessage());
        ObjectNode hugeRle = ServeFixtures.chat(id, "What is <region1>?");
        ObjectNode hugeMask = hugeRle.putArray("regions").addObject().putObject("mask");
        hugeMask.putArray("size").add(100_000).add(100_000);
        hugeMask.putArray("counts").add(10_000_000_000L);
        Reply hr = client.post("/v1/chat/completions", hugeRle);
        assertEquals(400, hr.status());
        assertTrue(hr.errorMessage().contains("100000x100000"), "refused before a mask of that size is made");
        ObjectNode farPolygon = ServeFixtures.chat(id, "What is <region1>?");
        farPolygon.putArray("regions").addObject().putArray("mask").addArray().add(0).add(0).add(1e9).add(0).add(1e9)
                .add(1e9);
        Reply fp = client.post("/v1/chat/completions", farPolygon);
        assertEquals(400, fp.status());
        assertTrue(fp.errorMessage().contains("far outside"), fp.errorMessage());
        assertEquals(400, client.post("/v1/chat/completions", ServeFixtures.chat(id, "Hi").put("n", 2)).status());
        assertEquals(400, client.post("/v1/chat/completions", ServeFixtures.chat(id, "Hi").put("temperature", -1))
                .status());
        assertEquals(404, client.get("/v1/nothing").status());
        assertEquals(404, client.post("/v1/chat/completions", ServeFixtures.chat("img-000000000000000000000000",
                "Hi")).status());
        assertEquals(415, client.postRaw("/v1/images", "x".getBytes(), "text/plain").status());
        assertNotEquals(0, client.metric("osprey_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"}"));
    }

    static JsonNode parse(String s) {
        try {
            return ServeFixtures.JSON.readTree(s);
        } catch (Exception e) {
            throw new AssertionError(s, e);
        }
    }
}
