package osprey4j.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.models.Model;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import osprey4j.core.mask.Mask;
import osprey4j.model.GenerationOptions;
import osprey4j.model.image.RgbImage;
import osprey4j.service.AskRequest;
import osprey4j.service.AskResult;

/**
 * The official OpenAI Java client (com.openai:openai-java) against {@code osprey serve}: a plain chat request
 * about a whole image (the client knows nothing of regions), the same streamed, and a region sent through the
 * client's extra body properties. With an API key, as a deployment would use it.
 */
class OpenAiClientTest {
    static OspreyServer server;
    static OpenAIClient openai;
    static RgbImage scene;

    @BeforeAll
    static void start() throws Exception {
        server = OspreyServer.start(ServeFixtures.service(), null,
                ServerConfig.defaults("demo").withPort(0).withApiKey("test-key"));
        openai = OpenAIOkHttpClient.builder().baseUrl(server.uri() + "/v1").apiKey("test-key").maxRetries(0).build();
        scene = RgbImage.read(ServeFixtures.SCENE);
    }

    @AfterAll
    static void stop() {
        openai.close();
        server.close();
    }

    static ChatCompletionCreateParams.Builder ask(String text) {
        List<ChatCompletionContentPart> parts = List.of(
                ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                        .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder()
                                .url(ServeFixtures.dataUrl(ServeFixtures.sceneBytes())).build()).build()),
                ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text(text).build()));
        return ChatCompletionCreateParams.builder().model("demo").addUserMessageOfArrayOfContentParts(parts)
                .temperature(0).maxCompletionTokens(32);
    }

    @Test
    void listsTheModel() {
        List<Model> models = openai.models().list().data();
        assertEquals("demo", models.get(0).id());
    }

    @Test
    void aPlainChatRequestAboutTheWholeImage() {
        String q = "What is in the picture?";
        ChatCompletion c = openai.chat().completions().create(ask(q).build());
        AskResult expected = ServeFixtures.service().ask(scene, new AskRequest("scene", List.of(), q,
                GenerationOptions.greedy(32)), null, null);
        assertEquals(expected.text(), c.choices().get(0).message().content().orElseThrow());
        assertEquals(expected.promptTokens(), c.usage().orElseThrow().promptTokens());

        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(ask(q).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> ch.delta().content().ifPresent(
                    streamed::append)));
        }
        assertEquals(expected.text(), streamed.toString());
    }

    @Test
    void regionsTravelAsAnExtraBodyProperty() {
        String q = "What is <region1>?";
        ChatCompletionCreateParams params = ask(q).putAdditionalBodyProperty("regions",
                JsonValue.from(List.of(Map.of("box", List.of(64, 0, 128, 64))))).build();
        ChatCompletion c = openai.chat().completions().create(params);
        Mask box = Mask.fromPredicate(128, 128, (x, y) -> x >= 64 && y < 64);
        AskResult expected = ServeFixtures.service().ask(scene, new AskRequest("scene", List.of(box), q,
                GenerationOptions.greedy(32)), null, null);
        assertEquals(expected.text(), c.choices().get(0).message().content().orElseThrow());
    }

    @Test
    void refusalsArriveAsTheClientsErrors() {
        ChatCompletionCreateParams params = ask("What is <region1>?").putAdditionalBodyProperty("regions",
                JsonValue.from(List.of(Map.of("points", List.of(List.of(5, 5)))))).build();
        try {
            openai.chat().completions().create(params);
            throw new AssertionError("expected a 400");
        } catch (com.openai.errors.BadRequestException e) {
            assertEquals(400, e.statusCode());
            assertTrue(e.getMessage().contains("points need a SAM checkpoint"), e.getMessage());
        }
    }
}
