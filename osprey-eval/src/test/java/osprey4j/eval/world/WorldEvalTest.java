package osprey4j.eval.world;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.data.instruct.MiniLmEmbedder;
import osprey4j.data.world.SyntheticWorld;

class WorldEvalTest {
    @TempDir
    static Path tmp;
    static Path world;

    @BeforeAll
    static void makeWorld() throws IOException {
        world = tmp.resolve("world");
        SyntheticWorld.generate(new SyntheticWorld.Options(4, 424242, 96, 96, 1), world, (d, t) -> { });
    }

    static WorldEval.Options options(Path out, int limit) {
        return new WorldEval.Options(world, out, 3, limit, MiniLmEmbedder.get(), null);
    }

    /** Answers what the training data answers: every rule must accept it. */
    static final class ReferenceAnswerer implements Answerer {
        final AtomicInteger opened = new AtomicInteger();
        final AtomicInteger asked = new AtomicInteger();

        @Override
        public ImageAnswers open(Path image) {
            opened.incrementAndGet();
            return q -> {
                asked.incrementAndGet();
                return q.reference();
            };
        }
    }

    @Test
    void questionsCoverEveryTypeInTrainingForm() throws IOException {
        List<WorldQuestions.ImageQuestions> images = WorldQuestions.build(world, tmp.resolve("q"), MiniLmEmbedder.get(), 3);
        Set<QuestionType> types = EnumSet.noneOf(QuestionType.class);
        Set<String> ids = new HashSet<>();
        for (WorldQuestions.ImageQuestions i : images) {
            assertTrue(Files.isRegularFile(i.image()), i.image().toString());
            for (WorldQuestion q : i.questions()) {
                types.add(q.type());
                assertTrue(ids.add(q.id()), "ids are unique: " + q.id());
                assertTrue(q.text().startsWith("<image>\nThis provides an overview of the picture.\n"), q.text());
                int masks = q.text().split("<mask><pos>", -1).length - 1;
                assertEquals(q.masks().size(), masks, q.text());
                switch (q.type()) {
                    case CATEGORY, PART -> assertEquals(q.truth(), q.reference());
                    case YES_NO -> assertEquals(q.truth(), q.reference().toLowerCase());
                    case COLOUR -> assertTrue(q.reference().contains(q.truth() + " " + q.category()), q.reference());
                    case MULTI_REGION -> assertTrue(q.reference().contains(q.truth()), q.reference());
                }
                if (q.type() == QuestionType.CATEGORY || q.type() == QuestionType.PART) {
                    assertTrue(q.text().endsWith(" Answer the question using a single word or phrase."), q.text());
                    assertTrue(q.text().contains("part region"), "the region list preamble: " + q.text());
                }
            }
        }
        assertEquals(EnumSet.allOf(QuestionType.class), types);
    }

    @Test
    void theInlineFormAsksAboutTheNamedRegionsOnlyAsPeopleAsk() throws IOException {
        List<WorldQuestions.ImageQuestions> list = WorldQuestions.build(world, tmp.resolve("ql"), MiniLmEmbedder.get(), 3);
        List<WorldQuestions.ImageQuestions> inline = WorldQuestions.build(world, tmp.resolve("qi"), MiniLmEmbedder.get(), 3,
                osprey4j.data.samples.RegionForm.INLINE);
        assertEquals(list.size(), inline.size());
        int relations = 0;
        for (int i = 0; i < list.size(); i++) {
            List<WorldQuestion> a = list.get(i).questions(), b = inline.get(i).questions();
            assertEquals(a.size(), b.size(), "the same questions");
            for (int j = 0; j < a.size(); j++) {
                WorldQuestion l = a.get(j), q = b.get(j);
                assertEquals(l.id(), q.id());
                assertEquals(l.truth(), q.truth());
                assertFalse(q.text().contains("part region"), "no region list: " + q.text());
                assertFalse(q.text().matches("(?s).*\\bregion\\d.*"), "no region names: " + q.text());
                int masks = q.text().split("<mask><pos>", -1).length - 1;
                assertEquals(q.masks().size(), masks, q.text());
                if (q.type() == QuestionType.MULTI_REGION) {
                    assertEquals(2, q.masks().size(), q.text());
                    relations++;
                } else if (q.type() == QuestionType.PART) {
                    // "Which part of the mug is <mask><pos>?" or "What part of <mask><pos> does <mask><pos> show?"
                    assertTrue(q.masks().size() == 1 || q.masks().size() == 2, q.text());
                } else {
                    assertEquals(1, q.masks().size(), q.text());
                }
                if (q.type() == QuestionType.CATEGORY) {
                    // the one mask given is the one the list form's question named
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("region(\\d+)\\?").matcher(l.text());
                    assertTrue(m.find(), l.text());
                    assertEquals(l.masks().get(Integer.parseInt(m.group(1)) - 1), q.masks().getFirst());
                }
            }
        }
        assertTrue(relations > 0);
    }

