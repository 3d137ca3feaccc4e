package osprey4j.eval.runner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import osprey4j.core.io.AtomicFiles;
import osprey4j.core.mask.Mask;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.samples.TrainingSample;
import osprey4j.data.datasets.Turn;
import osprey4j.model.GenerationOptions;

/**
 * The loop every paper evaluation shares: ask each sample's question, score the answer, append the result to
 * {@code samples.jsonl} at once; resume from what an earlier run wrote; encode each image once.
 *
 * <p>A sample is a {@link TrainingSample} as {@code EvalSamples} makes it from the official evaluation files: its
 * first human turn is the question exactly as the reference builds it, its first gpt turn (if any) the ground
 * truth, and samples of one image follow each other. {@code --shard i/n} keeps the images at positions i mod n,
 * {@code --limit N} the first N samples of what is left.
 *
 * <p>Decoding is recorded in {@code run.json}; a rerun into the same folder must decode the same way and use the
 * same model (a folder never mixes answers of two set-ups). When sampling, each sample draws from its own generator,
 * seeded from the run's seed and the sample id ({@link #sampleSeed}), so an interrupted, resumed or sharded run
 * gives the answers an uninterrupted one gives.
 */
public final class EvalRun {
    public static final String SAMPLES = "samples.jsonl";
    public static final String RUN = "run.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param benchmark  the evaluation's name (lvis, pope, ...), recorded in run.json
     * @param out        output folder (created; an earlier run's is resumed)
     * @param limit      only the first N samples (0: all)
     * @param shard      which images
     * @param decoding   greedy or sampled with a seed; the reference samples at temperature 0.2
     * @param progress   receives progress lines (may be null)
     */
    public record Options(String benchmark, Path out, int limit, Shard shard, GenerationOptions decoding,
                          Consumer<String> progress) {
        public Options {
            Objects.requireNonNull(benchmark, "benchmark");
            Objects.requireNonNull(out, "out");
            Objects.requireNonNull(decoding, "decoding");
            shard = shard == null ? Shard.ALL : shard;
            if (limit < 0) {
                throw new IllegalArgumentException("--limit must be 0 (all) or positive, got " + limit);
            }
        }
    }

    /** Adds the benchmark's per-sample scores to the record of one answered sample. */
    @FunctionalInterface
    public interface Scorer {
        void score(TrainingSample sample, String answer, ObjectNode record);
    }

    /**
     * The outcome: every selected sample's record, in file order.
     *
     * @param selected samples this run covers (after shard and limit)
     * @param askedNow answered in this run
     * @param resumed  taken from samples.jsonl
     */
    public record Result(List<JsonNode> records, int selected, int askedNow, int resumed, String answerer,
                         ObjectNode run, double seconds, List<TrainingSample> samples) {
        /** The selected sample of this id, or null. */
        public TrainingSample sample(String id) {
            return samples.stream().filter(s -> s.id().equals(id)).findFirst().orElse(null);
        }
    }

    private EvalRun() {
    }

    /**
     * Which samples a run with these options covers.
     *
     * @throws IllegalArgumentException when two samples have one id (results are resumed by id)
     */
    public static List<TrainingSample> select(Iterator<TrainingSample> samples, Shard shard, int limit) {
        List<TrainingSample> out = new ArrayList<>();
        java.util.Set<String> ids = new java.util.HashSet<>();
        long imagePosition = -1;
        String lastImage = null;
        while (samples.hasNext() && (limit == 0 || out.size() < limit)) {
            TrainingSample s = samples.next();
            if (!s.image().equals(lastImage)) {
                imagePosition++;
                lastImage = s.image();
            }
            if (!ids.add(s.id())) {
                throw new IllegalArgumentException("two samples have the id " + s.id() + " (the evaluation file "
                        + "repeats an entry); results are kept by id, so this file cannot be evaluated as it is");
            }
            if (shard.holds(imagePosition)) {
                out.add(s);
            }
        }
        return out;
    }

    public static Result run(List<TrainingSample> samples, Options options, RegionAsker asker, Scorer scorer,
                             ObjectNode runInfo) throws IOException {
        long t0 = System.nanoTime();
        Files.createDirectories(options.out());
        ObjectNode run = runInfo(runInfo, options.benchmark(), asker.name(), options.decoding());
        checkSameSetUp(options.out().resolve(RUN), run);
        AtomicFiles.write(options.out().resolve(RUN), f -> Files.writeString(f,
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(run) + "\n"));

        Path samplesFile = options.out().resolve(SAMPLES);
        Map<String, JsonNode> done = SamplesFile.read(samplesFile);
        int resumed = (int) samples.stream().filter(s -> done.containsKey(s.id())).count();
        Progress progress = new Progress(options.progress(), samples.size(), resumed, 5000);
        int askedNow = 0;
        try (SamplesFile w = SamplesFile.append(samplesFile)) {
            int i = 0;
            while (i < samples.size()) {
                int j = i;
                while (j < samples.size() && samples.get(j).image().equals(samples.get(i).image())) {
                    j++;
                }
                List<TrainingSample> todo = samples.subList(i, j).stream().filter(s -> !done.containsKey(s.id()))
                        .toList();
                i = j;
                if (todo.isEmpty()) {
                    continue;
                }
                Path image = Path.of(todo.getFirst().image());
                if (!Files.isRegularFile(image)) {
                    throw new NoSuchFileException(image.toString(), null, "image file not found (sample "
                            + todo.getFirst().id() + "); check the image folder");
                }
                RegionAsker.Image session = asker.open(image);
                for (TrainingSample s : todo) {
                    String question = s.turns().getFirst().value();
                    GenerationOptions g = decodingFor(options.decoding(), s.id());
                    List<Mask> masks;
                    try {
                        masks = masks(s);
                    } catch (RuntimeException e) {
                        throw new IllegalArgumentException("sample " + s.id() + ": cannot rasterise its region: "
                                + e.getMessage(), e);
                    }
                    long a0 = System.nanoTime();
                    String answer;
                    try {
                        answer = session.ask(masks, question, g);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("sample " + s.id() + " (" + s.image() + "): "
                                + e.getMessage(), e);
                    }
                    double ms = (System.nanoTime() - a0) / 1e6;
                    ObjectNode r = record(s.id(), s.image(), question, truth(s), answer, g, ms);
                    scorer.score(s, answer, r);
                    w.write(r);
                    done.put(s.id(), r);
                    askedNow++;
                    progress.answered();
                }
            }
        }
        List<JsonNode> records = new ArrayList<>(samples.size());
        for (TrainingSample s : samples) {
            records.add(done.get(s.id()));
        }
        return new Result(records, samples.size(), askedNow, resumed, asker.name(), run,
                (System.nanoTime() - t0) / 1e9, List.copyOf(samples));
    }

    /**
     * One answered sample's line of samples.jsonl before its scores: id, image, question, truth (when there is one),
     * answer, seed (when sampling) and the answer's milliseconds.
     */
    public static ObjectNode record(String id, String image, String question, String truth, String answer,
                                    GenerationOptions g, double ms) {
        ObjectNode r = JSON.createObjectNode();
        r.put("id", id);
        r.put("image", image);
        r.put("question", question);
        if (truth != null) {
            r.put("truth", truth);
        }
        r.put("answer", answer);
        if (!g.greedy()) {
            r.put("seed", g.seed());
        }
        r.put("ms", Math.round(ms * 10) / 10.0);
        return r;
    }

    /** How the sample {@code id} is decoded in a run decoding with {@code decoding}: its own seed when sampling. */
    public static GenerationOptions decodingFor(GenerationOptions decoding, String id) {
        return decoding.greedy() ? decoding : decoding.withSeed(sampleSeed(decoding.seed(), id));
    }

    /** run.json's content: the benchmark's info, the benchmark, the answerer and the decoding. */
    public static ObjectNode runInfo(ObjectNode info, String benchmark, String answerer, GenerationOptions decoding) {
        ObjectNode run = info.deepCopy();
        run.put("benchmark", benchmark);
        run.put("answerer", answerer);
        run.set("decoding", decoding(decoding));
        return run;
    }

    /** The ground truth of a sample: its first gpt turn, or null. */
    public static String truth(TrainingSample s) {
        return s.turns().stream().filter(t -> Turn.GPT.equals(t.from())).map(Turn::value).findFirst().orElse(null);
    }

    /** The sample's regions, rasterised as the reference does (polygons merged at the entry's size, RLE as stored). */
    public static List<Mask> masks(TrainingSample s) {
        List<Mask> out = new ArrayList<>(s.regions().size());
        for (Segmentation seg : s.regions()) {
            out.add(CocoMasks.decode(seg, s.height(), s.width()));
        }
        return out;
    }

    /** A sample's own seed: the run's seed and the id, mixed (SplitMix64 over the run seed and the id's FNV-1a hash). */
    public static long sampleSeed(long runSeed, String id) {
        long h = 0xcbf29ce484222325L;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        long z = runSeed + 0x9E3779B97F4A7C15L * (h | 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static ObjectNode decoding(GenerationOptions g) {
        ObjectNode o = JSON.createObjectNode();
        o.put("greedy", g.greedy());
        if (!g.greedy()) {
            o.put("seed", g.seed());
            o.put("temperature", g.temperature());
            o.put("top_k", g.topK());
            o.put("top_p", g.topP());
        }
        o.put("max_new_tokens", g.maxNewTokens());
        return o;
    }

    /** Refuses to add to a folder whose earlier run used another benchmark, model or decoding. */
    public static void checkSameSetUp(Path runFile, ObjectNode run) throws IOException {
        if (!Files.exists(runFile)) {
            return;
        }
        JsonNode old;
        try {
            old = JSON.readTree(runFile.toFile());
        } catch (IOException e) {
            return; // an unreadable run.json is rewritten; the samples stay
        }
        for (String key : List.of("benchmark", "answerer", "decoding", "data")) {
            JsonNode a = old.path(key);
            JsonNode b = JSON.readTree(JSON.writeValueAsString(run.path(key))); // as it will read back
            if (!a.isMissingNode() && !a.equals(b)) {
                throw new IllegalArgumentException(runFile.getParent() + " holds a run with " + key + " " + a
                        + ", not " + b + "; use another --out (its samples would mix two set-ups)");
            }
        }
    }
}
