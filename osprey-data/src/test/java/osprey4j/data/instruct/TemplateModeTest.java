package osprey4j.data.instruct;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.datasets.Osprey724k;
import osprey4j.data.datasets.Osprey724kEntry;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.datasets.Turn;
import osprey4j.data.samples.Recipe;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TrainingSample;
import osprey4j.data.samples.TrainingSamples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Template mode on the hand-written world of {@link WorldFiles}: what the text says must match what was drawn. */
class TemplateModeTest {
    @TempDir
    static Path tmp;
    static Path world;
    static Path out;
    static InstructSummary summary;

    @BeforeAll
    static void generate() throws Exception {
        world = WorldFiles.write(tmp.resolve("world"), 0);
        out = tmp.resolve("out");
        summary = run(world, out, 7);
    }

    static InstructSummary run(Path world, Path out, long seed) throws Exception {
        SceneReader reader = SceneReader.open(SceneReader.Inputs.directory(world, null), ReadReport.strict());
        return InstructEngine.templates(reader, MiniLmEmbedder.get(), new InstructOptions(seed, 20), out);
    }

    static List<Osprey724kEntry> read(Path out, Subset s) throws Exception {
        try (Stream<Osprey724kEntry> e = Osprey724k.read(out.resolve(s.fileName()), ReadReport.strict())) {
            return e.toList();
        }
    }

    @Test
    void fiveFilesInTheOfficialSchema() throws Exception {
        assertEquals(Map.of(Subset.DETAILED_DESCRIPTION, 2L, Subset.CONVERSATION, 2L, Subset.PART_LEVEL, 1L,
                Subset.LVIS_POSITIVE_NEGATIVE, 2L, Subset.SHORT_FORM, 2L), summary.records());
        List<Osprey724kEntry> detail = read(out, Subset.DETAILED_DESCRIPTION);
        Osprey724kEntry first = detail.getFirst();
        assertEquals("img1.png", first.fileName());
        assertEquals(100, first.width());
        assertEquals(80, first.height());
        assertEquals(3, first.regions().size());
        assertEquals(3, first.descriptions().size());
        // regions keep their masks: the cup is the 25 x 25 square at (70, 50)
        assertArrayEquals(new double[]{70, 50, 25, 25}, CocoMasks.toBbox(first.regions().get(1), 80, 100));
        assertTrue(Files.isRegularFile(out.resolve(NegativeMiner.CACHE_FILE)));
        try (Stream<Path> files = Files.list(out)) {
            assertFalse(files.anyMatch(p -> p.toString().endsWith(".part")), "no temporary files left");
        }
    }

    @Test
    void descriptionsStateTheAnnotatedFacts() throws Exception {
        List<String> d = read(out, Subset.DETAILED_DESCRIPTION).getFirst().descriptions();
        String mug = d.get(0);
        assertTrue(mug.startsWith("<region1>: "), mug);
        for (String fact : List.of("red mug", "top left", "ceramic", "handle", "rim")) {
            assertTrue(mug.contains(fact), fact + " missing from: " + mug);
        }
        String cup = d.get(1);
        // no colour attribute: green is measured from the PNG's pixels under the mask
        assertTrue(cup.contains("green cup") && cup.contains("bottom right"), cup);
        assertTrue(cup.contains("plate"), "the plate is the cup's nearest object: " + cup);
        String dog = read(out, Subset.DETAILED_DESCRIPTION).get(1).descriptions().getFirst();
        assertTrue(dog.contains("dog") && dog.contains("centre"), dog);
        assertFalse(dog.contains("green") || dog.contains("red"), "no image, no colour attribute: " + dog);
    }

    @Test
    void partLevelAnswersNameTheParts() throws Exception {
        Osprey724kEntry e = read(out, Subset.PART_LEVEL).getFirst();
        assertEquals(3, e.regions().size(), "the mug and its two parts");
        List<String> answers = e.conversations().stream().filter(t -> t.from().equals(Turn.GPT)).map(Turn::value)
                .toList();
        assertEquals(List.of("mug", "handle", "blue", "rim"), answers);
        assertArrayEquals(new double[]{22, 10, 3, 8}, CocoMasks.toBbox(e.regions().get(1), 80, 100));
    }

