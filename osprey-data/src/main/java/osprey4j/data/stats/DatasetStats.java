package osprey4j.data.stats;

import osprey4j.core.prompt.Preambles;
import osprey4j.data.datasets.CocoAnnotation;
import osprey4j.data.datasets.CocoAttribute;
import osprey4j.data.datasets.CocoCategory;
import osprey4j.data.datasets.CocoStyleFile;
import osprey4j.data.datasets.ImageAnnotations;
import osprey4j.data.datasets.Osprey724k;
import osprey4j.data.datasets.Osprey724kEntry;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.datasets.Turn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Statistics of a dataset directory for {@code osprey data stats}: the Osprey-724K-schema files written by
 * {@code osprey data instruct} (records and regions per subset, question types, answer lengths, the balance of
 * short answers such as category names and yes/no), and/or a synthetic-world directory (images, objects, parts,
 * captions, objects per category, attributes).
 */
public final class DatasetStats {
    /** The five Osprey-724K files, in the order reports list them. */
    public static final List<String> SUBSETS = List.of("osprey_detail_description.json", "osprey_conversation.json",
            "osprey_part_level.json", "osprey_lvis_positive_negative.json", "osprey_short_form.json");

    /** Answers of at most this many words count as short answers (category names, yes/no). */
    public static final int SHORT_ANSWER_WORDS = 3;

    private static final Pattern REGION = Pattern.compile("<region\\d+>|<mask>\\s*<pos>");
    private static final Pattern DESCRIPTION_PREFIX = Pattern.compile("^\\s*<region\\d+>\\s*:\\s*");

    private DatasetStats() {
    }

    /**
     * One Osprey-724K file.
     *
     * @param questionTypes  the first two words of each question, region references written {@code <region>}
     * @param shortAnswers   answers of at most {@link #SHORT_ANSWER_WORDS} words, lower-cased, end punctuation off
     * @param skipped        malformed records the reader skipped
     */
    public record Subset(String file, long records, long regions, long questions, long answers, long skipped,
                         Counter questionTypes, LengthHistogram answerLengths, Counter shortAnswers) {
        public String name() {
            return file.replaceFirst("^osprey_", "").replaceFirst("\\.json$", "");
        }
    }

    /** A synthetic-world directory ({@code instances.json}, {@code parts.json}, {@code captions.json}). */
    public record World(long images, long objects, long parts, long captions, int categories, int partCategories,
                        Counter objectsPerCategory, Counter partsPerCategory, Counter attributes,
                        Counter objectsPerImage, LengthHistogram captionLengths) {
    }

    /** Everything found in a directory; {@code world} is null when it holds no world output. */
    public record Report(Path dir, List<Subset> subsets, World world) {
    }

