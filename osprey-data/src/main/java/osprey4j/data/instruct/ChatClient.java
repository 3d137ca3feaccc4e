package osprey4j.data.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client for any OpenAI-compatible {@code /chat/completions} endpoint. Transient failures (HTTP 429 and 5xx,
 * timeouts, dropped connections, a body that is not the expected JSON) are retried with exponential backoff and
 * full jitter, waiting at least as long as a {@code Retry-After} header asks. Other 4xx answers are not retried:
 * they mean the request itself is wrong (bad key, unknown model).
 */
public final class ChatClient {
    /** A chat message: {@code role} is {@code system}, {@code user} or {@code assistant}. */
    public record Message(String role, String content) {
    }

    /** A reply's text and the tokens the endpoint says it used. */
    public record Reply(String content, long promptTokens, long completionTokens) {
    }

    /**
     * @param endpoint     full URL of the chat-completions resource
     * @param timeout      per-request limit (connect plus the whole reply)
     * @param maxAttempts  tries per call, the first included
     * @param baseBackoff  wait before the first retry; doubled each time, with full jitter, capped at maxBackoff
     */
    public record Settings(URI endpoint, String model, String apiKey, Duration timeout, int maxAttempts,
                           Duration baseBackoff, Duration maxBackoff, double temperature) {
        /** A base URL ({@code http://host/v1}) or the full resource URL both work. */
        public static URI endpoint(String url) {
            String u = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
            return URI.create(u.endsWith("/chat/completions") ? u : u + "/chat/completions");
        }
    }

    /** The call gave up: every attempt failed, or the endpoint refused the request. */
    public static final class ChatException extends IOException {
        private final boolean refused;

        public ChatException(String message, boolean refused) {
            super(message);
            this.refused = refused;
        }

        /** True when the endpoint refused the request (4xx other than 429): retrying other tasks will not help. */
        public boolean refused() {
            return refused;
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Settings settings;
    private final HttpClient http;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    // Tokens of every reply received, including ones later found invalid: they are paid for all the same.
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong completionTokens = new AtomicLong();

    public ChatClient(Settings settings) {
        this.settings = settings;
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    public long requests() {
        return requests.get();
    }

    public long retries() {
        return retries.get();
    }

    public long promptTokens() {
        return promptTokens.get();
    }

    public long completionTokens() {
        return completionTokens.get();
    }

    /** Sends the messages and returns the first choice's text, retrying transient failures. */
    public Reply complete(List<Message> messages) throws IOException, InterruptedException {
        return complete(messages, 0);
    }

    /**
     * {@link #complete(List)} with a bound on the reply's tokens ({@code max_tokens}); 0 sends none.
     */
    public Reply complete(List<Message> messages, int maxTokens) throws IOException, InterruptedException {
        byte[] body = requestBody(messages, maxTokens);
        String last = "no attempt made";
        for (int attempt = 1; attempt <= settings.maxAttempts(); attempt++) {
            if (attempt > 1) {
                retries.incrementAndGet();
            }
            Duration retryAfter = null;
            requests.incrementAndGet();
            try {
                HttpRequest.Builder rb = HttpRequest.newBuilder(settings.endpoint()).timeout(settings.timeout())
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
                if (settings.apiKey() != null && !settings.apiKey().isEmpty()) {
                    rb.header("Authorization", "Bearer " + settings.apiKey());
                }
                HttpResponse<String> resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
                int code = resp.statusCode();
                if (code == 200) {
                    Reply r = parse(resp.body());
                    if (r != null) {
                        promptTokens.addAndGet(r.promptTokens());
                        completionTokens.addAndGet(r.completionTokens());
                        return r;
                    }
                    last = "HTTP 200 with a body that is not a chat completion";
                } else if (code == 429 || code >= 500) {
                    last = "HTTP " + code;
                    retryAfter = retryAfter(resp);
                } else {
                    throw new ChatException("the endpoint refused the request: HTTP " + code + " "
                            + abbreviate(resp.body()), true);
                }
            } catch (HttpTimeoutException e) {
                last = "timed out after " + settings.timeout().toMillis() + " ms";
            } catch (ChatException e) {
                throw e;
            } catch (IOException e) {
                last = "I/O error: " + e.getMessage();
            }
            if (attempt < settings.maxAttempts()) {
                Thread.sleep(backoff(attempt, retryAfter).toMillis());
            }
        }
        throw new ChatException("gave up after " + settings.maxAttempts() + " attempts; last: " + last, false);
    }

    private byte[] requestBody(List<Message> messages, int maxTokens) throws IOException {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("model", settings.model());
        o.put("temperature", settings.temperature());
        if (maxTokens > 0) {
            o.put("max_tokens", maxTokens);
        }
        ArrayNode ms = o.putArray("messages");
        for (Message m : messages) {
            ms.addObject().put("role", m.role()).put("content", m.content());
        }
        return MAPPER.writeValueAsBytes(o);
    }

    /** The first choice's content and the usage, or null if the body is not a chat completion. */
    static Reply parse(String body) {
        try {
            JsonNode root = MAPPER.readTree(body);
            JsonNode content = root.path("choices").path(0).path("message").path("content");
            if (!content.isTextual()) {
                return null;
            }
            JsonNode usage = root.path("usage");
            return new Reply(content.asText(), usage.path("prompt_tokens").asLong(0),
                    usage.path("completion_tokens").asLong(0));
        } catch (IOException e) {
            return null;
        }
    }

    /** Full-jitter exponential backoff, never shorter than the server's Retry-After. */
    Duration backoff(int attempt, Duration retryAfter) {
        long cap = Math.min(settings.maxBackoff().toMillis(), settings.baseBackoff().toMillis() << Math.min(20, attempt - 1));
        long wait = ThreadLocalRandom.current().nextLong(cap + 1);
        if (retryAfter != null) {
            wait = Math.max(wait, Math.min(retryAfter.toMillis(), settings.maxBackoff().toMillis()));
        }
        return Duration.ofMillis(wait);
    }

    /** {@code Retry-After} as delta-seconds or an HTTP date; null when absent or unreadable. */
    static Duration retryAfter(HttpResponse<?> resp) {
        String v = resp.headers().firstValue("Retry-After").orElse(null);
        if (v == null) {
            return null;
        }
        try {
            return Duration.ofMillis((long) (Double.parseDouble(v.strip()) * 1000));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v.strip(), DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (RuntimeException ignored) {
                return null;
            }
        }
    }

    private static String abbreviate(String s) {
        String one = s == null ? "" : s.replaceAll("\\s+", " ").strip();
        return one.length() > 200 ? one.substring(0, 200) + "..." : one;
    }
}
