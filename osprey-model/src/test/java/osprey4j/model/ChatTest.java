package osprey4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.core.mask.Mask;
import osprey4j.core.prompt.ChatTemplate;
import osprey4j.core.prompt.ConversationPrompt;
import osprey4j.model.image.RgbImage;
import osprey4j.model.llm.KvCache;

/**
 * Multi-turn conversations ({@link Chat}): the prompt's text and ids against the reference's conversation code
 * (src/test/resources/chat/conversation_ids.json, made by tools/fixtures/make_chat_prompt_fixtures.py), and the
 * cached turns against fresh runs on the whole conversation, on the parity fixture model.
 */
class ChatTest {
    static Osprey osprey;
    static ImageSession session;
    static Mask holes;
    static Mask tiny;

    @BeforeAll
    static void load() throws IOException {
        osprey = Osprey.load(FacadeFixtures.modelDir(), w -> { });
        session = osprey.encode(RgbImage.read(FacadeFixtures.input("rgba_wide.png")));
        holes = OspreyParityTest.readMask("C_large_holes.png");
        tiny = OspreyParityTest.readMask("C_tiny.png");
    }

    @AfterAll
    static void close() {
        osprey.close();
    }

    @Test
    void promptTextAndIdsEqualTheReferenceConversation() throws IOException, URISyntaxException {
        Path file = Path.of(ChatTest.class.getResource("/chat/conversation_ids.json").toURI());
        JsonNode cases = new ObjectMapper().readTree(file.toFile());
        assertEquals(6, cases.size());
        for (JsonNode c : cases) {
            List<ConversationPrompt.Turn> turns = new ArrayList<>();
            for (JsonNode t : c.path("turns")) {
                turns.add(new ConversationPrompt.Turn(t.path("question").asText(),
                        t.path("answer").isNull() ? null : t.path("answer").asText(), t.path("regions").asInt()));
            }
            ConversationPrompt.Built built = ConversationPrompt.build(ChatTemplate.OSPREY_V1, turns);
            String name = c.path("name").asText();
            assertEquals(c.path("prompt").asText(), built.text(), name);
            assertArrayEquals(FacadeFixtures.ints(c.path("mask_order")), built.maskOrder(), name);
            assertArrayEquals(FacadeFixtures.ints(c.path("input_ids")),
                    OspreyTokens.encodePrompt(osprey.tokenizer(), built.text()), name);
        }
    }

    @Test
    void eachTurnEqualsAFreshRunOnTheWholeConversation() {
        GenerationOptions greedy = GenerationOptions.greedy(24);
        String[] questions = {"What is <region1>?", "Is <region2> bigger than <region1>?", "And what is <region2>?"};
        try (Chat chat = osprey.chat(session)) {
            chat.addRegion(holes);
            int previousPrompt = 0;
            for (int turn = 0; turn < questions.length; turn++) {
                if (turn == 1) {
                    assertEquals(2, chat.addRegion(tiny));
                }
                Osprey.PreparedPrompt prompt = chat.prepare(questions[turn]);
                long f0 = System.nanoTime();
                Answer fresh = freshRun(prompt, greedy);
                double freshMs = (System.nanoTime() - f0) / 1e6;
                long c0 = System.nanoTime();
                Answer cached = chat.ask(questions[turn], greedy, null);
                double chatMs = (System.nanoTime() - c0) / 1e6;
                assertArrayEquals(fresh.tokens(), cached.tokens(), "turn " + (turn + 1));
                assertEquals(fresh.text(), cached.text(), "turn " + (turn + 1));
                assertEquals(prompt.embeddings().size(0), cached.promptTokens());
                if (turn > 0) {
                    // everything up to the previous answer was kept; at most the previous "ASSISTANT:" end is rerun
                    int reused = cached.timings().reusedPromptTokens();
                    assertTrue(reused > previousPrompt - 4 && reused <= previousPrompt,
                            "turn " + (turn + 1) + " reused " + reused + " of " + previousPrompt);
                }
                previousPrompt = cached.promptTokens();
                System.out.printf("chat turn %d: %d prompt tokens, %d reused, prefill %.1f ms (fresh run's %.1f ms);"
                                + " whole turn %.1f ms vs fresh %.1f ms%n", turn + 1, cached.promptTokens(),
                        cached.timings().reusedPromptTokens(), cached.timings().prefillMs(),
                        fresh.timings().prefillMs(), chatMs, freshMs);
            }
            assertEquals(3, chat.turns().size());
        }
    }

    @Test
    void aNewConversationStartsFromTheImagesCachedPrompt() {
        GenerationOptions greedy = GenerationOptions.greedy(12);
        osprey.ask(session, List.of(holes), "What is <region1>?", greedy); // leaves the image's prompt start cached
        try (Chat chat = osprey.chat(session)) {
            chat.addRegion(holes);
            Osprey.PreparedPrompt prompt = chat.prepare("Describe <region1>.");
            Answer fresh = freshRun(prompt, greedy);
            Answer first = chat.ask("Describe <region1>.", greedy, null);
            assertArrayEquals(fresh.tokens(), first.tokens());
            assertTrue(first.timings().reusedPromptTokens() >= session.imageTokens().size(0),
                    "the system sentence and the image came from the session: "
                            + first.timings().reusedPromptTokens());
        }
    }

    /** The whole prompt through a new cache: what {@code ask} does for a one-question prompt. */
    private static Answer freshRun(Osprey.PreparedPrompt prompt, GenerationOptions options) {
        int length = prompt.embeddings().size(0);
        int maxNew = Math.min(options.maxNewTokens(), osprey.llamaConfig().maxPositionEmbeddings() - length);
        try (KvCache cache = osprey.newCache(length + maxNew - 1)) {
            return osprey.generate(session, prompt, cache, 0, maxNew, options, TokenListener.NONE, () -> { });
        }
    }

    @Test
    void badInputIsRefusedAndTheConversationKept() {
        GenerationOptions greedy = GenerationOptions.greedy(4);
        try (Chat chat = osprey.chat(session)) {
            chat.addRegion(holes);
            chat.addRegion(tiny);
            Answer first = chat.ask("Describe <region1>.", greedy, null);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> chat.ask("And <region3>?", greedy, null));
            assertEquals("the question refers to <region3> but there are 2 regions", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> chat.addRegion(Mask.fromBytes(3, 2, new byte[6])));
            assertTrue(e.getMessage().startsWith("mask 3 is 3x2 but the image is"), e.getMessage());
            String huge = "word ".repeat(osprey.llamaConfig().maxPositionEmbeddings());
            Chat.ContextFullException full = assertThrows(Chat.ContextFullException.class,
                    () -> chat.ask(huge, greedy, null));
            assertTrue(full.promptTokens() >= full.maxPositions());
            assertEquals(1, chat.turns().size());
            assertEquals(first.text(), chat.turns().get(0).answer());
            assertEquals(2, chat.regions().size());
            // the conversation goes on where it was
            Osprey.PreparedPrompt next = chat.prepare("And <region2>?");
            assertTrue(next.prompt().contains("ASSISTANT: " + first.text().replace("<", "").replace(">", "")
                    + "</s>USER: And region2? ASSISTANT:"),
                    next.prompt());
            chat.ask("And <region2>?", greedy, null);
            chat.reset();
            assertEquals(0, chat.turns().size());
            assertTrue(chat.prepare("What is <region2>?").prompt().contains("Ther are 2 part regions"));
        }
    }
}
