package osprey4j.data.samples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.core.prompt.Preambles;
import osprey4j.core.prompt.RegionPrompt;
import osprey4j.data.datasets.CocoStyleFile;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.datasets.Turn;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Expected prompts are written out by hand from the reference's dataset classes (stage2_data.py, vg.py,
 * osprey_724k.py, train.py's preprocess_multimodal) and evaluators, not taken from our own output.
 */
class TrainingSamplesTest {
    static final Path ROOT = Path.of("/data/imgs");
    static final String OVERVIEW = "<image>\nThis provides an overview of the picture.\n";

    static Path resource(String name) {
        try {
            return Path.of(TrainingSamplesTest.class.getResource("/datasets/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<TrainingSample> build(Recipe recipe, String file, long seed, ReadReport report) throws IOException {
        try (Stream<TrainingSample> s = TrainingSamples.build(recipe, resource(file), SampleOptions.of(ROOT, seed),
                report)) {
            return s.toList();
        }
    }

    private static List<String> values(TrainingSample s) {
        return s.turns().stream().map(Turn::value).toList();
    }

    private static void assertAlternates(TrainingSample s) {
        for (int i = 0; i < s.turns().size(); i++) {
            assertEquals(i % 2 == 0 ? "human" : "gpt", s.turns().get(i).from());
        }
        assertEquals(s.regions().size(), s.regionReferences());
    }

    @Test
    void cocoCategoriesUseTheStage2PreambleAndOneRegionPerQuestion() throws IOException {
        List<TrainingSample> samples = build(Recipe.COCO_CATEGORIES, "coco_instances.json", 7, ReadReport.lenient());
        assertEquals(2, samples.size());   // image 3 has no annotations: skipped as the reference does
        TrainingSample s = samples.get(1);
        assertEquals("coco:2", s.id());
        assertEquals(ROOT.resolve("000000000002.jpg").toString(), s.image());
        assertEquals(3, s.regions().size());
        assertAlternates(s);
        String first = "<image>\nIn the conversation below, you simply answer the category name based on what you "
                + "see in the imagery inside a particular region. I will give you only one region each time.\n"
                + "<mask><pos>";
        assertEquals(first, s.turns().get(0).value());
        assertEquals("<mask><pos>", s.turns().get(2).value());
        assertEquals("<mask><pos>", s.turns().get(4).value());
        // annotations 101 (dog), 103 (person), 108 (dog) in some seeded order, each region with its own label
        List<String> answers = List.of(s.turns().get(1).value(), s.turns().get(3).value(), s.turns().get(5).value());
        assertEquals(List.of("dog", "dog", "person"), answers.stream().sorted().toList());
        int personAt = answers.indexOf("person");
        assertTrue(s.regions().get(personAt) instanceof osprey4j.data.coco.Segmentation.CompressedRle);
    }

    @Test
    void regionOrderAndWordingAreFixedBySeedAndIndependentOfProcessingOrder(@TempDir Path dir) throws IOException {
        // 30 annotations on one image and 1 on another: at most 20 regions, shuffled per seed.
        StringBuilder json = new StringBuilder("{\"categories\": [");
        for (int c = 0; c < 30; c++) {
            json.append(c == 0 ? "" : ",").append("{\"id\": ").append(c).append(", \"name\": \"c").append(c).append("\"}");
        }
        json.append("], \"annotations\": [");
        for (int a = 0; a < 30; a++) {
            json.append(a == 0 ? "" : ",").append("{\"id\": ").append(a).append(", \"image_id\": 1, \"category_id\": ")
                    .append(a).append(", \"segmentation\": [[0,0,1,0,").append(a).append(",1]]}");
        }
        json.append(",{\"id\": 99, \"image_id\": 2, \"category_id\": 0, \"segmentation\": [[0,0,1,0,1,1]]}");
        json.append("], \"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"height\": 9, \"width\": 9},"
                + "{\"id\": 2, \"file_name\": \"b.jpg\", \"height\": 9, \"width\": 9}]}");
        Path f = dir.resolve("many.json");
        Files.writeString(f, json);
        CocoStyleFile file = CocoStyleFile.index(f, ReadReport.strict());

        List<TrainingSample> a = TrainingSamples.fromCocoStyle(file, Recipe.COCO_CATEGORIES, SampleOptions.of(ROOT, 1)).toList();
        List<TrainingSample> b = TrainingSamples.fromCocoStyle(file, Recipe.COCO_CATEGORIES, SampleOptions.of(ROOT, 1)).toList();
        List<TrainingSample> c = TrainingSamples.fromCocoStyle(file, Recipe.COCO_CATEGORIES, SampleOptions.of(ROOT, 2)).toList();
        assertEquals(20, a.getFirst().regions().size());
        assertEquals(40, a.getFirst().turns().size());
        assertAlternates(a.getFirst());
        assertEquals(values(a.getFirst()), values(b.getFirst()));
        assertNotEquals(values(a.getFirst()), values(c.getFirst()));
        Set<String> labels = new HashSet<>();
        for (int i = 1; i < 40; i += 2) {
            labels.add(a.getFirst().turns().get(i).value());
        }
        assertEquals(20, labels.size());   // distinct regions, no repeats
        // region i must carry the polygon of the annotation whose label answers it
        for (int i = 0; i < 20; i++) {
            int cat = Integer.parseInt(a.getFirst().turns().get(2 * i + 1).value().substring(1));
            double[] poly = ((osprey4j.data.coco.Segmentation.Polygons) a.getFirst().regions().get(i)).polygons().getFirst();
            assertEquals(cat, (int) poly[4]);
        }
        // a smaller maxRegions wins over the recipe's cap
        List<TrainingSample> five = TrainingSamples.fromCocoStyle(file, Recipe.COCO_CATEGORIES,
                new SampleOptions(ROOT, 1, 5)).toList();
        assertEquals(5, five.getFirst().regions().size());
        // the second image's sample does not depend on the rest of the file
        Path alone = dir.resolve("alone.json");
        Files.writeString(alone, "{\"categories\": [{\"id\": 0, \"name\": \"c0\"}], \"annotations\": [{\"id\": 99, "
                + "\"image_id\": 2, \"category_id\": 0, \"segmentation\": [[0,0,1,0,1,1]]}], \"images\": [{\"id\": 2, "
                + "\"file_name\": \"b.jpg\", \"height\": 9, \"width\": 9}]}");
        TrainingSample single = TrainingSamples.fromCocoStyle(CocoStyleFile.index(alone, ReadReport.strict()),
                Recipe.COCO_CATEGORIES, SampleOptions.of(ROOT, 1)).findFirst().orElseThrow();
        assertEquals(a.get(1).id(), single.id());
        assertEquals(values(a.get(1)), values(single));
    }

    @Test
    void wordingDependsOnTheSeedAndTheEntryNotOnOrder() throws IOException {
        List<String> questions = new ArrayList<>();
        for (long seed = 0; seed < 12; seed++) {
            TrainingSample s = build(Recipe.OSPREY_DETAILED_DESCRIPTION, "osprey_detail_description.json", seed,
                    ReadReport.lenient()).getFirst();
            assertEquals(values(s), values(build(Recipe.OSPREY_DETAILED_DESCRIPTION, "osprey_detail_description.json",
                    seed, ReadReport.lenient()).getFirst()));
            questions.add(s.turns().get(2).value());
        }
        assertTrue(new HashSet<>(questions).size() > 3, questions.toString());   // the pool is really sampled
    }

    @Test
    void lvisAndPacoNamesAreSpelledOut() throws IOException {
        TrainingSample lvis = build(Recipe.LVIS_CATEGORIES, "lvis_v1.json", 3, ReadReport.strict()).getFirst();
        assertEquals(List.of("baseball bat", "hot-air balloon"), List.of(lvis.turns().get(1).value(),
                lvis.turns().get(3).value()).stream().sorted().toList());
        assertEquals(ROOT.resolve("000000397133.jpg").toString(), lvis.image());
        TrainingSample paco = build(Recipe.PACO_CATEGORIES, "paco_lvis.json", 3, ReadReport.strict()).getFirst();
        assertEquals(List.of("mug", "mug handle"), List.of(paco.turns().get(1).value(),
                paco.turns().get(3).value()).stream().sorted().toList());
    }

    @Test
    void refcocoUsesTheExpressionAndTheSuffixOfTheFileName() throws IOException {
        ReadReport report = ReadReport.lenient();
        List<TrainingSample> samples = build(Recipe.REFCOCO, "refcoco_with_mask.json", 0, report);
        assertEquals(1, samples.size());
        TrainingSample s = samples.getFirst();
        assertEquals(ROOT.resolve("000000581857.jpg").toString(), s.image());
        assertEquals(List.of("<image>\nI will provide you with only one region containing only one object, although "
                + "there may be other objects present in the image. It is recommended that you describe the object's "
                + "relative position with respect to other objects in the image, as well as its position within the "
                + "image and its basic attributes.<mask><pos>", "the lady with the blue shirt"), values(s));
        assertEquals(1, report.skipped());   // the entry without caption
        assertEquals("caption", report.skips().getFirst().field());

        TrainingSample plus = build(Recipe.REFCOCO_PLUS, "refcoco_with_mask.json", 0, ReadReport.lenient()).getFirst();
        assertTrue(plus.turns().getFirst().value().endsWith("its basic attibuts, you should not give its position "
                + "within the image.<mask><pos>"));
    }

    @Test
    void visualGenomeTakesThreeRegionsWithShortQuestions() throws IOException {
        ReadReport report = ReadReport.lenient();
        TrainingSample s = build(Recipe.VISUAL_GENOME, "vg_with_mask.json", 5, report).getFirst();
        assertEquals(3, s.regions().size());
        assertAlternates(s);
        assertTrue(s.turns().get(0).value().startsWith(OVERVIEW));
        for (int i = 0; i < 6; i += 2) {
            String q = s.turns().get(i).value();
            assertTrue(q.endsWith(" Answer the question using a short phrase."), q);
            String asked = (i == 0 ? q.substring(OVERVIEW.length()) : q)
                    .replace(" Answer the question using a short phrase.", "");
            assertTrue(Prompts.SHORT_QUESTIONS.contains(asked.replace("<mask><pos>", "<region>")), asked);
        }
        Set<String> answers = Set.of(s.turns().get(1).value(), s.turns().get(3).value(), s.turns().get(5).value());
        assertTrue(Set.of("a red car parked", "white clouds", "man walking", "grey road").containsAll(answers));
        assertEquals(1, report.skipped());   // annotation 16 without caption; 12 is ignored silently
        assertEquals(5, report.skips().getFirst().entryIndex());
    }

    @Test
    void captionsGiveImageLevelSamples() throws IOException {
        TrainingSample s = build(Recipe.COCO_CAPTIONS, "coco_captions.json", 0, ReadReport.strict()).getFirst();
        assertTrue(s.regions().isEmpty());
        assertTrue(s.turns().get(0).value().startsWith("<image>\n"));
        assertTrue(Set.of("A plate of food.", "Broccoli and rice on a plate.").contains(s.turns().get(1).value()));
    }

    @Test
    void ospreyConversationListsRegionsAndStripsAngleBrackets() throws IOException {
        ReadReport report = ReadReport.lenient();
        List<TrainingSample> samples = build(Recipe.OSPREY_CONVERSATION, "osprey_conversation.json", 0, report);
        assertEquals(1, samples.size());
        TrainingSample s = samples.getFirst();
        assertEquals(List.of(OVERVIEW + "Ther are 2 part regions in the picture: region1<mask><pos>,region2<mask><pos>. "
                        + "What is region1 doing?", "region1 is chasing region2.", "And region2?", "It rolls away."),
                values(s));
        assertEquals(ROOT.resolve("000000000042.jpg").toString(), s.image());
        assertEquals("osprey_conversation:#0", s.id());
        // 3 reader skips (width, segmentation, value) + the record with a question and no answer
        assertEquals(4, report.skipped());
        assertEquals("no question-answer pair", report.skips().getFirst().reason());   // entry 1, before entry 2's
    }

    @Test
    void theInlineFormPutsEachMentionedRegionInPlaceInTheOrderOfMention() throws IOException {
        List<TrainingSample> samples;
        try (Stream<TrainingSample> st = TrainingSamples.build(Recipe.OSPREY_CONVERSATION,
                resource("osprey_conversation.json"), SampleOptions.of(ROOT, 0).withRegionForm(RegionForm.INLINE),
                ReadReport.lenient())) {
            samples = st.toList();
        }
        TrainingSample s = samples.getFirst();
        // <region1> in the first question, <region2> in the second: their masks, in that order
        assertEquals(List.of(OVERVIEW + "What is <mask><pos> doing?", "The region is chasing the region.",
                "And <mask><pos>?", "It rolls away."), values(s));
        TrainingSample list = build(Recipe.OSPREY_CONVERSATION, "osprey_conversation.json", 0, ReadReport.lenient())
                .getFirst();
        assertEquals(describe(List.of(list.regions().get(0), list.regions().get(1))), describe(s.regions()));
        assertAlternates(s);

        TrainingSample shortForm;
        try (Stream<TrainingSample> st = TrainingSamples.build(Recipe.OSPREY_SHORT_FORM, resource("osprey_short_form.json"),
                SampleOptions.of(ROOT, 0).withRegionForm(RegionForm.INLINE), ReadReport.strict())) {
            shortForm = st.toList().getFirst();
        }
        assertEquals(List.of(OVERVIEW + "What color is <mask><pos>? Answer the question using a single word or phrase.",
                "Red."), values(shortForm));
        TrainingSample listShort = build(Recipe.OSPREY_SHORT_FORM, "osprey_short_form.json", 0, ReadReport.strict())
                .getFirst();
        assertEquals(describe(List.of(listShort.regions().get(1))), describe(shortForm.regions()),
                "only the region asked about");
    }

    private static TrainingSample shuffled(Recipe recipe, String file, long seed) throws IOException {
        try (Stream<TrainingSample> st = TrainingSamples.build(recipe, resource(file), SampleOptions.of(ROOT, seed)
                .withRegionForm(RegionForm.INLINE).withTurnOrder(TurnOrder.SHUFFLED), ReadReport.lenient())) {
            return st.toList().getFirst();
        }
    }

    @Test
    void shuffledTurnsKeepEachQuestionWithItsAnswerAndItsRegionsAndOpenWithTheImage() throws IOException {
        // The positive/negative record: "Is <region1> a cat?" Yes, "Is <region2> a sofa?" No.
        TrainingSample written;
        try (Stream<TrainingSample> st = TrainingSamples.build(Recipe.OSPREY_LVIS_POSITIVE_NEGATIVE,
                resource("osprey_lvis_positive_negative.json"), SampleOptions.of(ROOT, 0)
                        .withRegionForm(RegionForm.INLINE), ReadReport.lenient())) {
            written = st.toList().getFirst();
        }
        assertEquals(List.of(OVERVIEW + "Is <mask><pos> a cat?", "Yes", "Is <mask><pos> a sofa?", "No"), values(written));
        List<String> cat = describe(List.of(written.regions().get(0)));
        List<String> sofa = describe(List.of(written.regions().get(1)));
        java.util.Set<String> firstQuestions = new java.util.HashSet<>();
        for (long seed = 0; seed < 16; seed++) {
            TrainingSample s = shuffled(Recipe.OSPREY_LVIS_POSITIVE_NEGATIVE, "osprey_lvis_positive_negative.json", seed);
            assertAlternates(s);
            List<String> v = values(s);
            if (v.get(0).endsWith("a sofa?")) {
                assertEquals(List.of(OVERVIEW + "Is <mask><pos> a sofa?", "No", "Is <mask><pos> a cat?", "Yes"), v);
                assertEquals(describe(List.of(written.regions().get(1), written.regions().get(0))),
                        describe(s.regions()), "the sofa's mask moves first with its question");
            } else {
                assertEquals(values(written), v);
                assertEquals(describe(written.regions()), describe(s.regions()));
            }
            firstQuestions.add(v.get(0));
            assertEquals(v, values(shuffled(Recipe.OSPREY_LVIS_POSITIVE_NEGATIVE,
                    "osprey_lvis_positive_negative.json", seed)), "the same seed gives the same order");
            assertTrue(cat.size() == 1 && sofa.size() == 1);
        }
        assertEquals(2, firstQuestions.size(), "over 16 seeds either question opens the conversation");

        // A conversation: the answer that names a region stays with its question, suffixes are not added.
        java.util.Set<String> opens = new java.util.HashSet<>();
        for (long seed = 0; seed < 16; seed++) {
            TrainingSample s = shuffled(Recipe.OSPREY_CONVERSATION, "osprey_conversation.json", seed);
            List<String> v = values(s);
            opens.add(v.get(0));
            if (v.get(0).equals(OVERVIEW + "And <mask><pos>?")) {
                assertEquals(List.of(OVERVIEW + "And <mask><pos>?", "It rolls away.", "What is <mask><pos> doing?",
                        "The region is chasing the region."), v);
            } else {
                assertEquals(List.of(OVERVIEW + "What is <mask><pos> doing?", "The region is chasing the region.",
                        "And <mask><pos>?", "It rolls away."), v);
            }
        }
        assertEquals(2, opens.size());
    }

    @Test
    void shuffledTurnsNeedTheInlineForm() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SampleOptions.of(ROOT, 0).withTurnOrder(TurnOrder.SHUFFLED));
        assertTrue(e.getMessage().contains("inline"), e.getMessage());
    }

    /** Segmentations compared by content (polygons hold arrays). */
    private static List<String> describe(List<osprey4j.data.coco.Segmentation> regions) {
        return regions.stream().map(r -> r instanceof osprey4j.data.coco.Segmentation.Polygons p
                ? java.util.Arrays.deepToString(p.polygons().toArray()) : r.toString()).toList();
    }

    @Test
    void partLevelAndShortFormAddTheSingleWordSuffix() throws IOException {
        TrainingSample part = build(Recipe.OSPREY_PART_LEVEL, "osprey_part_level.json", 0, ReadReport.strict()).getFirst();
        assertEquals(List.of(OVERVIEW + "Ther are 1 part region in the picture: region1<mask><pos>. What is the part "
                + "region1? Answer the question using a single word or phrase.", "A handle."), values(part));
        TrainingSample shortForm = build(Recipe.OSPREY_SHORT_FORM, "osprey_short_form.json", 0, ReadReport.strict())
                .getFirst();
        assertEquals(List.of(OVERVIEW + "Ther are 2 part regions in the picture: region1<mask><pos>,region2<mask><pos>. "
                + "What color is region2? Answer the question using a single word or phrase.", "Red."), values(shortForm));
    }

    @Test
    void lvisPositiveNegativeReplacesNumberedRegionsAndChecksTheirCount() throws IOException {
        ReadReport report = ReadReport.lenient();
        List<TrainingSample> samples = build(Recipe.OSPREY_LVIS_POSITIVE_NEGATIVE,
                "osprey_lvis_positive_negative.json", 0, report);
        assertEquals(1, samples.size());
        assertEquals(List.of(OVERVIEW + "Is <mask><pos> a cat?", "Yes", "Is <mask><pos> a sofa?", "No"),
                values(samples.getFirst()));
        assertEquals(ROOT.resolve("000000000070.jpg").toString(), samples.getFirst().image());
        assertEquals(1, report.skipped());
        assertTrue(report.skips().getFirst().reason().startsWith("2 region references for 1 regions"));
    }

    @Test
    void detailedDescriptionsTakeTheTextAfterTheRegionTag() throws IOException {
        ReadReport report = ReadReport.lenient();
        List<TrainingSample> samples = build(Recipe.OSPREY_DETAILED_DESCRIPTION, "osprey_detail_description.json", 4,
                report);
        assertEquals(1, samples.size());
        TrainingSample s = samples.getFirst();
        assertAlternates(s);
        assertEquals("A brown dog: fluffy and small.", s.turns().get(1).value());
        assertEquals("A red ball on the grass.", s.turns().get(3).value());
        String q0 = s.turns().get(0).value();
        assertTrue(q0.startsWith(OVERVIEW), q0);
        assertTrue(Prompts.DETAILED_QUESTIONS.contains(q0.substring(OVERVIEW.length()).replace("<mask><pos>", "<region>")));
        assertTrue(Prompts.DETAILED_QUESTIONS.contains(s.turns().get(2).value().replace("<mask><pos>", "<region>")));
        assertEquals(List.of("description[0]", "description"), report.skips().stream().map(ReadReport.Skip::field).toList());
    }

    @Test
    void questionPoolsAskAboutExactlyOneRegion() {
        for (List<String> pool : List.of(Prompts.DETAILED_QUESTIONS, Prompts.SHORT_QUESTIONS)) {
            for (String q : pool) {
                assertEquals(1, RegionPrompt.count(q, "<region>"), q);
            }
        }
        for (String q : Prompts.CAPTION_QUESTIONS) {
            assertEquals(0, RegionPrompt.count(q, "<"), q);
        }
    }

    @Test
    void imageTokenIsMovedToTheFrontAsTheReferenceDoes() {
        assertEquals("<image>\nIn the conversation", Prompts.moveImageToFront("<image>\n In the conversation"));
        assertEquals("<image>\n.\nThis provides an overview of the picture.\nPlease give me a short description of "
                        + "<mask><pos>.",
                Prompts.moveImageToFront(Preambles.REFCOCOG_EVAL + Prompts.REFCOCOG_EVAL_QUESTION));
        assertEquals("no image here ", Prompts.moveImageToFront("no image here "));
        assertTrue(Prompts.PASCAL_PART.contains("based on what you seein the image"));
        assertTrue(Prompts.PART_IMAGENET.endsWith("Subcategories Containing Tier,Hand,Wing,Mouth,Tail,Side,Fin,Engine,"
                + "Foot,Head,Body,Sail,Seat.\n"));
    }

    @Test
    void evaluationSamples() throws IOException {
        List<TrainingSample> cats;
        try (var s = EvalSamples.categories(resource("lvis_val_1k_category.json"), "lvis_eval",
                SampleOptions.of(ROOT, 0), ReadReport.lenient())) {
            cats = s.toList();
        }
        assertEquals(2, cats.size());
        assertEquals(List.of(OVERVIEW + "What is the category of <mask><pos>? Using only one word or phrase.",
                "mug handle"), values(cats.get(1)));
        assertEquals("lvis_eval:#0/1", cats.get(1).id());
        assertEquals(1, cats.get(1).regions().size());

        List<TrainingSample> pope;
        try (var s = EvalSamples.pope(resource("coco_pope_random.json"), SampleOptions.of(ROOT, 0), ReadReport.lenient())) {
            pope = s.toList();
        }
        assertEquals(3, pope.size());
        assertEquals(List.of("<image>\nIs there a snowboard in the image?", "yes"), values(pope.getFirst()));
        assertEquals(ROOT.resolve("000000310196.jpg").toString(), pope.getFirst().image());

        CocoStyleFile ref = CocoStyleFile.index(resource("refcoco_with_mask.json"), ReadReport.lenient());
        List<TrainingSample> caps = EvalSamples.refcocogCaptions(ref, SampleOptions.of(ROOT, 0)).toList();
        assertEquals(1, caps.size());
        assertEquals(List.of("<image>\n.\nThis provides an overview of the picture.\nPlease give me a short "
                + "description of <mask><pos>.", "the lady with the blue shirt"), values(caps.getFirst()));
        assertEquals("refcocog_eval:0", caps.getFirst().id());
    }

    @Test
    void jsonLinesRoundTrip() throws IOException {
        List<TrainingSample> samples = new ArrayList<>(build(Recipe.COCO_CATEGORIES, "coco_instances.json", 7,
                ReadReport.lenient()));
        StringWriter out = new StringWriter();
        for (TrainingSample s : samples) {
            SampleJsonl.write(s, out);
        }
        String[] lines = out.toString().split("\n");
        assertEquals(samples.size(), lines.length);
        for (int i = 0; i < lines.length; i++) {
            TrainingSample back = SampleJsonl.parse(lines[i]);
            TrainingSample s = samples.get(i);
            assertEquals(s.id(), back.id());
            assertEquals(s.turns(), back.turns());
            assertEquals(s.regions().size(), back.regions().size());
            for (int r = 0; r < s.regions().size(); r++) {
                switch (s.regions().get(r)) {
                    case osprey4j.data.coco.Segmentation.Polygons p -> assertArrayEquals(p.polygons().getFirst(),
                            ((osprey4j.data.coco.Segmentation.Polygons) back.regions().get(r)).polygons().getFirst());
                    case osprey4j.data.coco.Segmentation.UncompressedRle u -> assertArrayEquals(u.counts(),
                            ((osprey4j.data.coco.Segmentation.UncompressedRle) back.regions().get(r)).counts());
                    case osprey4j.data.coco.Segmentation.CompressedRle c -> assertEquals(c,
                            back.regions().get(r));
                }
            }
        }
        assertTrue(lines[0].contains("\"conversations\":[{\"from\":\"human\""), lines[0]);
    }
}
