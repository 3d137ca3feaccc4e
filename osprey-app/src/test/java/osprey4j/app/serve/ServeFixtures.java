package osprey4j.app.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import osprey4j.service.OspreyService;

/** The demo model, its example image, and an HTTP client for tests against a real {@code osprey serve}. */
final class ServeFixtures {
    static final Path DEMO = Path.of("..", "models", "demo");
    static final Path SCENE = DEMO.resolve("example").resolve("scene.png");
    static final Path REGION = DEMO.resolve("example").resolve("region.png");
    static final ObjectMapper JSON = new ObjectMapper();

    private static OspreyService service;

    private ServeFixtures() {
    }

    /** One loaded demo model for every test class in the JVM (weights are only read). */
    static synchronized OspreyService service() {
        if (service == null) {
            service = OspreyService.load(DEMO, w -> { });
        }
        return service;
    }

    static byte[] sceneBytes() {
        try {
            return Files.readAllBytes(SCENE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String dataUrl(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }

    /** A client for one server. */
    static final class Client {
        final URI base;
        final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        String key;

        Client(URI base) {
            this.base = base;
        }

        record Reply(int status, JsonNode json, String body, HttpResponse<String> raw) {
            String errorCode() {
                return json == null ? null : json.path("error").path("code").asText(null);
            }

            String errorMessage() {
                return json == null ? body : json.path("error").path("message").asText("");
            }
        }

        HttpRequest.Builder request(String path) {
            HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(120));
            if (key != null) {
                b.header("Authorization", "Bearer " + key);
            }
            return b;
        }

        Reply send(HttpRequest r) {
            try {
                HttpResponse<String> resp = http.send(r, HttpResponse.BodyHandlers.ofString());
                JsonNode json = null;
                String type = resp.headers().firstValue("content-type").orElse("");
                if (type.startsWith("application/json")) {
                    json = JSON.readTree(resp.body());
                }
                return new Reply(resp.statusCode(), json, resp.body(), resp);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        Reply get(String path) {
            return send(request(path).GET().build());
        }

        Reply delete(String path) {
            return send(request(path).DELETE().build());
        }

        Reply post(String path, JsonNode body) {
            return postRaw(path, body.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    "application/json");
        }

        Reply postRaw(String path, byte[] body, String type) {
            return send(request(path).header("Content-Type", type)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        }

        /** Uploads an image and returns its id. */
        String upload(byte[] png) {
            Reply r = postRaw("/v1/images", png, "image/png");
            if (r.status != 200) {
                throw new AssertionError("upload failed: " + r.status + " " + r.body);
            }
            return r.json.path("id").asText();
        }

        /** The data lines of an SSE response, [DONE] included. */
        static List<String> events(String body) {
            List<String> out = new ArrayList<>();
            for (String block : body.split("\n\n")) {
                if (block.startsWith("data: ")) {
                    out.add(block.substring(6));
                }
            }
            return out;
        }

        /** The value of a metric line (first match of {@code name{labels}} or {@code name}), or 0. */
        double metric(String nameAndLabels) {
            String text = get("/metrics").body;
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(nameAndLabels) + " (\\S+)$").matcher(text);
            return m.find() ? Double.parseDouble(m.group(1)) : 0;
        }
    }

    /** A chat request with one user message: the text and the image. */
    static ObjectNode chat(String imageRef, String text) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", "demo");
        ArrayNode content = body.putArray("messages").addObject().put("role", "user").putArray("content");
        content.addObject().put("type", "image_url").putObject("image_url").put("url", imageRef);
        content.addObject().put("type", "text").put("text", text);
        return body;
    }

    static ObjectNode box(ArrayNode regions, int x1, int y1, int x2, int y2) {
        ObjectNode r = regions.addObject();
        r.putArray("box").add(x1).add(y1).add(x2).add(y2);
        return r;
    }

    static byte[] png(java.awt.image.BufferedImage img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            javax.imageio.ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
