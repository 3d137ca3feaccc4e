package osprey4j.app.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import osprey4j.core.mask.Mask;
import osprey4j.core.prompt.ConversationPrompt;
import osprey4j.core.prompt.RegionPrompt;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.model.Chat;
import osprey4j.model.GenerationOptions;
import osprey4j.service.AskRequest;
import osprey4j.service.AskResult;
import osprey4j.service.ChatSession;
import osprey4j.service.DescribeProgress;
import osprey4j.service.DescribeRequest;
import osprey4j.service.DescribeResult;
import osprey4j.service.OspreyService;
import osprey4j.service.RegionDescription;
import osprey4j.service.Segmenter;

/**
 * The HTTP API of {@code osprey serve}: routes, limits, streaming. Every model request passes the
 * {@link Admission} queue; every refusal is an OpenAI-style error body with a 4xx/5xx status.
 */
final class ApiServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern IMAGE_ID = Pattern.compile("img-[0-9a-f]{24}");

    private final transient OspreyService service;
    private final transient Segmenter segmenter;
    private final transient ServerConfig config;
    private final transient Metrics metrics;
    private final transient Admission admission;
    private final transient ImageStore images;
    private final transient ConversationStore conversations;
    private final long startedAt = System.currentTimeMillis() / 1000;

    ApiServlet(OspreyService service, Segmenter segmenter, ServerConfig config, Metrics metrics) {
        this.service = service;
        this.segmenter = segmenter;
        this.config = config;
        this.metrics = metrics;
        this.admission = new Admission(config.workers(), config.queueDepth(), metrics);
        this.conversations = new ConversationStore(config.chatCacheBytes(), metrics);
        this.images = new ImageStore(config.imageCacheBytes(), metrics, conversations::dropImage);
        metrics.gauge("osprey_queue_length", admission::queued);
        metrics.gauge("osprey_running_requests", admission::active);
        metrics.gauge("osprey_cached_images", images::size);
        metrics.gauge("osprey_cached_image_bytes", images::byteSize);
        metrics.gauge("osprey_cached_conversations", conversations::size);
        metrics.gauge("osprey_cached_conversation_bytes", conversations::byteSize);
        metrics.gauge("osprey_jvm_heap_used_bytes", () -> {
            Runtime r = Runtime.getRuntime();
            return r.totalMemory() - r.freeMemory();
        });
    }

    @Override
    public void destroy() {
        conversations.closeAll();
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        long t0 = System.nanoTime();
        String path = req.getRequestURI();
        String method = req.getMethod();
        String endpoint = endpointName(path);
        int[] status = {200};
        try {
            if (needsKey(path)) {
                checkKey(req);
            }
            route(method, path, req, resp, t0);
        } catch (ApiException e) {
            status[0] = e.status;
            if (!resp.isCommitted()) {
                sendError(resp, e);
            } else {
                streamError(resp, e);
            }
        } catch (ClientGoneException e) {
            status[0] = 499;
            metrics.cancelled.increment();
        } catch (RuntimeException e) {
            status[0] = 500;
            if (!resp.isCommitted()) {
                sendError(resp, new ApiException(500, "server_error", null, null, "internal error: "
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), 0));
            }
            log("request failed: " + method + " " + path, e);
        } finally {
            metrics.request(endpoint, status[0], (System.nanoTime() - t0) / 1e9);
        }
    }

    private static String endpointName(String path) {
        if (path.startsWith("/v1/images")) {
            return "/v1/images";
        }
        return switch (path) {
            case "/v1/chat/completions", "/chat/completions" -> "/v1/chat/completions";
            case "/v1/describe", "/v1/segment", "/v1/models", "/health", "/metrics", "/" -> path;
            default -> path.startsWith("/static/") ? "/static" : "other";
        };
    }

    private boolean needsKey(String path) {
        return config.apiKey() != null && (path.startsWith("/v1/") || path.startsWith("/chat/")
                || path.equals("/metrics"));
    }

    private void checkKey(HttpServletRequest req) {
        String auth = req.getHeader("Authorization");
        String given = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).strip() : "";
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                config.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "invalid_request_error", "invalid_api_key", null,
                    "missing or wrong API key: send 'Authorization: Bearer <key>'", 0);
        }
    }

    private void route(String method, String path, HttpServletRequest req, HttpServletResponse resp, long t0)
            throws IOException {
        switch (method + " " + path) {
            case "GET /", "GET /index.html" -> StaticPage.serve("index.html", resp);
            case "GET /static/app.js" -> StaticPage.serve("app.js", resp);
            case "GET /static/app.css" -> StaticPage.serve("app.css", resp);
            case "GET /health" -> health(resp);
            case "GET /metrics" -> {
                resp.setContentType("text/plain; version=0.0.4; charset=utf-8");
                resp.getOutputStream().write(metrics.write().getBytes(StandardCharsets.UTF_8));
            }
            case "GET /v1/models" -> models(resp);
            case "POST /v1/images" -> upload(req, resp);
            case "POST /v1/chat/completions", "POST /chat/completions" -> chat(req, resp, t0);
            case "POST /v1/describe" -> describe(req, resp);
            case "POST /v1/segment" -> segment(req, resp);
            default -> {
                if (path.startsWith("/v1/images/") && (method.equals("GET") || method.equals("DELETE"))) {
                    imageInfo(method, path.substring("/v1/images/".length()), resp);
                } else {
                    throw new ApiException(404, "invalid_request_error", "not_found", null, "no route " + method
                            + " " + path, 0);
                }
            }
        }
    }

    // ---- simple endpoints -------------------------------------------------------------------------------------

    private void health(HttpServletResponse resp) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("status", "ok");
        o.put("model", config.modelName());
        o.put("segment", segmenter != null);
        o.put("queued", admission.queued());
        o.put("running", admission.active());
        o.put("cached_images", images.size());
        send(resp, 200, o);
    }

    private void models(HttpServletResponse resp) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("object", "list");
        ObjectNode m = o.putArray("data").addObject();
        m.put("id", config.modelName());
        m.put("object", "model");
        m.put("created", startedAt);
        m.put("owned_by", "osprey4j");
        m.put("max_positions", service.maxPositions());
        m.put("segment", segmenter == null ? null : segmenter.name());
        send(resp, 200, o);
    }

    private void imageInfo(String method, String id, HttpServletResponse resp) throws IOException {
        if (method.equals("DELETE")) {
            boolean removed = images.remove(id);
            if (removed) {
                conversations.dropImage(id);
            }
            if (!removed) {
                throw ApiException.notFound("no image " + id);
            }
            ObjectNode o = JSON.createObjectNode().put("id", id).put("object", "image").put("deleted", true);
            send(resp, 200, o);
            return;
        }
        ImageStore.Entry e = images.get(id);
        if (e == null) {
            throw ApiException.notFound("no image " + id + " (never uploaded, or evicted: upload it again)");
        }
        send(resp, 200, imageJson(e, true));
    }

    private ObjectNode imageJson(ImageStore.Entry e, boolean cached) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", e.id);
        o.put("object", "image");
        o.put("width", e.image.width());
        o.put("height", e.image.height());
        o.put("cached", cached);
        o.put("encode_ms", round(e.session.encodeMs()));
        o.put("alpha_region", e.alphaMask != null);
        return o;
    }

    // ---- images -----------------------------------------------------------------------------------------------

    private void upload(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String type = req.getContentType() == null ? "" : req.getContentType().toLowerCase(Locale.ROOT);
        byte[] bytes;
        if (type.startsWith("application/json")) {
            JsonNode body = readJson(req);
            String url = body.path("image").asText(null);
            if (url == null) {
                throw ApiException.invalid("image", "the JSON body needs \"image\": a data:image/...;base64 URL");
            }
            bytes = ImageInput.fromDataUrl(url, config.maxUploadBytes());
        } else if (type.startsWith("image/") || type.startsWith("application/octet-stream") || type.isEmpty()) {
            bytes = readBody(req, config.maxUploadBytes());
        } else {
            throw new ApiException(415, "invalid_request_error", "unsupported_media_type", null, "send the image as"
                    + " the body (Content-Type image/...) or as JSON {\"image\": data URL}, not " + type, 0);
        }
        ImageInput.Decoded decoded = ImageInput.decode(bytes, config.maxUploadBytes(), config.maxMegapixels());
        try (Admission.Ticket t = admission.enter()) {
            ImageStore.Lookup l = images.getOrEncode(decoded, service::encode);
            send(resp, 200, imageJson(l.entry(), l.cached()));
        }
    }

    /** The image a request names: an uploaded id, or a data URL (decoded and cached like an upload). */
    private ImageStore.Lookup resolveImage(String ref) {
        if (IMAGE_ID.matcher(ref).matches()) {
            ImageStore.Entry e = images.get(ref);
            if (e == null) {
                throw ApiException.notFound("no image " + ref + " (never uploaded, or evicted: upload it again)");
            }
            return new ImageStore.Lookup(e, true);
        }
        if (ref.startsWith("data:")) {
            byte[] bytes = ImageInput.fromDataUrl(ref, config.maxUploadBytes());
            ImageStore.Entry held = images.get(ImageInput.idOf(bytes));
            if (held != null) {
                return new ImageStore.Lookup(held, true); // the same bytes were encoded before: not even decoded
            }
            ImageInput.Decoded d = ImageInput.decode(bytes, config.maxUploadBytes(), config.maxMegapixels());
            return images.getOrEncode(d, service::encode);
        }
        throw ApiException.invalid("image_url", "an image must be a data:image/...;base64 URL or an id from POST"
                + " /v1/images (img-...); this server never fetches URLs or reads paths");
    }

    // ---- chat -------------------------------------------------------------------------------------------------

    private void chat(HttpServletRequest req, HttpServletResponse resp, long t0) throws IOException {
        ChatRequest cr = ChatRequest.parse(readJson(req), config);
        checkReferences(cr);
        try (Admission.Ticket t = admission.enter()) {
            ImageStore.Lookup lookup = resolveImage(cr.imageRef());
            ImageStore.Entry e = lookup.entry();
            List<Mask> masks = new ArrayList<>();
            String question = cr.question();
            if (e.alphaMask != null) {
                masks.add(e.alphaMask);
                question = withoutImagePrefix(question);
            }
            masks.addAll(RegionSpecs.masks(cr.regions(), e.image.width(), e.image.height(), segmenter,
                    () -> e.prepared(segmenter)));
            if (masks.size() > config.maxRegions()) {
                throw ApiException.limit("too_many_regions", "regions", "the request has " + masks.size()
                        + " regions; the limit is " + config.maxRegions() + " (--max-regions)");
            }
            String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
            long created = System.currentTimeMillis() / 1000;
            Sse sse = cr.stream() ? new Sse(resp) : null;
            if (sse != null) {
                ObjectNode first = chunk(id, created);
                first.withArray("choices").addObject().put("index", 0).putNull("finish_reason")
                        .putObject("delta").put("role", "assistant").put("content", "");
                sse.data(first);
            }
            AnswerStream stream = new AnswerStream(cr.stop(), sse == null ? s -> { } : s -> {
                ObjectNode c = chunk(id, created);
                c.withArray("choices").addObject().put("index", 0).putNull("finish_reason")
                        .putObject("delta").put("content", s);
                sse.data(c);
            });
            List<String> warnings = new CopyOnWriteArrayList<>();
            Consumer<String> warn = warnings::add;
            boolean single = cr.history().isEmpty() && (masks.isEmpty() || refersToRegions(question));
            AskResult r;
            try {
                r = single ? service.ask(e.session, new AskRequest(e.id, masks, question, cr.options()), stream, warn)
                        : converse(e, masks, cr.history(), question, cr.options(), stream, warn);
            } catch (ClientGoneException gone) {
                throw gone;
            } catch (Chat.ContextFullException full) {
                throw new ApiException(400, "invalid_request_error", "context_length_exceeded", "messages",
                        full.getMessage(), 0);
            } catch (IllegalArgumentException bad) {
                throw ApiException.invalid(bad.getMessage());
            }
            String text = stream.finish(r.text());
            if (stream.firstTokenNanos() > 0) {
                double ttft = (stream.firstTokenNanos() - t0) / 1e9;
                (lookup.cached() ? metrics.ttftWarm : metrics.ttftCold).observe(ttft);
            }
            account(r);
            String finish = stream.stoppedByString() ? "stop"
                    : r.tokens().length >= cr.options().maxNewTokens() ? "length" : "stop";
            ObjectNode usage = usage(r, lookup.cached(), warnings, t0, stream.firstTokenNanos());
            if (sse != null) {
                ObjectNode last = chunk(id, created);
                last.withArray("choices").addObject().put("index", 0).put("finish_reason", finish)
                        .putObject("delta");
                sse.data(last);
                if (cr.includeUsage()) {
                    ObjectNode u = chunk(id, created);
                    u.putArray("choices");
                    u.set("usage", usage);
                    sse.data(u);
                }
                sse.done();
                return;
            }
            ObjectNode o = JSON.createObjectNode();
            o.put("id", id);
            o.put("object", "chat.completion");
            o.put("created", created);
            o.put("model", config.modelName());
            ObjectNode choice = o.putArray("choices").addObject();
            choice.put("index", 0);
            choice.putObject("message").put("role", "assistant").put("content", text);
            choice.putNull("logprobs");
            choice.put("finish_reason", finish);
            o.set("usage", usage);
            send(resp, 200, o);
        }
    }

    /** A turn of a conversation, continuing a kept one when the client's history is what it holds. */
    private AskResult converse(ImageStore.Entry e, List<Mask> masks, List<String[]> history, String question,
                               GenerationOptions options, AnswerStream stream, Consumer<String> warn) {
        List<String> regionKeys = masks.stream().map(RegionSpecs::canonical).toList();
        String key = ConversationStore.key(e.id, regionKeys, history);
        ChatSession chat = conversations.take(key);
        if (chat == null) {
            chat = service.chat(e.session, e.id, warn);
            for (Mask m : masks) {
                chat.addRegion(m);
            }
            for (String[] turn : history) {
                chat.replay(turn[0], turn[1]);
            }
        }
        boolean kept = false;
        try {
            AskResult r = chat.ask(question, options, stream);
            List<String[]> after = new ArrayList<>(history);
            after.add(new String[] {question, r.text()});
            conversations.put(ConversationStore.key(e.id, regionKeys, after), e.id, chat);
            kept = true;
            return r;
        } finally {
            if (!kept) {
                chat.close();
            }
        }
    }

    /**
     * Refuses, before the request waits for a worker, a question that refers to more regions than it can have (the
     * regions given, plus one when the image may bring an alpha region).
     */
    private void checkReferences(ChatRequest cr) {
        boolean mayHaveAlpha = true;
        if (IMAGE_ID.matcher(cr.imageRef()).matches()) {
            ImageStore.Entry e = images.get(cr.imageRef());
            if (e == null) {
                throw ApiException.notFound("no image " + cr.imageRef() + " (never uploaded, or evicted: upload it"
                        + " again)");
            }
            mayHaveAlpha = e.alphaMask != null;
        }
        int count = cr.regions().size() + (mayHaveAlpha ? 1 : 0);
        try {
            for (String[] turn : cr.history()) {
                ConversationPrompt.check(turn[0], count);
            }
            ConversationPrompt.check(cr.question(), count);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("messages", e.getMessage());
        }
    }

    private static boolean refersToRegions(String question) {
        return RegionPrompt.REFERENCE.matcher(question).find() || question.contains(RegionPrompt.MASK_TOKEN);
    }

    /** Describe Anything's clients start their text with "Image:" and "<image>": the server adds its own. */
    private static String withoutImagePrefix(String q) {
        String s = q.strip();
        if (s.startsWith("Image:")) {
            s = s.substring("Image:".length()).strip();
        }
        while (s.startsWith("<image>")) {
            s = s.substring("<image>".length()).strip();
        }
        return s;
    }

    private void account(AskResult r) {
        metrics.generatedTokens.add(r.tokens().length);
        metrics.decodeSeconds.add(r.timings().decodeMs() / 1000);
        metrics.promptTokens.add(r.promptTokens());
        metrics.reusedPromptTokens.add(r.timings().reusedPromptTokens());
    }

    private ObjectNode usage(AskResult r, boolean imageCached, List<String> warnings, long t0, long firstToken) {
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", r.promptTokens());
        u.put("completion_tokens", r.tokens().length);
        u.put("total_tokens", r.promptTokens() + r.tokens().length);
        u.putObject("prompt_tokens_details").put("cached_tokens", r.timings().reusedPromptTokens());
        ObjectNode x = u.putObject("osprey");
        x.put("image_cached", imageCached);
        x.put("encode_ms", imageCached ? 0 : round(r.timings().encodeMs()));
        x.put("prefill_ms", round(r.timings().prefillMs()));
        x.put("decode_ms", round(r.timings().decodeMs()));
        if (firstToken > 0) {
            x.put("time_to_first_token_ms", round((firstToken - t0) / 1e6));
        }
        if (!warnings.isEmpty()) {
            ArrayNode w = x.putArray("warnings");
            warnings.forEach(w::add);
        }
        return u;
    }

    private ObjectNode chunk(String id, long created) {
        ObjectNode c = JSON.createObjectNode();
        c.put("id", id);
        c.put("object", "chat.completion.chunk");
        c.put("created", created);
        c.put("model", config.modelName());
        return c;
    }

    // ---- describe ---------------------------------------------------------------------------------------------

    private void describe(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        JsonNode body = readJson(req);
        String ref = body.path("image").asText(null);
        if (ref == null) {
            throw ApiException.invalid("image", "describe needs \"image\": an id from POST /v1/images or a data URL");
        }
        List<RegionSpecs.Spec> specs = RegionSpecs.parse(body.get("regions"), config.maxRegions());
        boolean everything = body.path("everything").asBoolean(false);
        if (specs.isEmpty() && !everything) {
            throw ApiException.invalid("regions", "describe needs regions, or \"everything\": true (with SAM)");
        }
        if (everything && segmenter == null) {
            throw new ApiException(400, "invalid_request_error", "segmenter_required", "everything",
                    "\"everything\" needs a SAM checkpoint (--sam); this server has none, so give the regions", 0);
        }
        String detailName = body.path("detail").asText("short");
        DescribeRequest.Detail detail = switch (detailName) {
            case "short" -> DescribeRequest.Detail.SHORT;
            case "detailed" -> DescribeRequest.Detail.DETAILED;
            default -> throw ApiException.invalid("detail", "detail is short or detailed, not " + detailName);
        };
        GenerationOptions options = ChatRequest.options(body, config);
        boolean streamed = body.path("stream").asBoolean(false);
        try (Admission.Ticket t = admission.enter()) {
            ImageStore.Entry e = resolveImage(ref).entry();
            List<Mask> masks = new ArrayList<>(RegionSpecs.masks(specs, e.image.width(), e.image.height(), segmenter,
                    () -> e.prepared(segmenter)));
            if (everything) {
                List<Mask> found = segmenter.everything(e.prepared(segmenter));
                masks.addAll(found.subList(0, Math.min(found.size(), config.maxRegions() - masks.size())));
            }
            List<DescribeRequest.Region> regions = new ArrayList<>();
            for (int i = 0; i < masks.size(); i++) {
                regions.add(new DescribeRequest.Region(i + 1, masks.get(i)));
            }
            Sse sse = streamed ? new Sse(resp) : null;
            DescribeProgress progress = sse == null ? DescribeProgress.NONE : new DescribeProgress() {
                @Override
                public void described(int done, int total, RegionDescription d, double millis) {
                    ObjectNode ev = regionJson(d);
                    ev.put("index", done - 1);
                    ev.put("total", total);
                    sse.data(ev);
                }
            };
            List<String> warnings = new CopyOnWriteArrayList<>();
            DescribeResult result;
            try {
                result = service.describe(e.session, new DescribeRequest(e.id, regions, detail, options), progress,
                        warnings::add);
            } catch (IllegalArgumentException bad) {
                throw ApiException.invalid(bad.getMessage());
            }
            for (RegionDescription d : result.regions()) {
                metrics.generatedTokens.add(d.tokens().length);
            }
            if (sse != null) {
                sse.done();
                return;
            }
            ObjectNode o = JSON.createObjectNode();
            o.put("object", "describe");
            o.put("image", e.id);
            o.put("model", config.modelName());
            ArrayNode list = o.putArray("regions");
            for (int i = 0; i < result.regions().size(); i++) {
                list.add(regionJson(result.regions().get(i)).put("index", i));
            }
            if (!warnings.isEmpty()) {
                ArrayNode w = o.putArray("warnings");
                warnings.forEach(w::add);
            }
            send(resp, 200, o);
        }
    }

    private ObjectNode regionJson(RegionDescription d) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", d.id());
        ArrayNode box = o.putArray("bbox");
        for (double v : d.bbox()) {
            box.add(v);
        }
        o.put("area", d.area());
        o.put("text", d.answer());
        o.put("completion_tokens", d.tokens().length);
        o.put("prompt_tokens", d.promptTokens());
        return o;
    }

    // ---- segment ----------------------------------------------------------------------------------------------

    private void segment(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        JsonNode body = readJson(req);
        String ref = body.path("image").asText(null);
        if (ref == null) {
            throw ApiException.invalid("image", "segment needs \"image\": an id from POST /v1/images or a data URL");
        }
        List<RegionSpecs.Spec> specs = RegionSpecs.parse(body.get("prompts"), config.maxRegions());
        boolean everything = body.path("everything").asBoolean(false);
        if (specs.isEmpty() && !everything) {
            throw ApiException.invalid("prompts", "segment needs prompts ([{box}, {points, labels}]) or"
                    + " \"everything\": true");
        }
        if (everything && segmenter == null) {
            throw new ApiException(400, "invalid_request_error", "segmenter_required", "everything",
                    "\"everything\" needs a SAM checkpoint (--sam); this server has none", 0);
        }
        try (Admission.Ticket t = admission.enter()) {
            ImageStore.Entry e = resolveImage(ref).entry();
            List<Mask> masks = new ArrayList<>(RegionSpecs.masks(specs, e.image.width(), e.image.height(), segmenter,
                    () -> e.prepared(segmenter)));
            if (everything) {
                masks.addAll(segmenter.everything(e.prepared(segmenter)));
            }
            ObjectNode o = JSON.createObjectNode();
            o.put("object", "segmentation");
            o.put("image", e.id);
            o.put("width", e.image.width());
            o.put("height", e.image.height());
            o.put("segmenter", segmenter == null ? "rectangle" : segmenter.name());
            ArrayNode list = o.putArray("masks");
            for (Mask m : masks) {
                ObjectNode mo = list.addObject();
                mo.set("segmentation", SegmentationJson.write(CocoMasks.encode(m)));
                ArrayNode box = mo.putArray("bbox");
                for (double v : CocoMasks.toBbox(m)) {
                    box.add(v);
                }
                mo.put("area", m.area());
            }
            send(resp, 200, o);
        }
    }

    // ---- plumbing ---------------------------------------------------------------------------------------------

    private JsonNode readJson(HttpServletRequest req) throws IOException {
        long limit = config.maxUploadBytes() / 3 * 4 + 4L * config.maxPromptChars() + (256 << 10);
        byte[] bytes = readBody(req, limit);
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw ApiException.invalid("the request body must be a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw ApiException.invalid("the request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static byte[] readBody(HttpServletRequest req, long limit) throws IOException {
        long declared = req.getContentLengthLong();
        if (declared > limit) {
            throw ApiException.tooLarge("the request body is " + declared + " bytes; the limit is " + limit
                    + " bytes");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.max(0, Math.min(declared, 1 << 20)));
        byte[] buf = new byte[64 << 10];
        long total = 0;
        try (InputStream in = req.getInputStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                total += n;
                if (total > limit) {
                    throw ApiException.tooLarge("the request body is over the limit of " + limit + " bytes");
                }
                out.write(buf, 0, n);
            }
        }
        return out.toByteArray();
    }

    private static void send(HttpServletResponse resp, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        resp.setStatus(status);
        resp.setHeader("X-Content-Type-Options", "nosniff");
        resp.setContentType("application/json");
        resp.setContentLength(bytes.length);
        try (OutputStream out = resp.getOutputStream()) {
            out.write(bytes);
        }
    }

    private static void sendError(HttpServletResponse resp, ApiException e) throws IOException {
        resp.reset();
        if (e.retryAfter > 0) {
            resp.setHeader("Retry-After", Integer.toString(e.retryAfter));
        }
        ObjectNode o = JSON.createObjectNode();
        ObjectNode err = o.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type);
        if (e.param == null) {
            err.putNull("param");
        } else {
            err.put("param", e.param);
        }
        if (e.code == null) {
            err.putNull("code");
        } else {
            err.put("code", e.code);
        }
        send(resp, e.status, o);
    }

    /** An error after a stream began: one last event with the error, then the end of the stream. */
    private static void streamError(HttpServletResponse resp, ApiException e) {
        try {
            ObjectNode o = JSON.createObjectNode();
            o.putObject("error").put("message", e.getMessage()).put("type", e.type).put("code", e.code);
            OutputStream out = resp.getOutputStream();
            out.write(("data: " + JSON.writeValueAsString(o) + "\n\ndata: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException | IllegalStateException ignored) {
            // the client has gone as well
        }
    }

    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    /** Server-sent events on a response; a failed write means the client has gone. */
    static final class Sse {
        private final OutputStream out;

        Sse(HttpServletResponse resp) throws IOException {
            resp.setStatus(200);
            resp.setContentType("text/event-stream");
            resp.setCharacterEncoding("utf-8");
            resp.setHeader("Cache-Control", "no-cache");
            resp.setHeader("X-Accel-Buffering", "no");
            out = resp.getOutputStream();
        }

        void data(JsonNode json) {
            try {
                write("data: " + JSON.writeValueAsString(json) + "\n\n");
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        void done() {
            write("data: [DONE]\n\n");
        }

        private void write(String s) {
            try {
                out.write(s.getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                throw new ClientGoneException(e);
            }
        }
    }
}