    @Test
    void yesNoAnswersMatchTheCategories() throws Exception {
        List<String> worldCategories = SceneReader.open(SceneReader.Inputs.directory(world, null),
                ReadReport.strict()).categoryNames();
        assertTrue(worldCategories.contains("wine glass") && !worldCategories.contains("mug:handle"), worldCategories.toString());
        NegativeMiner miner = NegativeMiner.build(worldCategories, MiniLmEmbedder.get(), null);
        String[][] truth = {{"mug", "cup", "plate"}, {"dog"}};
        int negatives = 0;
        // Many seeds so that both kinds of question appear; every answer must be right.
        for (long seed = 0; seed < 6; seed++) {
            Path o = tmp.resolve("seed" + seed);
            run(world, o, seed);
            List<Osprey724kEntry> entries = read(o, Subset.LVIS_POSITIVE_NEGATIVE);
            for (int img = 0; img < 2; img++) {
                List<Turn> turns = entries.get(img).conversations();
                assertEquals(truth[img].length * 2, turns.size());
                for (int r = 0; r < truth[img].length; r++) {
                    String q = turns.get(2 * r).value();
                    assertTrue(q.contains("<region" + (r + 1) + ">"), q);
                    String asked = q.replaceAll(".* an? ([a-z ]+)( in <region\\d>)?\\?$", "$1");
                    boolean yes = turns.get(2 * r + 1).value().equals("Yes");
                    assertEquals(asked.equals(truth[img][r]), yes, q + " -> " + turns.get(2 * r + 1).value());
                    if (!yes) {
                        negatives++;
                        assertTrue(miner.nearest(truth[img][r], 8).contains(asked), asked + " for " + truth[img][r]);
                    }
                }
            }
        }
        assertTrue(negatives > 0);
    }

    @Test
    void shortFormAnswersAreShortAndTrue() throws Exception {
        List<Turn> turns = read(out, Subset.SHORT_FORM).getFirst().conversations();
        assertEquals("mug", turns.get(1).value());
        for (int i = 1; i < turns.size(); i += 2) {
            assertTrue(turns.get(i).value().split(" ").length <= 3, turns.get(i).value());
        }
    }

    @Test
    void theTrainingRecipesAcceptEveryRecord() throws Exception {
        Map<Subset, Recipe> recipes = Map.of(Subset.DETAILED_DESCRIPTION, Recipe.OSPREY_DETAILED_DESCRIPTION,
                Subset.CONVERSATION, Recipe.OSPREY_CONVERSATION, Subset.PART_LEVEL, Recipe.OSPREY_PART_LEVEL,
                Subset.SHORT_FORM, Recipe.OSPREY_SHORT_FORM,
                Subset.LVIS_POSITIVE_NEGATIVE, Recipe.OSPREY_LVIS_POSITIVE_NEGATIVE);
        for (var e : recipes.entrySet()) {
            ReadReport report = ReadReport.strict();
            try (Stream<TrainingSample> s = TrainingSamples.build(e.getValue(), out.resolve(e.getKey().fileName()),
                    SampleOptions.of(world.resolve("images"), 0), report)) {
                List<TrainingSample> samples = s.toList();
                assertEquals(summary.records().get(e.getKey()), samples.size(), e.getKey().toString());
                for (TrainingSample t : samples) {
                    assertEquals(t.regions().size(), t.regionReferences(), t.id());
                }
            }
            assertEquals(0, report.skipped(), e.getKey().toString());
        }
    }

    @Test
    void explicitFilesWithoutPartsOrCaptions() throws Exception {
        SceneReader reader = SceneReader.open(new SceneReader.Inputs(world.resolve("instances.json"), null, null,
                null), ReadReport.strict());
        Path o = tmp.resolve("explicit");
        InstructSummary s = InstructEngine.templates(reader, MiniLmEmbedder.get(), new InstructOptions(7, 2), o);
        assertEquals(0L, s.records().get(Subset.PART_LEVEL));
        List<Osprey724kEntry> d = read(o, Subset.DETAILED_DESCRIPTION);
        // --max-regions 2 keeps the two largest objects (the plate, 600 px, and the cup, 625 px) in file order
        assertEquals(2, d.getFirst().regions().size());
        assertTrue(d.getFirst().descriptions().get(0).contains("cup"), d.getFirst().descriptions().get(0));
        assertTrue(d.getFirst().descriptions().get(1).contains("plate"), d.getFirst().descriptions().get(1));
        assertFalse(d.getFirst().descriptions().get(0).contains("green"), "no images folder, no measured colour");
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherWording() throws Exception {
        Path again = tmp.resolve("again");
        run(world, again, 7);
        Path other = tmp.resolve("other");
        run(world, other, 8);
        boolean anyDifferent = false;
        for (Subset s : Subset.values()) {
            assertEquals(Files.readString(out.resolve(s.fileName())), Files.readString(again.resolve(s.fileName())));
            anyDifferent |= !Files.readString(out.resolve(s.fileName())).equals(Files.readString(other.resolve(s.fileName())));
        }
        assertTrue(anyDifferent);
        assertNotEquals(0, summary.regions());
    }
}
