package osprey4j.core.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Prompts against the ones the reference's conversation.py builds (resources/chat/prompts.json). */
class ChatTemplateTest {
    @Test
    void promptsMatchTheReferenceTemplates() throws IOException {
        JsonNode cases;
        try (InputStream in = getClass().getResourceAsStream("/chat/prompts.json")) {
            cases = new ObjectMapper().readTree(in);
        }
        assertEquals(8, cases.size());
        for (JsonNode c : cases) {
            ChatTemplate template = ChatTemplate.named(c.path("template").asText());
            List<ChatTemplate.Turn> turns = new ArrayList<>();
            for (JsonNode t : c.path("turns")) {
                turns.add(new ChatTemplate.Turn(t.path(0).asText(), t.path(1).isNull() ? null : t.path(1).asText()));
            }
            assertEquals(c.path("prompt").asText(), template.prompt(turns), c.toString());
            assertEquals(c.path("stop").asText(), template.stopString());
        }
    }

    @Test
    void singleQuestionPrompt() {
        assertEquals(ChatTemplate.OSPREY_V1.system() + " USER: hi ASSISTANT:", ChatTemplate.OSPREY_V1.prompt("hi"));
        assertEquals(ChatTemplate.VICUNA_V1, ChatTemplate.named("v1"));
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.named("llava"));
    }
}
