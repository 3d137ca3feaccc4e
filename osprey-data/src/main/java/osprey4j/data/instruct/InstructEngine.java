package osprey4j.data.instruct;

import osprey4j.data.datasets.ReadReport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Writes the five Osprey-724K files for a set of annotations. Template mode runs here; LLM mode
 * ({@link LlmGenerator}) fills the description, conversation and short-form subsets from the model's replies and
 * reuses the template subsets for part-level and yes/no questions, which the paper also builds from annotations.
 */
public final class InstructEngine {
    private InstructEngine() {
    }

    /** The objects a record is about: the largest ones (by mask area), at most {@code max}, in file order. */
    static List<SceneObject> chosen(Scene s, int max) {
        if (s.objects().size() <= max) {
            return s.objects();
        }
        List<SceneObject> largest = s.objects().stream()
                .sorted(Comparator.comparingDouble(SceneObject::areaFraction).reversed()).limit(max).toList();
        return s.objects().stream().filter(largest::contains).toList();
    }

    /** The random source of one image and subset: a function of (seed, subset, image id) only. */
    static SplittableRandom rng(long seed, Subset subset, long imageId) {
        return new SplittableRandom(mix(mix(seed ^ (0x9E3779B97F4A7C15L * (subset.ordinal() + 1))) ^ imageId));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Builds the negative miner over the input's categories, caching vectors in {@code out}. */
    static NegativeMiner miner(SceneReader reader, TextEmbedder embedder, Path out) throws IOException {
        return NegativeMiner.build(reader.categoryNames(), embedder, out.resolve(NegativeMiner.CACHE_FILE));
    }

    /** Template mode: all five files from templates. */
    public static InstructSummary templates(SceneReader reader, TextEmbedder embedder, InstructOptions options,
                                            Path out) throws IOException {
        TemplateText text = new TemplateText(miner(reader, embedder, out));
        return write(reader, options, out, (subset, scene) -> templateRecords(text, subset, scene, options));
    }

    /** The template records of one subset for one scene (part-level gives one per object with parts). */
    static List<InstructRecord> templateRecords(TemplateText text, Subset subset, Scene s, InstructOptions options) {
        List<SceneObject> objects = chosen(s, options.maxRegions());
        if (objects.isEmpty()) {
            return List.of();
        }
        SplittableRandom rng = rng(options.seed(), subset, s.image().id());
        return switch (subset) {
            case DETAILED_DESCRIPTION -> List.of(text.detailed(s, objects, rng));
            case CONVERSATION -> List.of(text.conversation(s, objects, rng));
            case SHORT_FORM -> List.of(text.shortForm(s, objects, rng));
            case LVIS_POSITIVE_NEGATIVE -> List.of(text.positiveNegative(s, objects, rng));
            case PART_LEVEL -> {
                List<InstructRecord> out = new ArrayList<>();
                for (SceneObject o : s.objects()) {
                    InstructRecord r = text.partLevel(s, o, rng);
                    if (r != null) {
                        out.add(r);
                    }
                }
                yield out;
            }
        };
    }

    @FunctionalInterface
    interface RecordSource {
        List<InstructRecord> records(Subset subset, Scene scene) throws IOException;
    }

    /** One pass over the scenes, writing the five files side by side (each atomically). */
    static InstructSummary write(SceneReader reader, InstructOptions options, Path out, RecordSource source)
            throws IOException {
        Files.createDirectories(out);
        InstructSummary summary = new InstructSummary();
        Map<Subset, Osprey724kWriter> writers = new EnumMap<>(Subset.class);
        try {
            for (Subset s : Subset.values()) {
                writers.put(s, new Osprey724kWriter(out.resolve(s.fileName())));
            }
            try (Stream<Scene> scenes = reader.scenes()) {
                for (Iterator<Scene> it = scenes.iterator(); it.hasNext(); ) {
                    Scene scene = it.next();
                    summary.images++;
                    summary.regions += scene.objects().size();
                    for (Subset s : Subset.values()) {
                        for (InstructRecord r : source.records(s, scene)) {
                            writers.get(s).write(r);
                        }
                    }
                }
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            for (Subset s : Subset.values()) {
                writers.get(s).commit();
                summary.records.put(s, writers.get(s).count());
            }
        } finally {
            for (Osprey724kWriter w : writers.values()) {
                w.close();
            }
        }
        return summary;
    }
}
