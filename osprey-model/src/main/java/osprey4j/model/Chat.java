package osprey4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import osprey4j.core.mask.Mask;
import osprey4j.core.prompt.ChatTemplate;
import osprey4j.core.prompt.ConversationPrompt;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.llm.KvCache;
import osprey4j.model.vision.MaskExtractor;

/**
 * A conversation about regions of one encoded image: each question sees the earlier questions and answers.
 *
 * <p><b>Prompt.</b> The whole conversation is one {@code osprey_v1} prompt, written as the reference writes its
 * multi-turn training conversations ({@link ConversationPrompt}): image preamble and region list once in the first
 * user message, earlier answers put back as their decoded text and tokenised with the rest. Their ids may then
 * differ from the generated ones (the re-tokenised answer starts with {@code ▁} after {@code "ASSISTANT: "}), which
 * is what the reference's format gives.
 *
 * <p><b>Cache.</b> The LLM's keys and values are kept up to the end of the previous prompt; a new turn reuses every
 * leading position whose input embedding is unchanged (bit for bit) and prefills only the rest: the re-tokenised
 * previous answer and the new question. The answers are therefore those of a fresh run on the whole prompt.
 *
 * <p>Not thread-safe; {@link #close} releases the cache.
 */
public final class Chat implements AutoCloseable {
    private final Osprey osprey;
    private final ImageSession session;
    private final ChatTemplate template;
    private final List<Mask> regions = new ArrayList<>();
    /** Each region's mask and position tokens, made once when it is added. */
    private final List<MaskExtractor.RegionTokens> regionTokens = new ArrayList<>();
    private final List<ConversationPrompt.Turn> turns = new ArrayList<>();
    /** Holds the keys and values of {@code cachedInput}'s rows (the last prompt); null before the first turn. */
    private KvCache cache;
    private Tensor cachedInput;

    Chat(Osprey osprey, ImageSession session, ChatTemplate template) {
        this.osprey = Objects.requireNonNull(osprey, "osprey");
        this.session = Objects.requireNonNull(session, "session");
        this.template = template;
    }

    /** The conversation does not fit in the model's positions. Nothing was run; the conversation is kept. */
    public static final class ContextFullException extends IllegalStateException {
        private final int promptTokens;
        private final int maxPositions;

        ContextFullException(int promptTokens, int maxPositions) {
            super("the conversation with this question is " + promptTokens + " tokens long, which leaves no room to"
                    + " answer within the model's " + maxPositions + " positions (max_position_embeddings)");
            this.promptTokens = promptTokens;
            this.maxPositions = maxPositions;
        }

        public int promptTokens() {
            return promptTokens;
        }

        public int maxPositions() {
            return maxPositions;
        }
    }

    /** The encoded image. */
    public ImageSession session() {
        return session;
    }

    /**
     * Adds a region; questions refer to it as {@code <regionN>} with the returned N (from 1).
     *
     * @throws IllegalArgumentException for a mask that is not the image's size
     */
    public int addRegion(Mask mask) {
        Osprey.checkMask(regions.size() + 1, mask, session.width(), session.height());
        regionTokens.add(osprey.regionTokens(session, mask));
        regions.add(mask);
        return regions.size();
    }

    /** The regions, region1 first. */
    public List<Mask> regions() {
        return List.copyOf(regions);
    }

    /** The answered turns, oldest first. */
    public List<ConversationPrompt.Turn> turns() {
        return List.copyOf(turns);
    }

    /** Drops the turns; the image, the regions and the cached keys and values the next prompt shares stay. */
    public void reset() {
        turns.clear();
    }

    /**
     * Adds a turn that was answered elsewhere (a client sending the whole conversation, as OpenAI's chat API does):
     * the next prompt holds it as the reference's template holds any earlier turn. Nothing is run.
     *
     * @throws IllegalArgumentException for a question referring to a region that does not exist
     */
    public void replay(String question, String answer) {
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(answer, "answer");
        ConversationPrompt.check(question, regions.size());
        turns.add(new ConversationPrompt.Turn(question, answer, regions.size()));
    }

    /** Bytes of the KV cache this conversation keeps between turns (0 before the first). */
    public long cacheBytes() {
        return cache == null ? 0 : cache.byteSize();
    }

    /** The prompt the model would be given for {@code question} as the next turn. */
    public Osprey.PreparedPrompt prepare(String question) {
        Objects.requireNonNull(question, "question");
        ConversationPrompt.check(question, regions.size());
        List<ConversationPrompt.Turn> all = new ArrayList<>(turns);
        all.add(new ConversationPrompt.Turn(question, null, regions.size()));
        return osprey.prepare(session, regionTokens, ConversationPrompt.build(template, all));
    }

    /**
     * Answers {@code question} as the next turn, streaming it to {@code listener}, and adds the turn.
     *
     * @throws IllegalArgumentException   for a question referring to a region that does not exist (the
     *                                    conversation is kept)
     * @throws ContextFullException       when the conversation and the question fill the model's positions
     */
    public Answer ask(String question, GenerationOptions options, TokenListener listener) {
        Objects.requireNonNull(options, "options");
        TokenListener sink = listener == null ? TokenListener.NONE : listener;
        Osprey.PreparedPrompt prompt = prepare(question);
        int length = prompt.embeddings().size(0);
        int max = osprey.llamaConfig().maxPositionEmbeddings();
        if (length >= max) {
            throw new ContextFullException(length, max);
        }
        int maxNew = Math.min(options.maxNewTokens(), max - length);
        int needed = length + maxNew - 1;
        int reused;
        // Where the reused positions come from when this conversation has none of its own yet: the image's cached
        // prompt start (the system sentence and the image), which any question about the session leaves behind.
        KvCache.Prefix imagePrefix = null;
        if (cachedInput != null) {
            reused = Math.min(Math.min(ImageSession.sharedRows(cachedInput, prompt.embeddings()), length - 1),
                    cache.length());
        } else {
            ImageSession.PromptPrefix p = session.prefix();
            reused = p == null ? 0 : Math.max(0, Math.min(p.sharedWith(prompt.embeddings()), length - 1));
            imagePrefix = reused > 0 ? p.cache() : null;
        }
        if (cache == null || cache.capacity() < needed) {
            // Grow geometrically (bounded by the model's positions) so a long chat copies its cache rarely.
            int capacity = Math.min(max, Math.max(needed, cache == null ? needed : 2 * cache.capacity()));
            KvCache grown = osprey.newCache(capacity);
            if (imagePrefix != null) {
                grown.restore(imagePrefix, reused);
            } else if (reused > 0) {
                try (KvCache.Prefix own = cache.prefix(reused)) { // shares the pages; the old cache closes below
                    grown.restore(own, reused);
                }
            }
            if (cache != null) {
                cache.close();
            }
            cache = grown;
        } else if (imagePrefix != null) {
            cache.restore(imagePrefix, reused);
        } else {
            cache.truncate(reused);
        }
        cachedInput = null; // the cache is being rewritten: unusable if this turn fails
        Answer answer = osprey.generate(session, prompt, cache, reused, maxNew, options, sink, () -> { });
        // Keep the prompt's positions only: the generated ids come back re-tokenised as text in the next prompt.
        cache.truncate(length);
        cachedInput = prompt.embeddings();
        turns.add(new ConversationPrompt.Turn(question, answer.text(), regions.size()));
        return answer;
    }

    /** Releases the KV cache. */
    @Override
    public void close() {
        if (cache != null) {
            cache.close();
            cache = null;
            cachedInput = null;
        }
    }
}
