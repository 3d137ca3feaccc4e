package osprey4j.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import osprey4j.app.serve.ServeFixtures.Client;
import osprey4j.app.serve.ServeFixtures.Client.Reply;

/**
 * What bounds the server's work: the queue (503 with Retry-After past it), a client that disconnects (its
 * generation stops), the API key. Long answers come from sampling at a high temperature with a seed whose answer
 * runs to max_tokens (found first, non-streamed: sampling is seeded, so the streamed run is the same).
 */
class ServeWorkLimitsTest {
    static final int LONG = 1500;

    /** A request whose answer runs to max_tokens: the first seed (from 1) that does. */
    static ObjectNode longRequest(Client client, String id) {
        for (int seed = 1; seed < 40; seed++) {
            ObjectNode body = ServeFixtures.chat(id, "Paint a detailed verbal picture of <region1>.")
                    .put("temperature", 20.0).put("top_k", 0).put("max_tokens", LONG).put("seed", seed);
            ServeFixtures.box(body.putArray("regions"), 0, 0, 128, 128);
            Reply r = client.post("/v1/chat/completions", body.deepCopy());
            assertEquals(200, r.status(), r.body());
            if (r.json().path("usage").path("completion_tokens").asInt() == LONG) {
                return body;
            }
        }
        throw new AssertionError("no seed in 1..39 gave a " + LONG + "-token answer");
    }

    @Test
    void aClientThatDisconnectsStopsItsGeneration() throws Exception {
        ServerConfig config = ServerConfig.defaults("demo").withPort(0).withLimits(1 << 20, 1, 4, 2000, LONG);
        try (OspreyServer server = OspreyServer.start(ServeFixtures.service(), null, config)) {
            Client client = new Client(server.uri());
            String id = client.upload(ServeFixtures.sceneBytes());
            ObjectNode body = longRequest(client, id).put("stream", true);
            double tokensBefore = client.metric("osprey_generated_tokens_total");
            byte[] json = body.toString().getBytes(StandardCharsets.UTF_8);
            try (Socket s = new Socket(server.address().getAddress(), server.port())) {
                OutputStream out = s.getOutputStream();
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + json.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(json);
                out.flush();
                InputStream in = s.getInputStream();
                StringBuilder seen = new StringBuilder();
                while (!seen.toString().contains("\"content\":\"") || count(seen, "data: ") < 3) {
                    int c = in.read();
                    assertTrue(c >= 0, "stream ended early: " + seen);
                    seen.append((char) c);
                }
            } // closed mid-answer
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (client.metric("osprey_cancelled_total") < 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1.0, client.metric("osprey_cancelled_total"), "the generation was stopped");
            assertEquals(1.0, client.metric("osprey_requests_total{endpoint=\"/v1/chat/completions\",status=\"499\"}"));
            assertEquals(tokensBefore, client.metric("osprey_generated_tokens_total"),
                    "the cut answer was not finished (finished answers add their tokens)");
            assertEquals(0, client.get("/health").json().path("running").asInt(), "its worker is free again");
        }
    }

    private static int count(CharSequence s, String sub) {
        int n = 0;
        for (int i = s.toString().indexOf(sub); i >= 0; i = s.toString().indexOf(sub, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void pastTheQueueRequestsGet503WithRetryAfter() throws Exception {
        ServerConfig config = ServerConfig.defaults("demo").withPort(0).withQueue(1, 0)
                .withLimits(1 << 20, 1, 4, 2000, LONG);
        try (OspreyServer server = OspreyServer.start(ServeFixtures.service(), null, config)) {
            Client client = new Client(server.uri());
            String id = client.upload(ServeFixtures.sceneBytes());
            ObjectNode body = longRequest(client, id);
            for (int attempt = 0; ; attempt++) {
                CompletableFuture<Reply> running = CompletableFuture.supplyAsync(() ->
                        client.post("/v1/chat/completions", body));
                while (client.get("/health").json().path("running").asInt() == 0 && !running.isDone()) {
                    Thread.onSpinWait();
                }
                Reply refused = client.post("/v1/chat/completions", ServeFixtures.chat(id, "What?")
                        .put("max_tokens", 2));
                Reply first = running.get();
                assertEquals(200, first.status());
                if (refused.status() == 200 && attempt < 5) {
                    continue; // the long answer ended before the second request arrived: try again
                }
                assertEquals(503, refused.status(), refused.body());
                assertEquals("queue_full", refused.errorCode());
                int retry = Integer.parseInt(refused.raw().headers().firstValue("Retry-After").orElseThrow());
                assertTrue(retry >= 1 && retry <= 60, "Retry-After " + retry);
                assertTrue(client.metric("osprey_rejected_total") >= 1);
                break;
            }
            assertEquals(200, client.post("/v1/chat/completions", ServeFixtures.chat(id, "What?")
                    .put("max_tokens", 2)).status(), "free again afterwards");
        }
    }

    @Test
    void anApiKeyGuardsTheApiButNotThePageOrHealth() {
        ServerConfig config = ServerConfig.defaults("demo").withPort(0).withApiKey("s3cret");
        try (OspreyServer server = OspreyServer.start(ServeFixtures.service(), null, config)) {
            Client client = new Client(server.uri());
            Reply none = client.get("/v1/models");
            assertEquals(401, none.status());
            assertEquals("invalid_api_key", none.errorCode());
            client.key = "wrong";
            assertEquals(401, client.get("/v1/models").status());
            assertEquals(401, client.get("/metrics").status());
            client.key = "s3cret";
            assertEquals(200, client.get("/v1/models").status());
            assertEquals(200, client.get("/metrics").status());
            client.key = null;
            assertEquals(200, client.get("/health").status());
            Reply page = client.get("/");
            assertEquals(200, page.status());
            assertTrue(page.body().contains("<html") || page.body().contains("<!doctype html"));
        }
    }

    @Test
    void imagesPastTheMemoryBudgetAreEvictedOldestFirst() {
        // Budget for about two demo images (each holds ~0.3 MB of features and tokens before any question).
        ServerConfig config = ServerConfig.defaults("demo").withPort(0).withCaches(700_000, 1 << 20);
        try (OspreyServer server = OspreyServer.start(ServeFixtures.service(), null, config)) {
            Client client = new Client(server.uri());
            String[] ids = new String[4];
            for (int i = 0; i < 4; i++) {
                java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(128, 128,
                        java.awt.image.BufferedImage.TYPE_INT_RGB);
                img.setRGB(i, i, 0xFFFFFF);
                ids[i] = client.upload(ServeFixtures.png(img));
            }
            JsonNode health = client.get("/health").json();
            int held = health.path("cached_images").asInt();
            assertTrue(held >= 1 && held < 4, "held " + held);
            assertTrue(client.metric("osprey_cached_image_bytes") <= 700_000 || held == 1);
            assertEquals(404, client.get("/v1/images/" + ids[0]).status(), "the oldest went first");
            assertEquals(200, client.get("/v1/images/" + ids[3]).status(), "the newest stays");
            assertEquals(4 - held, (int) client.metric("osprey_evictions_total{cache=\"image\"}"));
        }
    }
}