    @Test
    void referenceAnswersScoreFullMarksAndWrongOnesZero() throws IOException {
        ReferenceAnswerer perfect = new ReferenceAnswerer();
        WorldEval.Report r = WorldEval.run(options(tmp.resolve("perfect"), 0), perfect);
        assertTrue(r.questions() > 20, "questions: " + r.questions());
        for (QuestionType t : QuestionType.values()) {
            WorldEval.Score s = r.byType().get(t);
            assertTrue(s.asked() > 0, t.name());
            assertEquals(s.asked(), s.correct(), t + " " + r.failures().get(t));
        }
        assertTrue(r.meetsBars());
        assertEquals(4, perfect.opened.get(), "one open (one image encode) per image");

        // Hand-written answers from the annotations, worded unlike the training data: also all correct.
        Answerer fromTruth = image -> q -> switch (q.type()) {
            case CATEGORY -> "It is a " + q.truth() + ", I think.";
            case PART -> "the " + q.truth();
            case YES_NO -> q.truth().equals("yes") ? "Yes, it is." : "No";
            case COLOUR -> "This " + q.truth() + " " + q.category() + " stands out. Nothing else is red or blue.";
            case MULTI_REGION -> "The " + q.category() + " is " + q.truth() + " the " + q.other() + ".";
        };
        WorldEval.Report byTruth = WorldEval.run(options(tmp.resolve("truth"), 0), fromTruth);
        for (QuestionType type : QuestionType.values()) {
            assertEquals(byTruth.byType().get(type).asked(), byTruth.byType().get(type).correct(),
                    type + " " + byTruth.failures().get(type));
        }

        Answerer wrong = image -> q -> switch (q.type()) {
            case YES_NO -> q.truth().equals("yes") ? "No" : "Yes";
            case COLOUR -> "A purple thing with green stripes, orange and yellow.";
            case MULTI_REGION -> "It is hard to say.";
            default -> "zzz";
        };
        WorldEval.Report w = WorldEval.run(options(tmp.resolve("wrong"), 0), wrong);
        for (QuestionType t : QuestionType.values()) {
            assertEquals(0, w.byType().get(t).correct(), t.name());
        }
        assertFalse(w.meetsBars());
        String md = Files.readString(tmp.resolve("wrong").resolve(WorldEval.REPORT));
        assertTrue(md.contains("| category (short form) | 0 |"), md);
        assertTrue(md.contains("## Failures"), md);
        JsonNode summary = new ObjectMapper().readTree(tmp.resolve("perfect").resolve(WorldEval.SUMMARY).toFile());
        assertEquals(1.0, summary.path("types").path("yes_no").path("accuracy").asDouble());
        assertEquals(r.questions(), Files.readAllLines(tmp.resolve("perfect").resolve(WorldEval.SAMPLES)).size());
    }

    @Test
    void resumesWhereItStoppedAndReasksADamagedLine() throws IOException {
        Path out = tmp.resolve("resume");
        ReferenceAnswerer first = new ReferenceAnswerer();
        WorldEval.Report part = WorldEval.run(options(out, 7), first);
        assertEquals(7, part.questions());
        assertEquals(7, first.asked.get());

        ReferenceAnswerer second = new ReferenceAnswerer();
        WorldEval.Report all = WorldEval.run(options(out, 0), second);
        assertEquals(7, all.resumed());
        assertEquals(all.questions() - 7, second.asked.get());
        assertEquals(all.questions(), all.askedNow() + all.resumed());

        ReferenceAnswerer third = new ReferenceAnswerer();
        WorldEval.run(options(out, 0), third);
        assertEquals(0, third.asked.get(), "nothing left to ask");
        assertEquals(0, third.opened.get(), "no image encoded when its questions are all answered");

        // A crash in the middle of a line: the line is dropped and its question asked again.
        Path samples = out.resolve(WorldEval.SAMPLES);
        String content = Files.readString(samples, StandardCharsets.UTF_8);
        Files.writeString(samples, content.substring(0, content.length() - 20), StandardCharsets.UTF_8);
        ReferenceAnswerer fourth = new ReferenceAnswerer();
        WorldEval.Report again = WorldEval.run(options(out, 0), fourth);
        assertEquals(1, fourth.asked.get());
        assertEquals(again.questions(), again.byType().values().stream().mapToInt(WorldEval.Score::correct).sum());
        List<String> lines = Files.readAllLines(samples);
        assertEquals(all.questions(), lines.size());
        for (String l : lines) {
            new ObjectMapper().readTree(l);
        }
    }

    @Test
    void randomFixtureModelAnswersThroughTheFacade() throws IOException {
        Path model = Path.of("..", "osprey-model", "src", "test", "resources", "parity", "model");
        List<String> answers = new ArrayList<>();
        try (OspreyAnswerer osprey = OspreyAnswerer.load(model)) {
            Answerer recording = new Answerer() {
                @Override
                public ImageAnswers open(Path image) throws IOException {
                    ImageAnswers a = osprey.open(image);
                    return q -> {
                        String s = a.answer(q);
                        answers.add(s);
                        return s;
                    };
                }

                @Override
                public String name() {
                    return osprey.name();
                }
            };
            WorldEval.Report r = WorldEval.run(options(tmp.resolve("model"), 6), recording);
            assertEquals(6, r.questions());
            assertEquals(6, r.askedNow());
        }
        assertEquals(6, answers.size());
        List<String> lines = Files.readAllLines(tmp.resolve("model").resolve(WorldEval.SAMPLES));
        assertEquals(6, lines.size());
        assertEquals(answers.getFirst(), new ObjectMapper().readTree(lines.getFirst()).path("answer").asText());
    }

    @Test
    void refusesAMissingWorld() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> WorldEval.run(new WorldEval.Options(tmp.resolve("nope"), tmp.resolve("o"), 0, 0,
                        MiniLmEmbedder.get(), null), new ReferenceAnswerer()));
        assertEquals("world directory not found: " + tmp.resolve("nope"), e.getMessage());
    }
}
