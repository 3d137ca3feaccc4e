package osprey4j.data.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for an OpenAI-compatible chat-completions endpoint, on 127.0.0.1 and an ephemeral port. It
 * answers each prompt the way the real thing should (reads how many regions the prompt marks and which kind of
 * text the system message asks for) and, on request, injects faults: the queued faults are used by the next
 * requests in order, then every request is answered normally.
 */
public final class FakeChatServer implements AutoCloseable {
    public enum Fault {
        /** HTTP 429 with {@code Retry-After: 1}. */
        RATE_LIMITED,
        /** HTTP 500. */
        SERVER_ERROR,
        /** Answers after 1.5 s (beyond the tests' per-request timeout). */
        SLOW,
        /** HTTP 200 with a body cut in the middle of the JSON. */
        BROKEN_JSON,
        /** Closes the connection without answering. */
        DROP,
        /** A well-formed completion whose text ignores the requested format. */
        INVALID_REPLY,
        /** HTTP 401. */
        UNAUTHORISED
    }

    private static final ObjectMapper M = new ObjectMapper();
    private static final Pattern REGIONS = Pattern.compile("Marked regions: (\\d+) \\(");

    private final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(16);
    private final Queue<Fault> faults = new ConcurrentLinkedQueue<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final List<String> authorisations = java.util.Collections.synchronizedList(new ArrayList<>());
    private volatile long delayMillis;

    public FakeChatServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/v1/chat/completions", this::handle);
        server.setExecutor(pool);
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    public FakeChatServer inject(Fault... fs) {
        faults.addAll(List.of(fs));
        return this;
    }

    /** Every normal answer waits this long first (to keep requests in flight). */
    public FakeChatServer delay(long millis) {
        delayMillis = millis;
        return this;
    }

    public int requests() {
        return requests.get();
    }

    public int maxInFlight() {
        return maxInFlight.get();
    }

    public List<String> authorisations() {
        return List.copyOf(authorisations);
    }

    private void handle(HttpExchange ex) throws IOException {
        requests.incrementAndGet();
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        try {
            authorisations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            JsonNode req = M.readTree(ex.getRequestBody());
            Fault f = faults.poll();
            if (f == Fault.DROP) {
                ex.close();   // no status line: the client sees the connection end
                return;
            }
            if (f == Fault.RATE_LIMITED) {
                ex.getResponseHeaders().add("Retry-After", "1");
                send(ex, 429, "{\"error\":{\"message\":\"slow down\"}}");
                return;
            }
            if (f == Fault.SERVER_ERROR) {
                send(ex, 500, "{\"error\":{\"message\":\"internal\"}}");
                return;
            }
            if (f == Fault.UNAUTHORISED) {
                send(ex, 401, "{\"error\":{\"message\":\"bad key\"}}");
                return;
            }
            if (f == Fault.SLOW) {
                sleep(1500);
            } else if (delayMillis > 0) {
                sleep(delayMillis);
            }
            String content = f == Fault.INVALID_REPLY ? "I would rather talk about the weather." : answer(req);
            ObjectNode resp = M.createObjectNode().put("id", "chatcmpl-fake").put("object", "chat.completion")
                    .put("model", req.path("model").asText());
            resp.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop").putObject("message")
                    .put("role", "assistant").put("content", content);
            int promptTokens = req.toString().length() / 4;
            int completionTokens = content.length() / 4;
            resp.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens)
                    .put("total_tokens", promptTokens + completionTokens);
            String body = M.writeValueAsString(resp);
            if (f == Fault.BROKEN_JSON) {
                body = body.substring(0, body.length() / 2);
            }
            send(ex, 200, body);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** A reply in the format the system message asks for, mentioning every marked region. */
    static String answer(JsonNode req) {
        JsonNode messages = req.path("messages");
        String system = messages.path(0).path("content").asText();
        String user = messages.path(messages.size() - 1).path("content").asText();
        Matcher m = REGIONS.matcher(user);
        int n = m.find() ? Integer.parseInt(m.group(1)) : 1;
        StringBuilder b = new StringBuilder();
        if (system.contains("detailed description")) {
            for (int i = 1; i <= n; i++) {
                b.append(i > 1 ? "\n\n" : "").append("<region").append(i).append(">: An object seen in detail, ")
                        .append("number ").append(i).append('.');
            }
        } else {
            boolean shortForm = system.contains("single word");
            for (int i = 1; i <= n; i++) {
                b.append(i > 1 ? "\n\n" : "").append("Question ").append(i).append(": What is in <region").append(i)
                        .append(">?\n\nAnswer ").append(i).append(": ")
                        .append(shortForm ? "Object " + i + "." : "It is object number " + i + ", seen clearly.");
            }
        }
        return b.toString();
    }

    private static void send(HttpExchange ex, int code, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(bytes);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
