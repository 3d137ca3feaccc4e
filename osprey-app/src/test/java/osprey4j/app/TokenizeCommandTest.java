package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TokenizeCommandTest {
    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = OspreyCli.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void missingModelDirectoryIsAUsageError(@TempDir Path tmp) {
        Result r = run("tokenize", "--model", tmp.resolve("absent").toString(), "hello");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("osprey tokenize: model directory not found"), r.err());
        assertEquals(1, r.err().strip().lines().count());
    }

    @Test
    void directoryWithoutTokenizerFilesIsAUsageError(@TempDir Path tmp) {
        Result r = run("tokenize", "--model", tmp.toString(), "hello");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("neither tokenizer.json nor tokenizer.model"), r.err());
    }

    @Test
    void printsIdsAndPiecesAsJson(@TempDir Path tmp) throws java.io.IOException {
        // A tiny hand-written LLaMA-style tokenizer.json: "hi" is "▁" + "h" + "i" merged twice.
        java.nio.file.Files.writeString(tmp.resolve("tokenizer.json"), """
                {"added_tokens": [
                   {"id": 0, "content": "<unk>", "special": true, "normalized": true},
                   {"id": 1, "content": "<s>", "special": true, "normalized": true},
                   {"id": 2, "content": "</s>", "special": true, "normalized": true}],
                 "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                   {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
                 "pre_tokenizer": null,
                 "decoder": null,
                 "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": false,
                   "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3, "h": 4, "i": 5, "▁h": 6, "▁hi": 7},
                   "merges": ["▁ h", "▁h i"]}}
                """);
        Result r = run("tokenize", "--model", tmp.toString(), "--json", "hi <mask>");
        assertEquals(0, r.exit(), r.err());
        assertEquals("{\"ids\":[1,7,3,8],\"pieces\":[\"<s>\",\"▁hi\",\"▁\",\"<mask>\"],\"mode\":\"fast\"}",
                r.out().strip());
    }

    @Test
    void chatModeCountsRegionsFromTheQuestion() {
        assertEquals(2, TokenizeCommand.referencedRegions("Is <region2> near <region1>?"));
        assertEquals(1, TokenizeCommand.referencedRegions("What is <mask><pos>?"));
        assertEquals(0, TokenizeCommand.referencedRegions("What is this?"));
    }

    @Test
    void helpIsPrinted() {
        Result r = run("tokenize", "--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("--model"), r.out());
    }

    @Test
    void controlCharactersInPiecesAreEscaped() {
        assertEquals("a\\nb\\t\\u0001", TokenizeCommand.visible("a\nb\t\u0001"));
    }
}
