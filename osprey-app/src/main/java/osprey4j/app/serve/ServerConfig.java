package osprey4j.app.serve;

/**
 * What {@code osprey serve} allows and where it listens. Every limit bounds what one request can cost; a request
 * past one gets a 4xx that names it.
 *
 * @param host              address to bind (127.0.0.1 unless exposed on purpose)
 * @param port              TCP port; 0 picks a free one
 * @param apiKey            when non-null, every API call needs {@code Authorization: Bearer <apiKey>}
 * @param workers           model requests run at once
 * @param queueDepth        model requests waiting for a worker; one more is refused with 503 and Retry-After
 * @param maxUploadBytes    largest image (upload body, or decoded data URL)
 * @param maxMegapixels     largest image in millions of pixels (checked from its header, before decoding)
 * @param maxRegions        regions in one request
 * @param maxPromptChars    characters of text in one request (all messages together)
 * @param maxTokens         the largest {@code max_tokens} a request may ask for, and the default
 * @param imageCacheBytes   memory budget of uploaded images (features, image tokens, prompt cache)
 * @param chatCacheBytes    memory budget of kept conversations (their KV caches)
 * @param modelName         the id {@code /v1/models} lists
 */
public record ServerConfig(String host, int port, String apiKey, int workers, int queueDepth, long maxUploadBytes,
                           double maxMegapixels, int maxRegions, int maxPromptChars, int maxTokens,
                           long imageCacheBytes, long chatCacheBytes, String modelName) {
    public ServerConfig {
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be at least 1, got " + workers);
        }
        if (queueDepth < 0) {
            throw new IllegalArgumentException("queue depth must be 0 or more, got " + queueDepth);
        }
        if (maxUploadBytes < 1 || maxMegapixels <= 0 || maxRegions < 1 || maxPromptChars < 1 || maxTokens < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
        if (imageCacheBytes < 0 || chatCacheBytes < 0) {
            throw new IllegalArgumentException("cache budgets must be 0 or more");
        }
    }

    /** The defaults of {@code osprey serve}, for a model named {@code modelName}. */
    public static ServerConfig defaults(String modelName) {
        return new ServerConfig("127.0.0.1", 8000, null, 2, 16, 20L << 20, 40, 16, 8000, 512, 2L << 30, 512L << 20,
                modelName);
    }

    public ServerConfig withPort(int p) {
        return new ServerConfig(host, p, apiKey, workers, queueDepth, maxUploadBytes, maxMegapixels, maxRegions,
                maxPromptChars, maxTokens, imageCacheBytes, chatCacheBytes, modelName);
    }

    public ServerConfig withApiKey(String key) {
        return new ServerConfig(host, port, key, workers, queueDepth, maxUploadBytes, maxMegapixels, maxRegions,
                maxPromptChars, maxTokens, imageCacheBytes, chatCacheBytes, modelName);
    }

    public ServerConfig withQueue(int w, int depth) {
        return new ServerConfig(host, port, apiKey, w, depth, maxUploadBytes, maxMegapixels, maxRegions,
                maxPromptChars, maxTokens, imageCacheBytes, chatCacheBytes, modelName);
    }

    public ServerConfig withLimits(long uploadBytes, double megapixels, int regions, int promptChars, int tokens) {
        return new ServerConfig(host, port, apiKey, workers, queueDepth, uploadBytes, megapixels, regions, promptChars,
                tokens, imageCacheBytes, chatCacheBytes, modelName);
    }

    public ServerConfig withCaches(long imageBytes, long chatBytes) {
        return new ServerConfig(host, port, apiKey, workers, queueDepth, maxUploadBytes, maxMegapixels, maxRegions,
                maxPromptChars, maxTokens, imageBytes, chatBytes, modelName);
    }
}
