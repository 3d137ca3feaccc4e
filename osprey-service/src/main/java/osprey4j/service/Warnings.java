package osprey4j.service;

import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Sends the warnings the model's components log through {@link System.Logger} (java.util.logging underneath; an
 * empty region, a missing CLIP file) to the request that caused them, instead of the JDK's console.
 *
 * <p>One handler is installed on the {@code osprey4j} logger once per JVM, when a request first asks for its
 * warnings; after that nothing global changes per call. Each call binds its sink to its own thread with a
 * {@link ScopedValue}, so concurrent requests on other threads keep their warnings apart. A record logged with no
 * sink bound (another caller, or a compute-pool thread) goes to the root logger's handlers, as it would have without
 * this class; with a sink bound, records below {@code WARNING} are dropped, as the CLI always did.
 */
final class Warnings {
    private static final ScopedValue<Consumer<String>> SINK = ScopedValue.newInstance();
    /** Held strongly: java.util.logging keeps loggers only weakly, and would forget the handler with the logger. */
    private static final Logger OSPREY = install();

    private Warnings() {
    }

    private static Logger install() {
        Logger logger = Logger.getLogger("osprey4j");
        logger.addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (SINK.isBound()) {
                    if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                        SINK.get().accept(new java.util.logging.SimpleFormatter().formatMessage(r));
                    }
                } else {
                    for (Handler h : Logger.getLogger("").getHandlers()) {
                        h.publish(r);
                    }
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
        logger.setUseParentHandlers(false);
        return logger;
    }

    /** Runs {@code work} with the warnings logged on this thread sent to {@code sink}; a null sink changes nothing. */
    static <T> T routed(Consumer<String> sink, Supplier<T> work) {
        if (sink == null) {
            return work.get();
        }
        return ScopedValue.where(SINK, sink).call(work::get);
    }
}
