package osprey4j.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.instruct.InstructEngine;
import osprey4j.data.instruct.InstructOptions;
import osprey4j.data.instruct.SceneReader;
import osprey4j.data.instruct.Subset;
import osprey4j.data.instruct.TextEmbedder;
import osprey4j.core.mask.Mask;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.world.SyntheticWorld;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;

/** From a synthetic world through {@code osprey data instruct} output to training examples, and what is skipped. */
class TrainingDataReaderTest {
    @TempDir
    static Path tmp;
    static Path world;
    static Path instruct;
    static Tokenizer tokenizer;
    static Preprocessor preprocessor;
    static TrainingDataReader.Result intact;

    /** Deterministic stand-in for MiniLM (only negative mining uses it; any vectors will do). */
    static final TextEmbedder HASH_EMBEDDER = new TextEmbedder() {
        @Override
        public String modelId() {
            return "test-hash";
        }

        @Override
        public float[][] embed(List<String> texts) {
            float[][] out = new float[texts.size()][16];
            for (int i = 0; i < texts.size(); i++) {
                java.util.SplittableRandom r = new java.util.SplittableRandom(texts.get(i).hashCode());
                for (int k = 0; k < 16; k++) {
                    out[i][k] = (float) r.nextGaussian();
                }
            }
            return out;
        }
    };

    @BeforeAll
    static void generate() throws IOException {
        world = tmp.resolve("world");
        SyntheticWorld.generate(new SyntheticWorld.Options(6, 3, 96, 96, 1), world, (d, t) -> { });
        instruct = tmp.resolve("instruct");
        SceneReader scenes = SceneReader.open(SceneReader.Inputs.directory(world, null), ReadReport.strict());
        InstructEngine.templates(scenes, HASH_EMBEDDER, new InstructOptions(5, 8), instruct);
        tokenizer = OspreyTokens.loadTokenizer(PreprocessParityTest.MODEL, Tokenizer.Mode.FAST);
        preprocessor = new Preprocessor(tokenizer, Conversation.VICUNA_V1, 2048, true);
        intact = reader(world.resolve("images"), 0.01).read(instruct);
    }

    static TrainingDataReader reader(Path images, double maxSkipped) {
        return new TrainingDataReader(preprocessor, tokenizer, SampleOptions.of(images, 1), maxSkipped);
    }

    @Test
    void instructOutputBecomesExamples() {
        assertEquals(0, intact.skipped(), () -> String.join("\n", intact.problems()));
        assertTrue(intact.examples().size() >= 20, "examples: " + intact.examples().size());
        int maskId = tokenizer.tokenId("<mask>").orElseThrow();
        int posId = tokenizer.tokenId("<pos>").orElseThrow();
        for (TrainingExample e : intact.examples()) {
            int images = 0;
            int masks = 0;
            for (int i = 0; i < e.length(); i++) {
                images += e.inputIds()[i] == OspreyTokens.IMAGE_TOKEN_ID ? 1 : 0;
                if (e.inputIds()[i] == maskId) {
                    masks++;
                    assertEquals(posId, e.inputIds()[i + 1], e.id());
                    assertEquals(Preprocessor.IGNORE_INDEX, e.labels()[i], "region tokens are never targets");
                }
            }
            assertEquals(1, images, e.id());
            assertEquals(e.masks().size(), masks, e.id());
            assertTrue(e.supervisedTokens() > 0 || e.mismatch(), e.id());
            for (Mask m : e.masks()) {
                assertEquals(96, m.width());
                assertEquals(96, m.height());
                assertTrue(m.area() > 0, e.id() + ": an empty region");
            }
        }
        // Every subset file contributed.
        for (String prefix : List.of("osprey_detailed_description", "osprey_conversation", "osprey_part_level",
                "osprey_lvis_positive_negative", "osprey_short_form")) {
            assertTrue(intact.examples().stream().anyMatch(e -> e.id().startsWith(prefix + ":")), prefix);
        }
    }

    @Test
    void examplesAreThePreprocessorsOutput() throws IOException {
        // The same reading twice gives the same ids and labels (deterministic per seed).
        TrainingDataReader.Result again = reader(world.resolve("images"), 0.01).read(instruct);
        assertEquals(intact.examples().size(), again.examples().size());
        for (int i = 0; i < again.examples().size(); i++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(intact.examples().get(i).inputIds(),
                    again.examples().get(i).inputIds());
            org.junit.jupiter.api.Assertions.assertArrayEquals(intact.examples().get(i).labels(),
                    again.examples().get(i).labels());
        }
    }

