package osprey4j.app.serve;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web page: three files in this package's {@code web/} resources, served by fixed name (nothing from the
 * request's path reaches a file lookup). Everything the page needs is in them: it works without internet access.
 */
final class StaticPage {
    private static final Map<String, String> TYPES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "app.css", "text/css; charset=utf-8");
    private static final Map<String, byte[]> CACHE = new ConcurrentHashMap<>();

    private StaticPage() {
    }

    static void serve(String name, HttpServletResponse resp) throws IOException {
        byte[] bytes = CACHE.computeIfAbsent(name, StaticPage::load);
        resp.setStatus(200);
        resp.setContentType(TYPES.get(name));
        resp.setHeader("Cache-Control", "no-cache");
        resp.setHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self';"
                + " script-src 'self'");
        resp.setContentLength(bytes.length);
        resp.getOutputStream().write(bytes);
    }

    private static byte[] load(String name) {
        if (!TYPES.containsKey(name)) {
            throw new IllegalArgumentException("not a page file: " + name);
        }
        try (InputStream in = StaticPage.class.getResourceAsStream("web/" + name)) {
            if (in == null) {
                throw new IllegalStateException("page resource missing: web/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
