package osprey4j.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.mask.Mask;
import osprey4j.core.prompt.ConversationPrompt;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.SegmentationJson;
import osprey4j.data.datasets.Turn;
import osprey4j.model.Chat;
import osprey4j.model.GenerationOptions;
import osprey4j.model.TokenListener;

/**
 * The chat use case: a conversation about regions of one image, encoded once ({@link OspreyService#chat}). Each
 * question is a turn that sees the earlier ones; regions can be added between turns; {@link #reset} starts over
 * with the same image and regions; {@link #save} writes the conversation as an Osprey-724K record.
 *
 * <p>Errors keep the conversation as it was: {@link InvalidRequestException} for a bad region or question,
 * {@link Chat.ContextFullException} when the model's positions cannot hold the conversation and the question
 * (nothing was run: reset, or ask less). Not thread-safe: one conversation, one caller.
 */
public final class ChatSession implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Chat chat;
    private final String imageFile;
    private final Consumer<String> warnings;

    ChatSession(Chat chat, String imageFile, Consumer<String> warnings) {
        this.chat = chat;
        this.imageFile = imageFile;
        this.warnings = warnings;
    }

    /** Width and height of the image, the size every region must have. */
    public int width() {
        return chat.session().width();
    }

    public int height() {
        return chat.session().height();
    }

    /**
     * Adds a region; questions refer to it as {@code <regionN>}, N the returned number (from 1).
     *
     * @throws InvalidRequestException for a mask that is not the image's size
     */
    public int addRegion(Mask mask) {
        Objects.requireNonNull(mask, "mask");
        return Warnings.routed(warnings, () -> invalidIfArgument(() -> chat.addRegion(mask)));
    }

    /** The regions, region1 first. */
    public List<Mask> regions() {
        return chat.regions();
    }

    /** The answered turns, oldest first. */
    public List<ConversationPrompt.Turn> turns() {
        return chat.turns();
    }

    /**
     * Adds a turn answered before (a client that sends the whole conversation each time): the next question sees
     * it as any earlier turn. Nothing is run.
     *
     * @throws InvalidRequestException for a question that refers to a region that does not exist
     */
    public void replay(String question, String answer) {
        invalidIfArgument(() -> {
            chat.replay(question, answer);
            return null;
        });
    }

    /** Bytes of the key/value cache the conversation keeps between turns, for memory budgets. */
    public long cacheBytes() {
        return chat.cacheBytes();
    }

    /** Drops the turns; the encoded image and the regions stay. */
    public void reset() {
        chat.reset();
    }

    /**
     * Answers {@code question} as the next turn, streaming it to {@code tokens}.
     *
     * @throws InvalidRequestException     for a question that refers to a region that does not exist
     * @throws Chat.ContextFullException   when the conversation would overflow the model's positions
     */
    public AskResult ask(String question, GenerationOptions options, TokenListener tokens) {
        Objects.requireNonNull(question, "question");
        return Warnings.routed(warnings, () -> AskResult.of(invalidIfArgument(() -> chat.ask(question, options,
                tokens))));
    }

    /**
     * The conversation as an Osprey-724K record, the layout of the reference's conversation files: {@code id},
     * {@code file_name}, {@code height}, {@code width}, {@code annotation} (each region's {@code segmentation} as
     * compressed RLE, region1 first) and {@code conversations} ({@code human} questions with {@code <regionN>} as
     * typed, {@code gpt} answers). Read back by the reference's conversation loader (or osprey-data's
     * {@code TrainingSamples} with the conversation recipe), it gives the prompt the chat gave the model when every
     * region existed from the first turn; a region added later is listed in the first question there, as that
     * format has no other place for it.
     */
    public ObjectNode toJson(String id) {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("id", id);
        r.put("file_name", Path.of(imageFile).getFileName().toString());
        r.put("height", height());
        r.put("width", width());
        ArrayNode annotation = r.putArray("annotation");
        for (Mask m : chat.regions()) {
            annotation.addObject().set("segmentation", SegmentationJson.write(CocoMasks.encode(m)));
        }
        ArrayNode conversations = r.putArray("conversations");
        for (ConversationPrompt.Turn t : chat.turns()) {
            conversations.addObject().put("from", Turn.HUMAN).put("value", t.question());
            conversations.addObject().put("from", Turn.GPT).put("value", t.answer());
        }
        return r;
    }

    /**
     * Writes {@link #toJson} as a one-record Osprey-724K file (a root array), atomically; the record's id is the
     * file's name without extension.
     */
    public void save(Path file) {
        String name = file.getFileName().toString();
        String id = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
        ArrayNode root = JsonNodeFactory.instance.arrayNode().add(toJson(id));
        try {
            byte[] bytes = (MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            AtomicFiles.write(file, tmp -> java.nio.file.Files.write(tmp, bytes));
        } catch (IOException e) {
            throw new InvalidRequestException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static <T> T invalidIfArgument(java.util.function.Supplier<T> work) {
        try {
            return work.get();
        } catch (InvalidRequestException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(e.getMessage(), e);
        }
    }

    /** Releases the conversation's cache. */
    @Override
    public void close() {
        chat.close();
    }
}
