package osprey4j.app.serve;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import osprey4j.core.mask.Mask;
import osprey4j.model.ImageSession;
import osprey4j.model.image.RgbImage;
import osprey4j.service.Segmenter;

/**
 * Uploaded images by id, each encoded once: its features, image tokens and the LLM's prompt cache (held by its
 * {@link ImageSession}), plus the segmenter's embedding when asked for. Least recently used entries are dropped
 * once the entries together hold more than the memory budget; requests already using an entry keep it.
 * Two requests for the same new image wait for one encode.
 */
final class ImageStore {
    /** One image and what was computed from it. */
    static final class Entry {
        final String id;
        final RgbImage image;
        final ImageSession session;
        final Mask alphaMask;
        private volatile Segmenter.Prepared prepared;

        Entry(String id, RgbImage image, ImageSession session, Mask alphaMask) {
            this.id = id;
            this.image = image;
            this.session = session;
            this.alphaMask = alphaMask;
        }

        long byteSize() {
            Segmenter.Prepared p = prepared;
            return session.byteSize() + image.rgb().length + (alphaMask == null ? 0 : alphaMask.width()
                    * (long) alphaMask.height() / 8) + (p == null ? 0 : p.byteSize());
        }

        /** The segmenter's embedding of this image, made on first use. */
        Segmenter.Prepared prepared(Segmenter segmenter) {
            Segmenter.Prepared p = prepared;
            if (p == null) {
                synchronized (this) {
                    p = prepared;
                    if (p == null) {
                        p = segmenter.prepare(image);
                        prepared = p;
                    }
                }
            }
            return p;
        }
    }

    private final long budget;
    private final Metrics metrics;
    private final Consumer<String> evicted;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<String, CompletableFuture<Entry>> encoding = new ConcurrentHashMap<>();

    /**
     * @param evicted hears the id of each entry dropped for the budget (conversations on it go too)
     */
    ImageStore(long budget, Metrics metrics, Consumer<String> evicted) {
        this.budget = budget;
        this.metrics = metrics;
        this.evicted = evicted;
    }

    /** The entry of an uploaded image, or null when it was never uploaded or has been evicted. */
    synchronized Entry get(String id) {
        Entry e = entries.get(id);
        if (e != null) {
            metrics.imageCacheHits.increment();
        }
        return e;
    }

    /** Whether {@code id} is held now (no use is recorded). */
    synchronized boolean contains(String id) {
        return entries.containsKey(id);
    }

    /**
     * The entry for a decoded image, encoding it (with {@code encoder}) unless it is held or being encoded.
     *
     * @return the entry and whether it was already held
     */
    Lookup getOrEncode(ImageInput.Decoded decoded, Function<RgbImage, ImageSession> encoder) {
        Entry held = get(decoded.id());
        if (held != null) {
            return new Lookup(held, true);
        }
        CompletableFuture<Entry> mine = new CompletableFuture<>();
        CompletableFuture<Entry> running = encoding.putIfAbsent(decoded.id(), mine);
        if (running != null) {
            try {
                return new Lookup(running.join(), true);
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        metrics.imageCacheMisses.increment();
        try {
            ImageSession session = encoder.apply(decoded.image());
            Entry e = new Entry(decoded.id(), decoded.image(), session, decoded.alphaMask());
            synchronized (this) {
                entries.put(e.id, e);
            }
            mine.complete(e);
            trim();
            return new Lookup(e, false);
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            encoding.remove(decoded.id());
        }
    }

    record Lookup(Entry entry, boolean cached) {
    }

    synchronized boolean remove(String id) {
        return entries.remove(id) != null;
    }

    /** Drops least recently used entries until the rest fit the budget (the newest always stays). */
    void trim() {
        List<String> dropped = new ArrayList<>();
        synchronized (this) {
            long total = 0;
            for (Entry e : entries.values()) {
                total += e.byteSize();
            }
            Iterator<Entry> it = entries.values().iterator();
            while (total > budget && entries.size() > 1 && it.hasNext()) {
                Entry e = it.next();
                total -= e.byteSize();
                it.remove();
                dropped.add(e.id);
            }
        }
        for (String id : dropped) {
            metrics.imageEvictions.increment();
            evicted.accept(id);
        }
    }

    synchronized int size() {
        return entries.size();
    }

    synchronized long byteSize() {
        long total = 0;
        for (Entry e : entries.values()) {
            total += e.byteSize();
        }
        return total;
    }
}
