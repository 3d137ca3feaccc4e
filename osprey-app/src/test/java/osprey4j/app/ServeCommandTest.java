package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code osprey serve}'s command line: help, and the one-line refusals before anything listens. */
class ServeCommandTest {
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = OspreyCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpNamesTheEndpointsAndLimits() {
        Run r = run("serve", "--help");
        assertEquals(0, r.code());
        for (String s : new String[] {"/v1/chat/completions", "/v1/images", "/metrics", "--host", "--api-key-env",
                "--queue-depth", "--max-upload-mb", "--max-megapixels", "--max-regions", "--max-prompt-chars",
                "--max-tokens", "127.0.0.1"}) {
            assertTrue(r.out().contains(s), s);
        }
    }

    @Test
    void refusesWhatItCannotServeInOneLine() {
        Run sam = run("serve", "--model", "../models/demo", "--sam", "sam.pth");
        assertEquals(2, sam.code());
        assertTrue(sam.err().contains("--sam: SAM checkpoint not found: sam.pth"), sam.err());
        Run key = run("serve", "--model", "../models/demo", "--api-key-env", "OSPREY_TEST_SURELY_UNSET_VARIABLE");
        assertEquals(2, key.code());
        assertTrue(key.err().contains("that environment variable is not set"), key.err());
        Run workers = run("serve", "--model", "../models/demo", "--workers", "0");
        assertEquals(2, workers.code());
        assertTrue(workers.err().contains("workers must be at least 1"), workers.err());
        assertEquals(1, (int) workers.err().lines().count(), workers.err());
    }
}
