package osprey4j.train.data;

import osprey4j.data.coco.CocoMasks;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.instruct.Subset;
import osprey4j.core.mask.Mask;
import osprey4j.data.samples.Recipe;
import osprey4j.data.samples.SampleJsonl;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TrainingSample;
import osprey4j.data.samples.TrainingSamples;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;
import osprey4j.model.image.RgbImage;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Reads training data into {@link TrainingExample}s: Osprey-724K files in the official layout (what
 * {@code osprey data instruct} writes, one file per subset), or the JSON lines of {@code osprey data samples}. The
 * conversations are built by {@link TrainingSamples} (the reference's dataset classes), then tokenised and
 * labelled by the {@link Preprocessor}; regions are decoded to masks at the entry's size (COCO polygons,
 * uncompressed or compressed RLE).
 *
 * <p>Nothing is dropped silently. A sample is skipped, counted and its reason kept (the first
 * {@link #KEPT_PROBLEMS}) when: its entry is malformed (the dataset reader's report), its image is missing or does
 * not decode, the image's size differs from the entry's {@code width x height} (masks would not line up), a mask
 * does not decode, the conversation breaks the reference's turn rules, or the ids do not hold one {@code <mask>}
 * per region. If more than {@code maxSkippedFraction} (1% by default) of the samples are skipped,
 * {@link #read} fails with a {@link TrainingDataException} that gives the counts and the first reasons.
 * Samples the reference's "tokenization mismatch" rule fully ignores are kept (as the reference keeps them) and
 * counted in {@link Result#mismatched()}.
 *
 * <p>Images are decoded once per file to check them (results are cached per path); the examples keep the path.
 */
public final class TrainingDataReader {
    public static final int KEPT_PROBLEMS = 100;
    public static final double DEFAULT_MAX_SKIPPED_FRACTION = 0.01;
    /** The largest repeat of a subset in a data mixture. */
    public static final int MAX_REPEAT = 100;

    private final Preprocessor preprocessor;
    private final int maskId;
    private final SampleOptions options;
    private final double maxSkippedFraction;
    private final Map<String, Object> imageChecks = new HashMap<>();   // path -> int[]{w, h} or a String problem

    /**
     * @param tokenizer the tokenizer the preprocessor uses (for the id of {@code <mask>})
     * @param options   image root, seed (question wording, region order) and region cap, as for
     *                  {@code osprey data samples}
     */
    public TrainingDataReader(Preprocessor preprocessor, Tokenizer tokenizer, SampleOptions options,
                              double maxSkippedFraction) {
        this.preprocessor = Objects.requireNonNull(preprocessor);
        this.maskId = tokenizer.tokenId("<mask>").orElseThrow(
                () -> new IllegalArgumentException("the tokenizer has no <mask> token (load it with loadForOsprey)"));
        this.options = Objects.requireNonNull(options);
        if (!(maxSkippedFraction >= 0 && maxSkippedFraction <= 1)) {
            throw new IllegalArgumentException("max skipped fraction must be in [0, 1], got " + maxSkippedFraction);
        }
        this.maxSkippedFraction = maxSkippedFraction;
    }

    public TrainingDataReader(Preprocessor preprocessor, Tokenizer tokenizer, SampleOptions options) {
        this(preprocessor, tokenizer, options, DEFAULT_MAX_SKIPPED_FRACTION);
    }

    /** What was read. {@code skipped} counts every sample left out; {@code problems} keeps the first reasons. */
    public record Result(List<TrainingExample> examples, long skipped, long mismatched, List<String> problems) {
        public Result {
            examples = List.copyOf(examples);
            problems = List.copyOf(problems);
        }

        public long total() {
            return examples.size() + skipped;
        }
    }

    /** Failure when too many samples had to be skipped. */
    public static final class TrainingDataException extends IllegalStateException {
        public TrainingDataException(String message) {
            super(message);
        }
    }

    /**
     * Reads {@code path}: a directory (every Osprey-724K file in it, by the official file names, in
     * {@link Subset} order), an Osprey-724K {@code .json} file (its recipe from its file name), or a
     * {@code .jsonl} file of {@code osprey data samples}.
     */
    public Result read(Path path) throws IOException {
        return read(path, Map.of());
    }

    /**
     * As {@link #read(Path)}, with a data mixture: each subset named in {@code repeats} is read once and its
     * examples listed that many times (0 leaves the subset out), so that, say, the one-word answers of the
     * positive/negative subset weigh more beside the long descriptions. Repeats share their example (the same
     * tokens and masks); the run's shuffle spreads them over the epoch. Skips and mismatches are counted once.
     * Repeats apply to a directory of Osprey-724K files only, and each named subset's file must be there.
     */
    public Result read(Path path, Map<Subset, Integer> repeats) throws IOException {
        Objects.requireNonNull(repeats, "repeats");
        for (Map.Entry<Subset, Integer> r : repeats.entrySet()) {
            if (r.getValue() < 0 || r.getValue() > MAX_REPEAT) {
                throw new IllegalArgumentException("repeat of " + r.getKey().id() + " must be in 0.." + MAX_REPEAT
                        + ", got " + r.getValue());
            }
            if (!Files.isDirectory(path)) {
                throw new IllegalArgumentException("subset repeats need a directory of Osprey-724K files; " + path
                        + " is not one");
            }
            if (!Files.isRegularFile(path.resolve(r.getKey().fileName()))) {
                throw new IllegalArgumentException("repeat of " + r.getKey().id() + ": " + path + " has no "
                        + r.getKey().fileName());
            }
        }
        Accumulator acc = new Accumulator();
        if (Files.isDirectory(path)) {
            boolean any = false;
            for (Subset s : Subset.values()) {
                Path f = path.resolve(s.fileName());
                if (Files.isRegularFile(f)) {
                    int from = acc.examples.size();
                    readOsprey724k(f, recipeOf(s), acc);
                    acc.repeatFrom(from, repeats.getOrDefault(s, 1));
                    any = true;
                }
            }
            if (!any) {
                throw new IllegalArgumentException(path + " holds none of the Osprey-724K files ("
                        + String.join(", ", Stream.of(Subset.values()).map(Subset::fileName).toList()) + ")");
            }
        } else if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("training data not found: " + path);
        } else if (path.getFileName().toString().endsWith(".jsonl")) {
            readSamples(path, acc);
        } else {
            String name = path.getFileName().toString();
            Subset subset = Stream.of(Subset.values()).filter(s -> s.fileName().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(path + ": not an Osprey-724K file name "
                            + "(expected one of " + Stream.of(Subset.values()).map(Subset::fileName).toList()
                            + ") nor a .jsonl file of samples; use read(path, recipe)"));
            readOsprey724k(path, recipeOf(subset), acc);
        }
        return acc.finish(path);
    }

    /** Reads one Osprey-724K file with the given recipe. */
    public Result read(Path file, Recipe recipe) throws IOException {
        Accumulator acc = new Accumulator();
        readOsprey724k(file, recipe, acc);
        return acc.finish(file);
    }

    /** The recipe the reference's dataset class for each official file follows. */
    public static Recipe recipeOf(Subset subset) {
        return switch (subset) {
            case DETAILED_DESCRIPTION -> Recipe.OSPREY_DETAILED_DESCRIPTION;
            case CONVERSATION -> Recipe.OSPREY_CONVERSATION;
            case PART_LEVEL -> Recipe.OSPREY_PART_LEVEL;
            case LVIS_POSITIVE_NEGATIVE -> Recipe.OSPREY_LVIS_POSITIVE_NEGATIVE;
            case SHORT_FORM -> Recipe.OSPREY_SHORT_FORM;
        };
    }

    private void readOsprey724k(Path file, Recipe recipe, Accumulator acc) throws IOException {
        ReadReport report = ReadReport.lenient();
        try (Stream<TrainingSample> samples = TrainingSamples.build(recipe, file, options, report)) {
            samples.forEach(s -> acc.add(toExample(s)));
        }
        acc.addReport(report);
    }

    private void readSamples(Path file, Accumulator acc) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                TrainingSample s;
                try {
                    s = SampleJsonl.parse(line);
                } catch (RuntimeException e) {
                    acc.skip(file + ":" + number + ": not a sample line (" + e.getMessage() + ")");
                    continue;
                }
                acc.add(toExample(s));
            }
        }
    }

    /** An example, or the reason it cannot be one. */
    private Object toExample(TrainingSample s) {
        String where = s.id() + " (" + s.image() + ")";
        Object image = checkImage(s.image());
        if (image instanceof String problem) {
            return where + ": " + problem;
        }
        int[] size = (int[]) image;
        if (size[0] != s.width() || size[1] != s.height()) {
            return where + ": the image is " + size[0] + "x" + size[1] + " but the entry says " + s.width() + "x"
                    + s.height();
        }
        List<Mask> masks = new ArrayList<>(s.regions().size());
        for (int i = 0; i < s.regions().size(); i++) {
            Segmentation seg = s.regions().get(i);
            Mask m;
            try {
                m = CocoMasks.decode(seg, s.height(), s.width());
            } catch (RuntimeException e) {
                return where + ": region " + (i + 1) + " does not decode: " + e.getMessage();
            }
            if (m.width() != s.width() || m.height() != s.height()) {
                return where + ": region " + (i + 1) + " is " + m.width() + "x" + m.height() + ", the image "
                        + s.width() + "x" + s.height();
            }
            masks.add(m);
        }
        Preprocessor.Tokenized t;
        try {
            t = preprocessor.preprocess(s.turns());
        } catch (IllegalArgumentException e) {
            return where + ": " + e.getMessage();
        }
        int maskTokens = 0;
        for (int id : t.inputIds()) {
            if (id == maskId) {
                maskTokens++;
            }
        }
        if (maskTokens != masks.size()) {
            return where + ": " + maskTokens + " <mask> tokens for " + masks.size() + " regions";
        }
        return new TrainingExample(s.id(), t.inputIds(), t.labels(), s.image(), masks, t.mismatch());
    }

    private Object checkImage(String image) {
        return imageChecks.computeIfAbsent(image, p -> {
            Path file = Path.of(p);
            if (!Files.isRegularFile(file)) {
                return "image not found";
            }
            try {
                RgbImage img = RgbImage.read(file);
                return new int[] {img.width(), img.height()};
            } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
                return "image does not decode: " + e.getMessage();
            }
        });
    }

    private final class Accumulator {
        final List<TrainingExample> examples = new ArrayList<>();
        final List<String> problems = new ArrayList<>();
        long skipped;
        long mismatched;

        void add(Object exampleOrProblem) {
            if (exampleOrProblem instanceof TrainingExample e) {
                examples.add(e);
                mismatched += e.mismatch() ? 1 : 0;
            } else {
                skip((String) exampleOrProblem);
            }
        }

        /** Lists the examples from index {@code from} on {@code times} times in all (0 removes them). */
        void repeatFrom(int from, int times) {
            List<TrainingExample> read = new ArrayList<>(examples.subList(from, examples.size()));
            examples.subList(from, examples.size()).clear();
            for (int t = 0; t < times; t++) {
                examples.addAll(read);
            }
        }

        void skip(String problem) {
            skipped++;
            if (problems.size() < KEPT_PROBLEMS) {
                problems.add(problem);
            }
        }

        void addReport(ReadReport report) {
            for (ReadReport.Skip s : report.skips()) {
                if (problems.size() < KEPT_PROBLEMS) {
                    problems.add(s.toString());
                }
            }
            skipped += report.skipped();
        }

        Result finish(Path source) {
            Result r = new Result(examples, skipped, mismatched, problems);
            if (r.total() > 0 && r.skipped() > maxSkippedFraction * r.total()) {
                throw new TrainingDataException(String.format(
                        "%s: %d of %d samples skipped (%.2f%%, more than the %.2f%% allowed); first reasons: %s",
                        source, r.skipped(), r.total(), 100.0 * r.skipped() / r.total(), 100 * maxSkippedFraction,
                        String.join("; ", problems.subList(0, Math.min(5, problems.size())))));
            }
            return r;
        }
    }
}