    @Test
    void missingOrBrokenImagesAndMasksAreCountedAndTooManyFail() throws IOException {
        Path images = tmp.resolve("damaged-images");
        Files.createDirectories(images);
        try (Stream<Path> files = Files.list(world.resolve("images"))) {
            for (Path f : files.toList()) {
                Files.copy(f, images.resolve(f.getFileName()));
            }
        }
        Files.delete(images.resolve("000001.png"));
        Files.write(images.resolve("000002.png"), new byte[] {1, 2, 3, 4});
        long lost = intact.examples().stream().filter(e -> e.image().endsWith("000001.png")
                || e.image().endsWith("000002.png")).count();
        assertTrue(lost > 0);

        // One more: a mask whose RLE does not fit its size, in a copy of the conversation file.
        Path data = tmp.resolve("damaged-instruct");
        Files.createDirectories(data);
        for (Subset s : Subset.values()) {
            Files.copy(instruct.resolve(s.fileName()), data.resolve(s.fileName()));
        }
        ObjectMapper json = new ObjectMapper();
        Path conv = data.resolve(Subset.CONVERSATION.fileName());
        ArrayNode root = (ArrayNode) json.readTree(conv.toFile());
        int victim = -1;
        for (int i = 0; i < root.size() && victim < 0; i++) {
            String name = root.get(i).get("file_name").asText();
            if (!name.equals("000001.png") && !name.equals("000002.png")) {
                victim = i;
            }
        }
        JsonNode seg = root.get(victim).get("annotation").get(0).get("segmentation");
        ((ObjectNode) seg).put("counts", "0");   // one run of zero pixels for a 96x96 mask
        json.writeValue(conv.toFile(), root);

        TrainingDataReader.TrainingDataException e = assertThrows(TrainingDataReader.TrainingDataException.class,
                () -> reader(images, 0.01).read(data));
        assertTrue(e.getMessage().contains("samples skipped"), e.getMessage());

        TrainingDataReader.Result r = reader(images, 1.0).read(data);
        assertEquals(lost + 1, r.skipped(), () -> String.join("\n", r.problems()));
        assertEquals(intact.examples().size() - lost - 1, r.examples().size());
        assertTrue(r.problems().stream().anyMatch(p -> p.contains("image not found")), r.problems().toString());
        assertTrue(r.problems().stream().anyMatch(p -> p.contains("image does not decode")), r.problems().toString());
        assertTrue(r.problems().stream().anyMatch(p -> p.contains("does not decode") && p.contains("region")),
                r.problems().toString());
    }

    @Test
    void sampleJsonLinesReadLikeTheFileTheyWereMadeFrom() throws IOException {
        Path file = instruct.resolve(Subset.CONVERSATION.fileName());
        SampleOptions options = SampleOptions.of(world.resolve("images"), 1);
        Path jsonl = tmp.resolve("samples.jsonl");
        try (java.io.Writer out = Files.newBufferedWriter(jsonl);
             Stream<osprey4j.data.samples.TrainingSample> samples = osprey4j.data.samples.TrainingSamples.build(
                     osprey4j.data.samples.Recipe.OSPREY_CONVERSATION, file, options, ReadReport.strict())) {
            for (osprey4j.data.samples.TrainingSample s : samples.toList()) {
                osprey4j.data.samples.SampleJsonl.write(s, out);
            }
        }
        TrainingDataReader.Result fromFile = reader(world.resolve("images"), 0.01).read(file);
        TrainingDataReader.Result fromLines = reader(world.resolve("images"), 0.01).read(jsonl);
        assertEquals(fromFile.examples().size(), fromLines.examples().size());
        assertTrue(fromFile.examples().size() > 0);
        for (int i = 0; i < fromFile.examples().size(); i++) {
            TrainingExample a = fromFile.examples().get(i);
            TrainingExample b = fromLines.examples().get(i);
            assertEquals(a.id(), b.id());
            org.junit.jupiter.api.Assertions.assertArrayEquals(a.inputIds(), b.inputIds());
            org.junit.jupiter.api.Assertions.assertArrayEquals(a.labels(), b.labels());
            assertEquals(a.masks(), b.masks());
        }
    }

    @Test
    void unknownInputsAreOneLineErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> reader(world.resolve("images"), 0.01).read(tmp.resolve("nothing-here")));
        assertTrue(e.getMessage().startsWith("training data not found"), e.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> reader(world.resolve("images"), 0.01).read(world.resolve("images")));
        assertTrue(empty.getMessage().contains("none of the Osprey-724K files"), empty.getMessage());
    }

    @Test
    void repeatsListASubsetNTimesAndZeroLeavesItOut() throws IOException {
        java.util.Map<Subset, Integer> mix = java.util.Map.of(Subset.LVIS_POSITIVE_NEGATIVE, 3, Subset.CONVERSATION, 0);
        TrainingDataReader.Result mixed = reader(world.resolve("images"), 0.01).read(instruct, mix);
        for (Subset s : Subset.values()) {
            // samples are named after their recipe; the detailed-description file's is osprey_detailed_description
            String idPrefix = s == Subset.DETAILED_DESCRIPTION ? "osprey_detailed_description:"
                    : s.fileName().replace(".json", ":");
            List<TrainingExample> once = intact.examples().stream().filter(e -> e.id().startsWith(idPrefix)).toList();
            List<TrainingExample> now = mixed.examples().stream().filter(e -> e.id().startsWith(idPrefix)).toList();
            assertTrue(!once.isEmpty(), s.id());
            int times = mix.getOrDefault(s, 1);
            assertEquals(once.size() * times, now.size(), s.id());
            for (int i = 0; i < now.size(); i++) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(once.get(i % once.size()).inputIds(),
                        now.get(i).inputIds(), s.id() + " copy " + i / once.size());
            }
        }
        assertEquals(intact.skipped(), mixed.skipped(), "skips are counted once");
        IllegalArgumentException notDir = assertThrows(IllegalArgumentException.class,
                () -> reader(world.resolve("images"), 0.01).read(instruct.resolve(Subset.SHORT_FORM.fileName()),
                        java.util.Map.of(Subset.SHORT_FORM, 2)));
        assertTrue(notDir.getMessage().contains("need a directory"), notDir.getMessage());
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                () -> reader(world.resolve("images"), 0.01).read(instruct, java.util.Map.of(Subset.SHORT_FORM, 101)));
        assertTrue(tooMany.getMessage().contains("0..100"), tooMany.getMessage());
    }
}
