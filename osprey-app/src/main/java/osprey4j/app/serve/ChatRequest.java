package osprey4j.app.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import osprey4j.model.GenerationOptions;

/**
 * An OpenAI chat completion request as this server reads it: the messages (system messages are ignored: the
 * osprey_v1 template's system sentence is the model's), one image as an {@code image_url} part (a data URL or an
 * uploaded image's id), the regions extension field, and the sampling fields.
 *
 * @param imageRef  the image_url's url: {@code data:image/...;base64,...}, an id from {@code /v1/images}
 * @param history   the answered turns before the question, each {question, answer}
 * @param question  the last user message's text
 * @param regions   the {@code regions} field
 * @param options   sampling; {@code temperature} 0 is greedy, no sampling field at all is the reference's
 *                  sampling (0.2, top-k 50)
 * @param stop      stop strings (at most 4)
 */
record ChatRequest(String imageRef, List<String[]> history, String question, List<RegionSpecs.Spec> regions,
                   GenerationOptions options, boolean stream, boolean includeUsage, List<String> stop) {

    static ChatRequest parse(JsonNode body, ServerConfig config) {
        if (!body.isObject()) {
            throw ApiException.invalid("the request body must be a JSON object");
        }
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiException.invalid("messages", "messages must be a non-empty array");
        }
        if (body.has("n") && body.get("n").asInt(1) != 1) {
            throw ApiException.invalid("n", "only n = 1 is supported");
        }
        String image = null;
        List<String> users = new ArrayList<>();
        List<String> assistants = new ArrayList<>();
        long chars = 0;
        String expect = "user";
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String role = m.path("role").asText("");
            if (role.equals("system") || role.equals("developer")) {
                continue;
            }
            if (!role.equals("user") && !role.equals("assistant")) {
                throw ApiException.invalid("messages[" + i + "].role", "messages[" + i + "] has role '" + role
                        + "'; expected system, user or assistant");
            }
            if (!role.equals(expect)) {
                throw ApiException.invalid("messages", "messages[" + i + "] is a " + role + " message where a "
                        + expect + " message was expected: user and assistant messages alternate, starting and ending"
                        + " with a user message");
            }
            expect = role.equals("user") ? "assistant" : "user";
            JsonNode content = m.get("content");
            StringBuilder text = new StringBuilder();
            if (content != null && content.isTextual()) {
                text.append(content.asText());
            } else if (content != null && content.isArray()) {
                for (int j = 0; j < content.size(); j++) {
                    JsonNode part = content.get(j);
                    String type = part.path("type").asText("");
                    String where = "messages[" + i + "].content[" + j + "]";
                    switch (type) {
                        case "text" -> text.append(part.path("text").asText(""));
                        case "image_url" -> {
                            if (!role.equals("user")) {
                                throw ApiException.invalid(where, "images belong in user messages");
                            }
                            JsonNode u = part.get("image_url");
                            String url = u == null ? null : u.isTextual() ? u.asText() : u.path("url").asText(null);
                            if (url == null || url.isBlank()) {
                                throw ApiException.invalid(where, where + ".image_url.url is missing");
                            }
                            if (image != null && !image.equals(url)) {
                                throw ApiException.invalid(where, "one image per conversation is supported");
                            }
                            image = url;
                        }
                        default -> throw ApiException.invalid(where, where + " has type '" + type
                                + "'; supported: text, image_url");
                    }
                }
            } else {
                throw ApiException.invalid("messages[" + i + "].content", "messages[" + i + "].content must be a"
                        + " string or an array of parts");
            }
            chars += text.length();
            (role.equals("user") ? users : assistants).add(text.toString());
        }
        if (users.isEmpty() || users.size() != assistants.size() + 1) {
            throw ApiException.invalid("messages", "the last message must be a user message");
        }
        if (chars > config.maxPromptChars()) {
            throw ApiException.limit("prompt_too_long", "messages", "the messages hold " + chars + " characters of"
                    + " text; the limit is " + config.maxPromptChars() + " (--max-prompt-chars)");
        }
        if (image == null) {
            throw ApiException.invalid("messages", "Osprey answers about an image: put one in a user message as an"
                    + " image_url part (a data:image/...;base64 URL or an id from POST /v1/images)");
        }
        List<String[]> history = new ArrayList<>();
        for (int i = 0; i < assistants.size(); i++) {
            history.add(new String[] {users.get(i), assistants.get(i)});
        }
        String question = users.get(users.size() - 1);
        if (question.isBlank()) {
            throw ApiException.invalid("messages", "the last user message has no text");
        }
        JsonNode extra = body.has("regions") ? body.get("regions") : body.path("osprey").get("regions");
        List<RegionSpecs.Spec> regions = RegionSpecs.parse(extra, config.maxRegions());
        GenerationOptions options = options(body, config);
        boolean stream = body.path("stream").asBoolean(false);
        boolean usage = body.path("stream_options").path("include_usage").asBoolean(false);
        return new ChatRequest(image, history, question, regions, options, stream, usage, stops(body.get("stop")));
    }

    /** The sampling fields, checked against the limits. */
    static GenerationOptions options(JsonNode body, ServerConfig config) {
        JsonNode mt = body.has("max_completion_tokens") ? body.get("max_completion_tokens") : body.get("max_tokens");
        int maxTokens = config.maxTokens();
        if (mt != null && !mt.isNull()) {
            if (!mt.canConvertToInt() || mt.asInt() < 1) {
                throw ApiException.invalid("max_tokens", "max_tokens must be a positive integer");
            }
            if (mt.asInt() > config.maxTokens()) {
                throw ApiException.limit("max_tokens_too_large", "max_tokens", "max_tokens is " + mt.asInt()
                        + "; the limit is " + config.maxTokens() + " (--max-tokens)");
            }
            maxTokens = mt.asInt();
        }
        long seed = body.has("seed") && !body.get("seed").isNull() ? body.get("seed").asLong()
                : GenerationOptions.DEFAULT_SEED;
        JsonNode t = body.get("temperature");
        JsonNode p = body.get("top_p");
        JsonNode k = body.get("top_k");
        boolean noTemperature = t == null || t.isNull();
        if (noTemperature && (p == null || p.isNull()) && (k == null || k.isNull())) {
            return GenerationOptions.reference().withSeed(seed).withMaxNewTokens(maxTokens);
        }
        double temperature = noTemperature ? GenerationOptions.REFERENCE_TEMPERATURE : number(t, "temperature");
        if (temperature < 0 || temperature > 100) {
            throw ApiException.invalid("temperature", "temperature must be between 0 and 100");
        }
        if (temperature == 0) {
            return GenerationOptions.greedy(maxTokens);
        }
        double topP = p == null || p.isNull() ? 1.0 : number(p, "top_p");
        if (!(topP > 0 && topP <= 1)) {
            throw ApiException.invalid("top_p", "top_p must be in (0, 1]");
        }
        int topK = k == null || k.isNull() ? GenerationOptions.REFERENCE_TOP_K : (int) number(k, "top_k");
        if (topK < 0) {
            throw ApiException.invalid("top_k", "top_k must be 0 (off) or positive");
        }
        return new GenerationOptions(false, (float) temperature, (float) topP, topK, seed, maxTokens);
    }

    private static double number(JsonNode n, String name) {
        if (!n.isNumber() || !Double.isFinite(n.asDouble())) {
            throw ApiException.invalid(name, name + " must be a number");
        }
        return n.asDouble();
    }

    private static List<String> stops(JsonNode stop) {
        List<String> out = new ArrayList<>();
        if (stop == null || stop.isNull()) {
            return out;
        }
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            stop.forEach(s -> out.add(s.asText()));
        } else {
            throw ApiException.invalid("stop", "stop must be a string or an array of strings");
        }
        if (out.size() > 4 || out.stream().anyMatch(String::isEmpty)) {
            throw ApiException.invalid("stop", "stop takes at most 4 non-empty strings");
        }
        return out;
    }
}