    public static Report of(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("not a directory: " + dir);
        }
        List<Subset> subsets = new ArrayList<>();
        for (String name : SUBSETS) {
            Path f = dir.resolve(name);
            if (Files.isRegularFile(f)) {
                subsets.add(subset(f));
            }
        }
        World world = Files.isRegularFile(dir.resolve("instances.json")) ? world(dir) : null;
        if (subsets.isEmpty() && world == null) {
            throw new IllegalArgumentException(dir + " holds neither instruction data (" + String.join(", ", SUBSETS)
                    + ") nor a synthetic world (instances.json)");
        }
        return new Report(dir, List.copyOf(subsets), world);
    }

    static Subset subset(Path file) throws IOException {
        ReadReport report = ReadReport.lenient();
        long records = 0, regions = 0, questions = 0, answers = 0;
        Counter types = new Counter();
        Counter shortAnswers = new Counter();
        LengthHistogram lengths = new LengthHistogram();
        try (Stream<Osprey724kEntry> entries = Osprey724k.read(file, report)) {
            for (Iterator<Osprey724kEntry> it = entries.iterator(); it.hasNext(); ) {
                Osprey724kEntry e = it.next();
                records++;
                regions += e.regions().size();
                for (Turn t : e.conversations()) {
                    if (Turn.HUMAN.equals(t.from())) {
                        questions++;
                        types.add(questionType(t.value()));
                    } else {
                        answers++;
                        answer(t.value(), lengths, shortAnswers);
                    }
                }
                for (String d : e.descriptions()) {
                    answers++;
                    answer(DESCRIPTION_PREFIX.matcher(d).replaceFirst(""), lengths, shortAnswers);
                }
            }
        } catch (UncheckedIOException ex) {
            throw ex.getCause();
        }
        return new Subset(file.getFileName().toString(), records, regions, questions, answers, report.skipped(), types,
                lengths, shortAnswers);
    }

    private static void answer(String text, LengthHistogram lengths, Counter shortAnswers) {
        int words = LengthHistogram.words(text);
        lengths.add(words);
        if (words > 0 && words <= SHORT_ANSWER_WORDS) {
            shortAnswers.add(text.strip().toLowerCase(Locale.ROOT).replaceAll("[.!?,;:]+$", ""));
        }
    }

    /**
     * The question pattern of a human turn: the image preamble dropped, region references written
     * {@code <region>}, then the first two words in lower case ("what is", "is <region>", "can you").
     */
    static String questionType(String value) {
        StringBuilder q = new StringBuilder();
        for (String line : value.split("\n")) {
            String l = line.replace("<image>", "").strip();
            if (!l.isEmpty() && !l.equals(Preambles.OVERVIEW_SENTENCE)) {
                q.append(q.isEmpty() ? "" : " ").append(l);
            }
        }
        String text = REGION.matcher(q).replaceAll(" <region> ").toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9<>' ]", " ").strip();
        if (text.isEmpty()) {
            return "(empty)";
        }
        String[] w = text.split("\\s+");
        return w.length == 1 ? w[0] : w[0] + " " + w[1];
    }

    static World world(Path dir) throws IOException {
        ReadReport report = ReadReport.lenient();
        CocoStyleFile instances = CocoStyleFile.index(dir.resolve("instances.json"), report);
        Counter perCategory = new Counter();
        Counter perImage = new Counter();
        long objects = 0;
        for (CocoCategory c : instances.categories().values()) {
            perCategory.add(c.name(), 0);   // categories that never occur still show, with 0
        }
        try (Stream<ImageAnnotations> images = instances.images()) {
            for (Iterator<ImageAnnotations> it = images.iterator(); it.hasNext(); ) {
                ImageAnnotations ia = it.next();
                perImage.add(String.format(Locale.ROOT, "%02d", ia.annotations().size()));
                for (CocoAnnotation a : ia.annotations()) {
                    objects++;
                    CocoCategory c = instances.categories().get(a.categoryId());
                    perCategory.add(c == null ? "?" : c.name());
                }
            }
        }
        Counter perPart = new Counter();
        Counter attributes = new Counter();
        long parts = 0;
        int partCategories = 0;
        Path partsFile = dir.resolve("parts.json");
        if (Files.isRegularFile(partsFile)) {
            CocoStyleFile pf = CocoStyleFile.index(partsFile, report);
            partCategories = (int) pf.categories().values().stream().filter(c -> c.name().contains(":")).count();
            Map<Long, String> attributeNames = new HashMap<>();
            for (CocoAttribute a : pf.attributes()) {
                attributeNames.put(a.id(), (a.type() == null ? "" : a.type() + ": ") + a.name());
            }
            try (Stream<ImageAnnotations> images = pf.images()) {
                for (Iterator<ImageAnnotations> it = images.iterator(); it.hasNext(); ) {
                    for (CocoAnnotation a : it.next().annotations()) {
                        if (a.objectAnnotationId() != null) {
                            parts++;
                            CocoCategory c = pf.categories().get(a.categoryId());
                            perPart.add(c == null ? "?" : c.name());
                        } else {
                            for (long id : a.attributeIds()) {
                                attributes.add(attributeNames.getOrDefault(id, "attribute " + id));
                            }
                        }
                    }
                }
            }
        }
        LengthHistogram captionLengths = new LengthHistogram();
        Path captionsFile = dir.resolve("captions.json");
        if (Files.isRegularFile(captionsFile)) {
            try (Stream<ImageAnnotations> images = CocoStyleFile.index(captionsFile, report).images()) {
                images.forEach(ia -> ia.annotations().forEach(a -> {
                    if (a.caption() != null) {
                        captionLengths.add(LengthHistogram.words(a.caption()));
                    }
                }));
            }
        }
        return new World(instances.imageList().size(), objects, parts, captionLengths.count(),
                instances.categories().size(), partCategories, perCategory, perPart, attributes, perImage,
                captionLengths);
    }
}
