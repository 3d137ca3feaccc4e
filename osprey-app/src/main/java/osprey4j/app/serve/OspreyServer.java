package osprey4j.app.serve;

import java.net.InetSocketAddress;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import osprey4j.service.OspreyService;
import osprey4j.service.Segmenter;

/**
 * {@code osprey serve}: the OpenAI-compatible region API and the web page, on Eclipse Jetty 12 (servlet API,
 * blocking I/O on a bounded thread pool; the model work itself is bounded by the API's queue).
 *
 * <pre>{@code
 * try (OspreyServer server = OspreyServer.start(service, null, ServerConfig.defaults("demo").withPort(0))) {
 *     URI base = server.uri();
 * }
 * }</pre>
 */
public final class OspreyServer implements AutoCloseable {
    /** Jetty's own INFO lines (start, stop) are noise here; its warnings stay. Held so the setting stays. */
    private static final java.util.logging.Logger JETTY_LOG = java.util.logging.Logger.getLogger("org.eclipse.jetty");

    static {
        JETTY_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private final Server jetty;
    private final ServerConnector connector;
    private final Metrics metrics;

    private OspreyServer(Server jetty, ServerConnector connector, Metrics metrics) {
        this.jetty = jetty;
        this.connector = connector;
        this.metrics = metrics;
    }

    /**
     * Starts serving {@code service} (and {@code segmenter}, may be null) as {@code config} says.
     *
     * @throws IllegalStateException when the address cannot be bound
     */
    public static OspreyServer start(OspreyService service, Segmenter segmenter, ServerConfig config) {
        QueuedThreadPool pool = new QueuedThreadPool(Math.max(64, 4 * (config.workers() + config.queueDepth())), 4);
        pool.setName("osprey-http");
        Server jetty = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        ServerConnector connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
        connector.setHost(config.host());
        connector.setPort(config.port());
        connector.setIdleTimeout(120_000);
        jetty.addConnector(connector);
        Metrics metrics = new Metrics();
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        context.addServlet(new ServletHolder("api", new ApiServlet(service, segmenter, config, metrics)), "/*");
        jetty.setHandler(context);
        jetty.setStopAtShutdown(false);
        try {
            jetty.start();
        } catch (Exception e) {
            try {
                jetty.stop();
            } catch (Exception ignored) {
                // nothing was serving
            }
            throw new IllegalStateException("cannot listen on " + config.host() + ":" + config.port() + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        }
        return new OspreyServer(jetty, connector, metrics);
    }

    /** The port listened on (the one chosen when the config said 0). */
    public int port() {
        return connector.getLocalPort();
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(connector.getHost(), port());
    }

    /** The base URI, {@code http://host:port}. */
    public java.net.URI uri() {
        String host = connector.getHost();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return java.net.URI.create("http://" + host + ":" + port());
    }

    /** Blocks until the server stops. */
    public void join() throws InterruptedException {
        jetty.join();
    }

    /** The metrics text, as {@code GET /metrics} gives it. */
    public String metricsText() {
        return metrics.write();
    }

    @Override
    public void close() {
        try {
            jetty.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the server: " + e.getMessage(), e);
        }
    }
}
