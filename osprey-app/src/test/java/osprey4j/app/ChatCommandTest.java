package osprey4j.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.mask.MaskPng;
import osprey4j.data.datasets.Osprey724k;
import osprey4j.data.datasets.Osprey724kEntry;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.datasets.Turn;
import osprey4j.model.GenerationOptions;
import osprey4j.service.ChatSession;
import osprey4j.service.OspreyService;

/** {@code osprey chat} with piped stdin, end to end on the parity fixture model. */
class ChatCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run chat(String stdin, String... args) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            StringWriter out = new StringWriter(), err = new StringWriter();
            String[] all = Stream.concat(Stream.of("chat"), Stream.of(args)).toArray(String[]::new);
            int code = OspreyCli.execute(new PrintWriter(out), new PrintWriter(err), all);
            return new Run(code, out.toString(), err.toString());
        } finally {
            System.setIn(saved);
        }
    }

    @Test
    void pipedSessionAnswersEachLineKeepsGoingAfterErrorsAndSaves() throws Exception {
        String image = ModelCommandsTest.input("rgba_wide.png");
        String mask = ModelCommandsTest.input("C_large_holes.png");
        Path saved = dir.resolve("chat.json");
        String stdin = String.join("\n",
                "What is <region1>?",
                "/box 10,20,10,90",
                "/box 100,20,300,90",
                "And <region3>?",
                "/frobnicate",
                "/mask " + ModelCommandsTest.input("B_tiny.png"),
                "/point 3,4",
                "Compare <region2> with <region1>.",
                "/regions",
                "/save " + saved,
                "/quit",
                "This line is never read.") + "\n";
        Run r = chat(stdin, "--model", ModelCommandsTest.MODEL.toString(), "--image", image, "--mask", mask,
                "--greedy", "--max-new-tokens", "12");
        assertEquals(0, r.code(), r.err());

        // The same conversation through the service gives the same answers.
        String a1;
        String a2;
        try (OspreyService service = OspreyService.load(ModelCommandsTest.MODEL, w -> { });
             ChatSession s = service.chat(OspreyService.readImage(image), image, null)) {
            s.addRegion(MaskPng.read(Path.of(mask)));
            a1 = s.ask("What is <region1>?", GenerationOptions.greedy(12), null).text();
            s.addRegion(RegionInputs.box("100,20,300,90", s.width(), s.height()));
            a2 = s.ask("Compare <region2> with <region1>.", GenerationOptions.greedy(12), null).text();
        }
        List<String> out = r.out().lines().toList();
        assertEquals(4, out.size(), r.out());
        assertEquals(a1, out.get(0).strip());
        assertEquals(a2, out.get(1).strip());
        assertTrue(out.get(2).startsWith("<region1>  mask " + mask + "  ("), out.get(2));
        assertTrue(out.get(3).startsWith("<region2>  box 100,20,300,90  (14000 pixels, box x=100 y=20 w=200 h=70)"),
                out.get(3));

        List<String> err = r.err().lines().toList();
        assertEquals(5, err.size(), r.err());
        assertEquals("osprey chat: /box 10,20,10,90 covers no pixel of the 640x256 image (needs x1 < x2 and y1 < y2"
                + " inside it)", err.get(0));
        assertEquals("osprey chat: the question refers to <region3> but there are 2 regions", err.get(1));
        assertTrue(err.get(2).startsWith("osprey chat: unknown command /frobnicate"), err.get(2));
        assertTrue(err.get(3).contains("mask 3 is 180x300 but the image is 640x256"), err.get(3));
        assertTrue(err.get(4).contains("/point needs SAM"), err.get(4));

        List<Osprey724kEntry> entries;
        try (Stream<Osprey724kEntry> s = Osprey724k.read(saved, ReadReport.strict())) {
            entries = s.toList();
        }
        assertEquals(List.of(Turn.human("What is <region1>?"), Turn.gpt(a1),
                Turn.human("Compare <region2> with <region1>."), Turn.gpt(a2)), entries.getFirst().conversations());
        assertEquals(2, entries.getFirst().regions().size());
    }

    @Test
    void contextOverflowIsSaidBeforeTheTurnAndResetGoesOn() {
        String image = ModelCommandsTest.input("rgba_wide.png");
        String stdin = "Describe the picture.\n" + "word ".repeat(2100) + "\n/reset\n/greedy\nDescribe the picture.\n";
        Run r = chat(stdin, "--model", ModelCommandsTest.MODEL.toString(), "--image", image, "--greedy",
                "--max-new-tokens", "6");
        assertEquals(0, r.code(), r.err());
        List<String> out = r.out().lines().toList();
        assertEquals(2, out.size(), r.out());
        assertEquals(out.get(0), out.get(1), "after /reset the same question gets the same greedy answer");
        List<String> err = r.err().lines().toList();
        assertEquals(1, err.size(), r.err());
        assertTrue(err.get(0).matches("osprey chat: the conversation with this question is \\d+ tokens long, which"
                + " leaves no room to answer within the model's 2048 positions \\(max_position_embeddings\\);"
                + " /reset starts over with the same image and regions"), err.get(0));
    }

    @Test
    void temperatureAndGreedySwitchMidChat() {
        String image = ModelCommandsTest.input("rgba_wide.png");
        String stdin = "/temperature abc\n/temperature 0\n/temperature 1.5\nDescribe the picture.\n/greedy\n"
                + "And then?\n/help\n";
        Run r = chat(stdin, "--model", ModelCommandsTest.MODEL.toString(), "--image", image, "--greedy",
                "--max-new-tokens", "8");
        assertEquals(0, r.code(), r.err());
        String sampled;
        String greedy;
        try (OspreyService service = OspreyService.load(ModelCommandsTest.MODEL, w -> { });
             ChatSession s = service.chat(OspreyService.readImage(image), image, null)) {
            sampled = s.ask("Describe the picture.", GenerationOptions.sampling(1.5f, 1.0f, 50, 0)
                    .withMaxNewTokens(8), null).text();
            greedy = s.ask("And then?", GenerationOptions.greedy(8), null).text();
        }
        List<String> out = r.out().lines().toList();
        assertEquals(sampled, out.get(0).strip());
        assertEquals(greedy, out.get(1).strip());
        assertTrue(r.out().contains("/save FILE"), "the /help text is printed");
        List<String> err = r.err().lines().toList();
        assertEquals(List.of("osprey chat: /temperature abc: not a number",
                "osprey chat: /temperature: temperature must be a positive number, got 0.0"), err);
    }
}
