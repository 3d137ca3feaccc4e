package osprey4j.app;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import osprey4j.app.serve.OspreyServer;
import osprey4j.app.serve.ServerConfig;
import osprey4j.service.OspreyService;
import osprey4j.service.SamSegmenter;
import osprey4j.service.SegmentService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code osprey serve}: the OpenAI-compatible region API and its web page. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Serves the model over HTTP: an OpenAI-compatible chat API with regions, image upload with cached"
                        + " features, describe, segment, models, /health, Prometheus /metrics, and a web page at /"
                        + " to upload an image, draw regions and ask about them (works offline).",
                "Endpoints: POST /v1/chat/completions (also /chat/completions; \"stream\": true for server-sent"
                        + " events), POST /v1/images, GET|DELETE /v1/images/ID, POST /v1/describe, POST /v1/segment,"
                        + " GET /v1/models, GET /health, GET /metrics. Regions go in the request's \"regions\" field:"
                        + " [{\"mask\": COCO RLE or polygons}, {\"box\": [x1,y1,x2,y2]}, {\"points\": [[x,y]],"
                        + " \"labels\": [1]}]; <region1>, <region2>... in the text refer to them in order. An RGBA"
                        + " image whose alpha is not opaque brings its alpha (> 0) as region1.",
                "Work is bounded: --workers requests run at once, --queue-depth more wait, the next gets 503 with"
                        + " Retry-After. Binds 127.0.0.1 unless --host says otherwise."})
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Osprey checkpoint directory (models/demo, or the official Osprey-7B).")
    Path model;

    @Option(names = "--sam", paramLabel = "CKPT", description = "SAM checkpoint (sam_vit_b_01ec64.pth etc. or a"
            + " safetensors copy), for points, boxes as objects and \"everything\"; without it boxes are rectangles"
            + " and points are refused.")
    Path sam;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address to bind (default: ${DEFAULT-VALUE}; 0.0.0.0 exposes the server: set an API key).")
    String host;

    @Option(names = "--port", defaultValue = "8000", paramLabel = "N", description = "TCP port (default:"
            + " ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--api-key-env", paramLabel = "VAR", description = "Name of an environment variable holding an"
            + " API key; API calls then need 'Authorization: Bearer <key>' (the page and /health stay open).")
    String apiKeyEnv;

    @Option(names = "--workers", defaultValue = "2", paramLabel = "N",
            description = "Model requests run at once (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--queue-depth", defaultValue = "16", paramLabel = "N",
            description = "Model requests that may wait; more get 503 + Retry-After (default: ${DEFAULT-VALUE}).")
    int queueDepth;

    @Option(names = "--max-upload-mb", defaultValue = "20", paramLabel = "MB",
            description = "Largest image in megabytes (default: ${DEFAULT-VALUE}).")
    double maxUploadMb;

    @Option(names = "--max-megapixels", defaultValue = "40", paramLabel = "MP",
            description = "Largest image in megapixels, checked before decoding (default: ${DEFAULT-VALUE}).")
    double maxMegapixels;

    @Option(names = "--max-regions", defaultValue = "16", paramLabel = "N",
            description = "Regions per request (default: ${DEFAULT-VALUE}).")
    int maxRegions;

    @Option(names = "--max-prompt-chars", defaultValue = "8000", paramLabel = "N",
            description = "Characters of text per request, all messages (default: ${DEFAULT-VALUE}).")
    int maxPromptChars;

    @Option(names = "--max-tokens", defaultValue = "512", paramLabel = "N",
            description = "Largest max_tokens a request may ask for, and the default (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--image-cache-mb", defaultValue = "2048", paramLabel = "MB",
            description = "Memory budget of uploaded images' features and prompt caches (default: ${DEFAULT-VALUE}).")
    long imageCacheMb;

    @Option(names = "--chat-cache-mb", defaultValue = "512", paramLabel = "MB",
            description = "Memory budget of kept conversations' KV caches (default: ${DEFAULT-VALUE}).")
    long chatCacheMb;

    @Override
    public Integer call() throws InterruptedException {
        if (sam != null && !java.nio.file.Files.isRegularFile(sam)) {
            throw new UsageException("--sam: SAM checkpoint not found: " + sam);
        }
        String key = null;
        if (apiKeyEnv != null) {
            key = System.getenv(apiKeyEnv);
            if (key == null || key.isBlank()) {
                throw new UsageException("--api-key-env " + apiKeyEnv + ": that environment variable is not set");
            }
        }
        ServerConfig config;
        try {
            config = new ServerConfig(host, port, key, workers, queueDepth, (long) (maxUploadMb * (1 << 20)),
                    maxMegapixels, maxRegions, maxPromptChars, maxTokens, imageCacheMb << 20, chatCacheMb << 20,
                    model.toAbsolutePath().normalize().getFileName().toString());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        PrintWriter err = spec.commandLine().getErr();
        SegmentService segment = null;
        if (sam != null) {
            try {
                segment = SegmentService.load(sam);
            } catch (RuntimeException e) {
                throw new UsageException("--sam " + sam + ": " + e.getMessage());
            }
        }
        OspreyService service = ModelSupport.loadService(model, spec.commandLine());
        OspreyServer server;
        try {
            server = OspreyServer.start(service, segment == null ? null
                    : new SamSegmenter(segment, sam.getFileName().toString()), config);
        } catch (IllegalStateException e) {
            service.close();
            if (segment != null) {
                segment.close();
            }
            throw new UsageException(e.getMessage());
        }
        if (!isLoopback(host) && key == null) {
            err.println(OneLineErrors.prefix(spec.commandLine()) + "warning: listening on " + host + " without an API"
                    + " key (--api-key-env): anyone who can reach it can use it");
        }
        err.println("osprey serve: " + config.modelName() + " on " + server.uri() + " (page: " + server.uri()
                + "/, API: " + server.uri() + "/v1)");
        err.flush();
        SegmentService samToClose = segment;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            service.close();
            if (samToClose != null) {
                samToClose.close();
            }
        }));
        server.join();
        return 0;
    }

    private static boolean isLoopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
    }
}
