package osprey4j.data.instruct;

import osprey4j.data.datasets.ReadReport;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The template engine ({@link InstructEngine#templates}) split by image, for batch jobs that spread the images over
 * several machines. The driver reads the annotations once ({@link #plan}); each image's
 * {@link SceneReader.SceneInput} travels to a worker, which builds the image's scene and its records for the five
 * subsets ({@link #records}) with a negative miner built once per JVM ({@link #miner}); {@link OfficialFiles} puts
 * the records back into the five official files.
 *
 * <p>Same records: an image's records are those {@code osprey data instruct} writes for it. Every random choice of
 * the engine already draws from a source that depends only on the seed, the subset and the image id
 * ({@link InstructEngine#rng}), never on the images processed before, so an image's records do not depend on where
 * or in which order it is processed, and the single-machine engine is unchanged.
 */
public final class InstructByImage {
    private InstructByImage() {
    }

    /**
     * What every image's work shares.
     *
     * @param vocabulary category names and attributes by id
     * @param categories the category names negatives are mined among ({@link SceneReader#categoryNames()})
     * @param images     absolute path of the image folder colours are measured in, or {@code null}
     */
    public record Shared(SceneReader.Vocabulary vocabulary, List<String> categories, String images,
                         InstructOptions options) implements Serializable {
        public Shared {
            categories = List.copyOf(categories);
        }
    }

    /** The driver's reading of the input: what is shared, and each image's share in file order. */
    public record Plan(Shared shared, List<SceneReader.SceneInput> images) {
    }

    /** One image's output: its regions (objects with a mask) and its records per subset, as JSON text. */
    public record ImageRecords(long imageId, int regions, Map<Subset, List<String>> records) {
    }

    /** Reads the annotation files once (parts and captions included). */
    public static Plan plan(SceneReader.Inputs inputs, ReadReport report, InstructOptions options)
            throws IOException {
        SceneReader reader = SceneReader.open(inputs, report);
        List<SceneReader.SceneInput> images;
        try (Stream<SceneReader.SceneInput> s = reader.sceneInputs()) {
            images = s.toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        Path dir = reader.images();
        return new Plan(new Shared(reader.vocabulary(), reader.categoryNames(),
                dir == null ? null : dir.toAbsolutePath().normalize().toString(), options), images);
    }

    private static final Map<List<String>, NegativeMiner> MINERS = new ConcurrentHashMap<>();

    /**
     * The negative miner over {@code categories}, built on first use in this JVM (embedding every name once) and
     * shared by every later call with the same embedder model and categories.
     */
    public static NegativeMiner miner(List<String> categories, TextEmbedder embedder) {
        List<String> key = new ArrayList<>(categories.size() + 1);
        key.add(embedder.modelId());
        key.addAll(categories);
        return MINERS.computeIfAbsent(Collections.unmodifiableList(key), k -> {
            try {
                return NegativeMiner.build(categories, embedder, null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);   // no cache file: not reached
            }
        });
    }

    /**
     * One image's records for the five subsets, in the order the files list them, each as the JSON text the file
     * holds. Reads the image (for colours the annotations do not name) when the folder has it.
     *
     * @throws UncheckedIOException when the image file is there but cannot be read
     */
    public static ImageRecords records(Shared shared, SceneReader.SceneInput input, TextEmbedder embedder) {
        Scene scene = SceneReader.scene(shared.vocabulary(), input,
                shared.images() == null ? null : Path.of(shared.images()));
        TemplateText text = new TemplateText(miner(shared.categories(), embedder));
        Map<Subset, List<String>> out = new EnumMap<>(Subset.class);
        try {
            for (Subset s : Subset.values()) {
                List<String> json = new ArrayList<>();
                for (InstructRecord r : InstructEngine.templateRecords(text, s, scene, shared.options())) {
                    json.add(Osprey724kWriter.json(r));
                }
                out.put(s, List.copyOf(json));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ImageRecords(input.image().id(), scene.objects().size(), out);
    }

    /**
     * The five official files written side by side from records' JSON text ({@link #records}), each file
     * atomically: until {@link #commit()} nothing is in place, and {@link #close()} without it leaves nothing.
     */
    public static final class OfficialFiles implements AutoCloseable {
        private final Map<Subset, Osprey724kWriter> writers = new EnumMap<>(Subset.class);
        private boolean committed;

        public OfficialFiles(Path dir) throws IOException {
            Files.createDirectories(dir);
            try {
                for (Subset s : Subset.values()) {
                    writers.put(s, new Osprey724kWriter(dir.resolve(s.fileName())));
                }
            } catch (IOException e) {
                close();
                throw e;
            }
        }

        public void write(Subset subset, String json) throws IOException {
            writers.get(subset).writeJson(json);
        }

        /** Puts the five files in place; returns the records per subset. */
        public Map<Subset, Long> commit() throws IOException {
            Map<Subset, Long> counts = new EnumMap<>(Subset.class);
            for (Subset s : Subset.values()) {
                writers.get(s).commit();
                counts.put(s, writers.get(s).count());
            }
            committed = true;
            return counts;
        }

        @Override
        public void close() throws IOException {
            if (!committed) {
                for (Osprey724kWriter w : writers.values()) {
                    w.close();
                }
            }
        }
    }
}
