package osprey4j.data.instruct;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class ChatClientTest {
    private static final List<ChatClient.Message> ASK = List.of(new ChatClient.Message("system", "detailed description"),
            new ChatClient.Message("user", "Marked regions: 2 (<region1> and <region2>)."));

    static ChatClient client(FakeChatServer s, int attempts) {
        return new ChatClient(new ChatClient.Settings(ChatClient.Settings.endpoint(s.baseUrl()), "fake-model",
                "sk-test", Duration.ofMillis(700), attempts, Duration.ofMillis(20), Duration.ofSeconds(2), 0.2));
    }

    @Test
    void answersAndCountsTokens() throws Exception {
        try (FakeChatServer s = new FakeChatServer()) {
            ChatClient c = client(s, 3);
            ChatClient.Reply r = c.complete(ASK);
            assertEquals("<region1>: An object seen in detail, number 1.\n\n<region2>: An object seen in detail, number 2.",
                    r.content());
            assertTrue(r.promptTokens() > 0 && r.completionTokens() > 0);
            assertEquals(r.promptTokens(), c.promptTokens());
            assertEquals(List.of("Bearer sk-test"), s.authorisations());
            assertEquals(0, c.retries());
        }
    }

    @Test
    void retriesEveryTransientFault() throws Exception {
        try (FakeChatServer s = new FakeChatServer()) {
            s.inject(FakeChatServer.Fault.SERVER_ERROR, FakeChatServer.Fault.SLOW, FakeChatServer.Fault.BROKEN_JSON,
                    FakeChatServer.Fault.DROP);
            ChatClient c = client(s, 6);
            ChatClient.Reply r = c.complete(ASK);
            assertTrue(r.content().startsWith("<region1>:"));
            assertEquals(5, s.requests());
            assertEquals(4, c.retries());
        }
    }

    @Test
    void honoursRetryAfter() throws Exception {
        try (FakeChatServer s = new FakeChatServer()) {
            s.inject(FakeChatServer.Fault.RATE_LIMITED);
            ChatClient c = client(s, 3);
            long t0 = System.nanoTime();
            c.complete(ASK);
            long waited = (System.nanoTime() - t0) / 1_000_000;
            // base backoff is 20 ms; only the server's "Retry-After: 1" explains a wait of a second
            assertTrue(waited >= 1000, "waited " + waited + " ms");
            assertEquals(2, s.requests());
        }
    }

    @Test
    void givesUpAfterMaxAttempts() throws Exception {
        try (FakeChatServer s = new FakeChatServer()) {
            s.inject(FakeChatServer.Fault.SERVER_ERROR, FakeChatServer.Fault.SERVER_ERROR,
                    FakeChatServer.Fault.SERVER_ERROR);
            ChatClient.ChatException e = assertThrows(ChatClient.ChatException.class, () -> client(s, 3).complete(ASK));
            assertTrue(e.getMessage().contains("HTTP 500"), e.getMessage());
            assertEquals(3, s.requests());
        }
    }

    @Test
    void doesNotRetryARefusal() throws Exception {
        try (FakeChatServer s = new FakeChatServer()) {
            s.inject(FakeChatServer.Fault.UNAUTHORISED);
            ChatClient.ChatException e = assertThrows(ChatClient.ChatException.class, () -> client(s, 5).complete(ASK));
            assertTrue(e.refused());
            assertEquals(1, s.requests());
        }
    }

    @Test
    void endpointAcceptsBaseOrFullUrl() {
        assertEquals("http://h/v1/chat/completions", ChatClient.Settings.endpoint("http://h/v1/").toString());
        assertEquals("http://h/v1/chat/completions",
                ChatClient.Settings.endpoint("http://h/v1/chat/completions").toString());
    }
}
