package osprey4j.app.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;

/**
 * {@code osprey bench serve}'s load: many clients, each a loop of mixed requests for a fixed time against one
 * server (java.net.http, one virtual thread per client), with latencies, time to first token (client side: from
 * sending to the first streamed text), status counts and the server's memory.
 *
 * <p>The mix (per client, seeded): a streamed question about a region of a shared uploaded image; a new image
 * asked about twice (its first question pays the encode, sent as a data URL; the second reuses it: the pair gives
 * the cold/warm time to first token); a two-turn follow-up; describe of two regions; segment of a box; models or
 * health; a request that must be refused (400). Clients honour Retry-After on a 503 (up to one second).
 */
public final class LoadTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one run measured. */
    public record Report(int clients, double seconds, long requests, Map<String, Kind> kinds,
                         Map<Integer, Long> statuses, long unexpected, List<String> unexpectedSamples,
                         Summary ttftShared, Summary ttftFirst, Summary ttftSecond) {
        /** Completed requests per second (503s included). */
        public double throughput() {
            return requests / seconds;
        }
    }

    /** One request kind's latencies (successful requests) and statuses. */
    public record Kind(Summary latency, Map<Integer, Long> statuses) {
    }

    /** Count, p50, p99, mean of a list of milliseconds. */
    public record Summary(int count, double p50, double p99, double mean) {
        static Summary of(List<Double> ms) {
            List<Double> v = new ArrayList<>(ms);
            Collections.sort(v);
            if (v.isEmpty()) {
                return new Summary(0, Double.NaN, Double.NaN, Double.NaN);
            }
            double mean = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            return new Summary(v.size(), pct(v, 0.50), pct(v, 0.99), mean);
        }

        private static double pct(List<Double> sorted, double p) {
            int i = (int) Math.ceil(p * sorted.size()) - 1;
            return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
        }
    }

    private final URI base;
    private final String key;
    private final int maxTokens;
    private final HttpClient http;
    private final Map<String, List<Double>> latencies = new ConcurrentHashMap<>();
    private final Map<String, Map<Integer, AtomicLong>> statuses = new ConcurrentHashMap<>();
    private final List<Double> ttftShared = new CopyOnWriteArrayList<>();
    private final List<Double> ttftFirst = new CopyOnWriteArrayList<>();
    private final List<Double> ttftSecond = new CopyOnWriteArrayList<>();
    private final List<String> unexpected = new CopyOnWriteArrayList<>();
    private final AtomicLong unexpectedCount = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final byte[] scene;
    private String sharedId;
    private int width;
    private int height;

    /**
     * @param scene the image questions are asked about (PNG/JPEG bytes); new images are made from it by changing
     *              one pixel
     */
    public LoadTest(URI base, String key, byte[] scene, int maxTokens) {
        this.base = base;
        this.key = key;
        this.scene = scene;
        this.maxTokens = maxTokens;
        this.http = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor())
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** Runs {@code clients} clients for {@code seconds}; {@code sampler} is called about once a second. */
    public Report run(int clients, double seconds, Runnable sampler) throws InterruptedException {
        Reply up = send("upload", post("/v1/images", scene, "image/png"));
        if (up.status != 200) {
            throw new IllegalStateException("cannot upload the image: " + up.status + " " + up.body);
        }
        JsonNode info = json(up.body);
        sharedId = info.path("id").asText();
        width = info.path("width").asInt();
        height = info.path("height").asInt();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                int id = c;
                pool.submit(() -> client(id, end));
            }
            while (System.nanoTime() < end) {
                Thread.sleep(1000);
                if (sampler != null) {
                    sampler.run();
                }
            }
        }
        double took = (System.nanoTime() - start) / 1e9;
        Map<String, Kind> kinds = new TreeMap<>();
        Map<Integer, Long> all = new TreeMap<>();
        statuses.forEach((k, m) -> {
            Map<Integer, Long> s = new TreeMap<>();
            m.forEach((code, n) -> {
                s.put(code, n.get());
                all.merge(code, n.get(), Long::sum);
            });
            kinds.put(k, new Kind(Summary.of(latencies.getOrDefault(k, List.of())), s));
        });
        return new Report(clients, took, requests.get(), kinds, all, unexpectedCount.get(),
                List.copyOf(unexpected.subList(0, Math.min(5, unexpected.size()))), Summary.of(ttftShared),
                Summary.of(ttftFirst), Summary.of(ttftSecond));
    }

    private void client(int id, long end) {
        SplittableRandom rnd = new SplittableRandom(1000 + id);
        int fresh = 0;
        while (System.nanoTime() < end) {
            int pick = rnd.nextInt(100);
            try {
                if (pick < 35) {
                    ask("ask-stream", sharedId, box(rnd), rnd.nextLong(), ttftShared);
                } else if (pick < 45) {
                    byte[] png = variant(id, fresh++);
                    String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
                    Double first = ask("new-image-first", url, box(rnd), rnd.nextLong(), null);
                    Double second = ask("new-image-second", url, box(rnd), rnd.nextLong(), null);
                    if (first != null && second != null) {
                        ttftFirst.add(first);
                        ttftSecond.add(second);
                    }
                } else if (pick < 60) {
                    followUp(rnd);
                } else if (pick < 72) {
                    ObjectNode body = JSON.createObjectNode().put("image", sharedId).put("max_tokens", maxTokens)
                            .put("seed", rnd.nextLong());
                    ArrayNode regions = body.putArray("regions");
                    regions.add(box(rnd));
                    regions.add(box(rnd));
                    expect("describe", postJson("describe", "/v1/describe", body), 200);
                } else if (pick < 82) {
                    ObjectNode body = JSON.createObjectNode().put("image", sharedId);
                    body.putArray("prompts").add(box(rnd));
                    expect("segment", postJson("segment", "/v1/segment", body), 200);
                } else if (pick < 94) {
                    expect("models-health", get("models-health", rnd.nextBoolean() ? "/v1/models" : "/health"), 200);
                } else {
                    ObjectNode bad = chat(sharedId, "What is <region2>?");
                    bad.putArray("regions").add(box(rnd));
                    expect("refused-400", postJson("refused-400", "/v1/chat/completions", bad), 400);
                }
            } catch (RuntimeException e) {
                unexpectedCount.incrementAndGet();
                if (unexpected.size() < 20) {
                    unexpected.add(e.toString());
                }
            }
        }
    }

    /** A streamed question; returns its time to first token in ms, or null when it was refused. */
    private Double ask(String kind, String image, ObjectNode region, long seed, List<Double> ttfts) {
        ObjectNode body = chat(image, "Paint a detailed verbal picture of <region1>.").put("stream", true)
                .put("max_tokens", maxTokens).put("seed", seed);
        body.putArray("regions").add(region);
        long t0 = System.nanoTime();
        HttpResponse<InputStream> resp;
        try {
            resp = http.send(request("/v1/chat/completions").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Double ttft = null;
        boolean done = false;
        String errorBody = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            if (resp.statusCode() != 200) {
                errorBody = in.lines().reduce("", String::concat);
            } else {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.equals("data: [DONE]")) {
                        done = true;
                    } else if (line.startsWith("data: ") && ttft == null && line.contains("\"content\":\"")
                            && !line.contains("\"content\":\"\"")) {
                        ttft = (System.nanoTime() - t0) / 1e6;
                    } else if (line.startsWith("data: ") && line.contains("\"error\"")) {
                        errorBody = line;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        requests.incrementAndGet();
        count(kind, resp.statusCode());
        if (resp.statusCode() == 503) {
            backOff(resp.headers().firstValue("Retry-After").orElse("1"));
            return null;
        }
        if (resp.statusCode() != 200 || !done || errorBody != null) {
            throw new IllegalStateException(kind + ": " + resp.statusCode() + " " + errorBody);
        }
        latencies.computeIfAbsent(kind, k -> new CopyOnWriteArrayList<>()).add(ms);
        double t = ttft == null ? ms : ttft;
        if (ttfts != null) {
            ttfts.add(t);
        }
        return t;
    }

    private void followUp(SplittableRandom rnd) {
        ObjectNode region = box(rnd);
        ObjectNode first = chat(sharedId, "What is <region1>?").put("max_tokens", maxTokens)
                .put("seed", rnd.nextLong());
        first.putArray("regions").add(region);
        ObjectNode second = first.deepCopy();
        ArrayNode messages = (ArrayNode) second.get("messages");
        messages.addObject().put("role", "assistant").put("content", "It is a small object.");
        messages.addObject().put("role", "user").put("content", "What colour is it?");
        Reply r = postJson("follow-up", "/v1/chat/completions", second);
        if (expect("follow-up", r, 200)) {
            String answer = json(r.body).path("choices").get(0).path("message").path("content").asText();
            ObjectNode third = second.deepCopy();
            ArrayNode m3 = (ArrayNode) third.get("messages");
            m3.addObject().put("role", "assistant").put("content", answer);
            m3.addObject().put("role", "user").put("content", "Where is it?");
            expect("follow-up", postJson("follow-up", "/v1/chat/completions", third), 200);
        }
    }

    private ObjectNode box(SplittableRandom rnd) {
        int x1 = rnd.nextInt(width / 2);
        int y1 = rnd.nextInt(height / 2);
        ObjectNode r = JSON.createObjectNode();
        r.putArray("box").add(x1).add(y1).add(x1 + 1 + rnd.nextInt(width / 2)).add(y1 + 1 + rnd.nextInt(height / 2));
        return r;
    }

    private static ObjectNode chat(String image, String text) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", "osprey");
        ArrayNode content = body.putArray("messages").addObject().put("role", "user").putArray("content");
        content.addObject().put("type", "image_url").putObject("image_url").put("url", image);
        content.addObject().put("type", "text").put("text", text);
        return body;
    }

    /** The scene with one pixel changed: new bytes, a new image to encode. */
    private byte[] variant(int client, int n) {
        try {
            BufferedImage img = ImageIO.read(new java.io.ByteArrayInputStream(scene));
            BufferedImage copy = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
            copy.getGraphics().drawImage(img, 0, 0, null);
            copy.setRGB(n % img.getWidth(), client % img.getHeight(), 0x010203 * (1 + n % 80));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(copy, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record Reply(int status, String body, String retryAfter) {
    }

    private boolean expect(String kind, Reply r, int status) {
        count(kind, r.status);
        if (r.status == 503) {
            backOff(r.retryAfter);
            return false;
        }
        if (r.status != status) {
            throw new IllegalStateException(kind + ": expected " + status + ", got " + r.status + " " + r.body);
        }
        return true;
    }

    private void count(String kind, int status) {
        statuses.computeIfAbsent(kind, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
    }

    private static void backOff(String retryAfter) {
        double s;
        try {
            s = Double.parseDouble(retryAfter);
        } catch (NumberFormatException e) {
            s = 1;
        }
        try {
            Thread.sleep((long) (Math.min(1, s) * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(300));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return b;
    }

    private HttpRequest post(String path, byte[] body, String type) {
        return request(path).header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    private Reply postJson(String kind, String path, JsonNode body) {
        return send(kind, post(path, body.toString().getBytes(StandardCharsets.UTF_8), "application/json"));
    }

    private Reply get(String kind, String path) {
        return send(kind, request(path).GET().build());
    }

    private Reply send(String kind, HttpRequest r) {
        long t0 = System.nanoTime();
        try {
            HttpResponse<String> resp = http.send(r, HttpResponse.BodyHandlers.ofString());
            requests.incrementAndGet();
            if (resp.statusCode() == 200) {
                latencies.computeIfAbsent(kind, x -> new CopyOnWriteArrayList<>()).add((System.nanoTime() - t0) / 1e6);
            }
            return new Reply(resp.statusCode(), resp.body(), resp.headers().firstValue("Retry-After").orElse("1"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
