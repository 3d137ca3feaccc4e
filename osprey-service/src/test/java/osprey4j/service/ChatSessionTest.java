package osprey4j.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.mask.Mask;
import osprey4j.core.prompt.ChatTemplate;
import osprey4j.core.prompt.ConversationPrompt;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.datasets.Osprey724k;
import osprey4j.data.datasets.Osprey724kEntry;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.datasets.Turn;
import osprey4j.data.samples.Recipe;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TrainingSample;
import osprey4j.data.samples.TrainingSamples;
import osprey4j.model.GenerationOptions;

/** The chat use case on the parity fixture: turns, errors that keep the conversation, and /save's file. */
class ChatSessionTest {
    static OspreyService service;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        service = OspreyService.load(ServiceFixtures.MODEL, null);
    }

    @AfterAll
    static void close() {
        if (service != null) {
            service.close();
        }
    }

    /**
     * A saved conversation reads back through the Osprey-724K reader with its image size, regions and turns, and the
     * conversation-data sample built from it (the reference's loader rules) is the prompt the chat gave the model.
     */
    @Test
    void savedConversationRoundTripsThroughTheDataReaders() throws Exception {
        JsonNode c = ServiceFixtures.testCase("C");
        List<Mask> masks = ServiceFixtures.masks(c);
        String image = ServiceFixtures.input(c.path("image").asText());
        GenerationOptions greedy = GenerationOptions.greedy(12);
        try (ChatSession chat = service.chat(OspreyService.readImage(image), image, null)) {
            assertEquals(1, chat.addRegion(masks.get(0)));
            assertEquals(2, chat.addRegion(masks.get(1)));
            AskResult a1 = chat.ask("What is <region1>?", greedy, null);
            AskResult a2 = chat.ask("How does it compare with <region2>?", greedy, null);

            Path file = dir.resolve("talk.json");
            chat.save(file);
            List<Osprey724kEntry> entries;
            try (Stream<Osprey724kEntry> s = Osprey724k.read(file, ReadReport.strict())) {
                entries = s.toList();
            }
            assertEquals(1, entries.size());
            Osprey724kEntry e = entries.getFirst();
            assertEquals(Path.of(image).getFileName().toString(), e.fileName());
            assertEquals(chat.width(), e.width());
            assertEquals(chat.height(), e.height());
            assertEquals(2, e.regions().size());
            for (int i = 0; i < 2; i++) {
                assertEquals(masks.get(i), CocoMasks.decode(e.regions().get(i), e.height(), e.width()));
            }
            assertEquals(List.of(Turn.human("What is <region1>?"), Turn.gpt(a1.text()),
                    Turn.human("How does it compare with <region2>?"), Turn.gpt(a2.text())), e.conversations());

            List<TrainingSample> samples;
            try (Stream<TrainingSample> s = TrainingSamples.fromOsprey724k(file, Recipe.OSPREY_CONVERSATION,
                    SampleOptions.of(dir, 0), ReadReport.strict())) {
                samples = s.toList();
            }
            assertEquals(1, samples.size());
            List<ChatTemplate.Turn> turns = new ArrayList<>();
            List<Turn> t = samples.getFirst().turns();
            for (int i = 0; i < t.size(); i += 2) {
                turns.add(new ChatTemplate.Turn(t.get(i).value(), t.get(i + 1).value()));
            }
            assertEquals(ConversationPrompt.build(ChatTemplate.OSPREY_V1, chat.turns()).text(),
                    ChatTemplate.OSPREY_V1.prompt(turns));
        }
    }

    @Test
    void errorsAreOneLineAndKeepTheConversation() {
        JsonNode c = ServiceFixtures.testCase("C");
        List<Mask> masks = ServiceFixtures.masks(c);
        String image = ServiceFixtures.input(c.path("image").asText());
        try (ChatSession chat = service.chat(OspreyService.readImage(image), image, null)) {
            chat.addRegion(masks.get(0));
            chat.addRegion(masks.get(1));
            chat.ask("Describe <region2>.", GenerationOptions.greedy(3), null);
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> chat.ask("And <region3>?", GenerationOptions.greedy(3), null));
            assertEquals("the question refers to <region3> but there are 2 regions", e.getMessage());
            e = assertThrows(InvalidRequestException.class, () -> chat.addRegion(Mask.full(5, 5)));
            assertTrue(e.getMessage().startsWith("mask 3 is 5x5 but the image is "), e.getMessage());
            assertEquals(1, chat.turns().size());
            assertEquals(2, chat.regions().size());
        }
    }
}
