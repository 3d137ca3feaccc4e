package osprey4j.app.serve;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import osprey4j.service.ChatSession;

/**
 * Conversations kept between requests, so a client that sends the whole conversation again with one more question
 * (as OpenAI's chat API has it) continues from the KV cache of the previous turn instead of prefilling it all.
 * A conversation is found by a digest of its image, its regions and its answered turns; it is taken out while a
 * request uses it (one user at a time) and put back under the digest that includes the new turn. Least recently
 * used ones are closed once their caches together pass the memory budget.
 */
final class ConversationStore {
    private record Kept(String imageId, ChatSession chat) {
    }

    private final long budget;
    private final Metrics metrics;
    private final LinkedHashMap<String, Kept> kept = new LinkedHashMap<>(16, 0.75f, true);

    ConversationStore(long budget, Metrics metrics) {
        this.budget = budget;
        this.metrics = metrics;
    }

    /** The digest of a conversation's state: image id, regions (canonical text each), then the turns. */
    static String key(String imageId, List<String> regions, List<String[]> turns) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            feed(d, imageId);
            d.update((byte) 1);
            for (String r : regions) {
                feed(d, r);
            }
            d.update((byte) 2);
            for (String[] t : turns) {
                feed(d, t[0]);
                feed(d, t[1]);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void feed(MessageDigest d, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        d.update(Integer.toString(b.length).getBytes(StandardCharsets.US_ASCII));
        d.update((byte) ':');
        d.update(b);
    }

    /** Takes the conversation kept under {@code key} out of the store, or null. */
    synchronized ChatSession take(String key) {
        Kept k = kept.remove(key);
        if (k == null) {
            metrics.chatCacheMisses.increment();
            return null;
        }
        metrics.chatCacheHits.increment();
        return k.chat;
    }

    /** Keeps a conversation under {@code key} (closing one already there), then trims to the budget. */
    void put(String key, String imageId, ChatSession chat) {
        List<ChatSession> closing = new ArrayList<>();
        synchronized (this) {
            Kept old = kept.put(key, new Kept(imageId, chat));
            if (old != null && old.chat != chat) {
                closing.add(old.chat);
            }
            long total = 0;
            for (Kept k : kept.values()) {
                total += k.chat.cacheBytes();
            }
            Iterator<Map.Entry<String, Kept>> it = kept.entrySet().iterator();
            while (total > budget && it.hasNext()) {
                Kept k = it.next().getValue();
                total -= k.chat.cacheBytes();
                it.remove();
                closing.add(k.chat);
                metrics.chatEvictions.increment();
            }
        }
        closing.forEach(ChatSession::close);
    }

    /** Closes every conversation about an image that left the image store. */
    void dropImage(String imageId) {
        List<ChatSession> closing = new ArrayList<>();
        synchronized (this) {
            kept.values().removeIf(k -> {
                if (k.imageId.equals(imageId)) {
                    closing.add(k.chat);
                    return true;
                }
                return false;
            });
        }
        closing.forEach(ChatSession::close);
    }

    synchronized int size() {
        return kept.size();
    }

    synchronized long byteSize() {
        long total = 0;
        for (Kept k : kept.values()) {
            total += k.chat.cacheBytes();
        }
        return total;
    }

    void closeAll() {
        List<ChatSession> closing;
        synchronized (this) {
            closing = new ArrayList<>();
            kept.values().forEach(k -> closing.add(k.chat));
            kept.clear();
        }
        closing.forEach(ChatSession::close);
    }
}
