package osprey4j.data.samples;

import osprey4j.core.prompt.Preambles;
import osprey4j.core.prompt.RegionPrompt;
import osprey4j.data.coco.Segmentation;
import osprey4j.data.datasets.CocoAnnotation;
import osprey4j.data.datasets.CocoCategory;
import osprey4j.data.datasets.CocoImage;
import osprey4j.data.datasets.CocoStyleFile;
import osprey4j.data.datasets.ImageAnnotations;
import osprey4j.data.datasets.Osprey724k;
import osprey4j.data.datasets.Osprey724kEntry;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.datasets.Turn;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Turns dataset records into the samples the reference trains on, following its dataset classes: which
 * preamble opens the first question, how regions are written, which suffix asks for a short answer, how many
 * regions an image may contribute and in what order. Entries the reference could not use (no regions, a
 * description that does not parse, a conversation whose region references do not match its regions) are skipped
 * and counted in the file's {@link ReadReport}. Every random choice is drawn from {@link Seeds#forSample}.
 */
public final class TrainingSamples {
    /** A description line is {@code "<region3>: text"}; the answer is what follows the last {@code ">: "}. */
    private static final Pattern DESCRIPTION = Pattern.compile("<.*>: (.*)", Pattern.UNIX_LINES);   // "." stops only at \n, as in Python
    /** {@code <regionN>} with any Unicode digits, as the reference's Python regular expression reads it. */
    private static final Pattern NUMBERED_REGION = Pattern.compile(RegionPrompt.REFERENCE.pattern(),
            Pattern.UNICODE_CHARACTER_CLASS);

    private TrainingSamples() {
    }

    /** Reads {@code annotations} with the reader the recipe needs and builds its samples. */
    public static Stream<TrainingSample> build(Recipe recipe, Path annotations, SampleOptions options,
                                               ReadReport report) throws IOException {
        return switch (recipe.source()) {
            case COCO_STYLE -> fromCocoStyle(CocoStyleFile.index(annotations, report), recipe, options);
            case OSPREY_724K -> fromOsprey724k(annotations, recipe, options, report);
        };
    }

    // ---- COCO-layout files -----------------------------------------------------------------------------------

    public static Stream<TrainingSample> fromCocoStyle(CocoStyleFile file, Recipe recipe, SampleOptions options) {
        if (recipe.source() != Recipe.Source.COCO_STYLE) {
            throw new IllegalArgumentException(recipe + " is not made from a COCO-layout file");
        }
        Stream<ImageAnnotations> images = file.images();
        return images.map(ia -> recipe == Recipe.COCO_CAPTIONS ? caption(recipe, options, ia)
                : regionLabels(file, recipe, options, ia)).filter(Objects::nonNull);
    }

    private static TrainingSample regionLabels(CocoStyleFile file, Recipe recipe, SampleOptions options,
                                               ImageAnnotations ia) {
        CocoImage image = ia.image();
        boolean referring = recipe == Recipe.REFCOCO || recipe == Recipe.REFCOCO_PLUS || recipe == Recipe.REFCOCOG;
        if (referring && image.caption() == null && !ia.annotations().isEmpty()) {
            skip(file.report(), file.file(), image.line(), -1, "images", "caption",
                    "missing on image " + image.id() + ": a referring-expression entry needs its expression");
            return null;
        }
        List<Segmentation> regions = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (CocoAnnotation a : ia.annotations()) {
            if (recipe == Recipe.VISUAL_GENOME && a.ignore()) {
                continue;   // the reference drops regions flagged ignore
            }
            if (a.segmentation() == null) {
                skipAnnotation(file, a, "segmentation", "missing: a region needs a mask");
                continue;
            }
            String label;
            if (referring) {
                label = image.caption();
            } else if (recipe == Recipe.VISUAL_GENOME) {
                label = a.caption();
                if (label == null) {
                    skipAnnotation(file, a, "caption", "missing: a Visual Genome region needs its description");
                    continue;
                }
            } else {
                CocoCategory c = a.categoryId() == null ? null : file.categories().get(a.categoryId());
                if (c == null) {
                    skipAnnotation(file, a, "category_id", a.categoryId() == null ? "missing"
                            : "no category with id " + a.categoryId());
                    continue;
                }
                label = categoryAnswer(recipe, c.name());
            }
            regions.add(a.segmentation());
            labels.add(label);
        }
        if (regions.isEmpty()) {
            return null;   // the reference skips images without annotations
        }
        SplittableRandom rng = Seeds.forSample(options.seed(), recipe.id(), image.id());
        int[] order = shuffled(regions.size(), rng);
        int keep = Math.min(regions.size(), Math.min(recipe.regionCap(), options.maxRegions()));
        List<Segmentation> kept = new ArrayList<>(keep);
        List<Turn> turns = new ArrayList<>(2 * keep);
        for (int i = 0; i < keep; i++) {
            String question = switch (recipe) {
                case VISUAL_GENOME -> pick(Prompts.SHORT_QUESTIONS, rng).strip()
                        .replace(Prompts.POOL_REGION, RegionPrompt.REGION_TOKENS);
                default -> RegionPrompt.REGION_TOKENS;
            };
            if (i == 0) {
                question = preamble(recipe) + question;
            }
            if (recipe == Recipe.VISUAL_GENOME) {
                question += Prompts.SHORT_PHRASE;
            }
            turns.add(Turn.human(question));
            turns.add(Turn.gpt(labels.get(order[i])));
            kept.add(regions.get(order[i]));
        }
        return sample(recipe, String.valueOf(image.id()), options.imageRoot(), recipe.imageFileName(image.fileName()),
                image.width(), image.height(), kept, turns);
    }

    private static String preamble(Recipe recipe) {
        return switch (recipe) {
            case COCO_CATEGORIES, LVIS_CATEGORIES, PACO_CATEGORIES -> Prompts.COCO_CATEGORY;
            case PASCAL_PART -> Prompts.PASCAL_PART;
            case PART_IMAGENET -> Prompts.PART_IMAGENET;
            case REFCOCO, REFCOCOG -> Prompts.REFCOCO;
            case REFCOCO_PLUS -> Prompts.REFCOCO_PLUS;
            default -> Preambles.IMAGE;
        };
    }

    /** COCO, Pascal-Part and PartImageNet names are used as written; LVIS and PACO names are spelt out. */
    static String categoryAnswer(Recipe recipe, String name) {
        return switch (recipe) {
            case LVIS_CATEGORIES, PACO_CATEGORIES -> spellCategory(name);
            default -> name;
        };
    }

    /** {@code baseball_bat} to {@code baseball bat}, {@code mug:handle} to {@code mug handle}, as the evaluation does. */
    public static String spellCategory(String name) {
        return name.replace('_', ' ').replace(':', ' ');
    }

    private static TrainingSample caption(Recipe recipe, SampleOptions options, ImageAnnotations ia) {
        List<String> captions = ia.annotations().stream().map(CocoAnnotation::caption).filter(Objects::nonNull).toList();
        if (captions.isEmpty()) {
            return null;
        }
        CocoImage image = ia.image();
        SplittableRandom rng = Seeds.forSample(options.seed(), recipe.id(), image.id());
        String question = Preambles.IMAGE_TOKEN + "\n" + pick(Prompts.CAPTION_QUESTIONS, rng);
        String answer = captions.get(rng.nextInt(captions.size())).strip();
        return sample(recipe, String.valueOf(image.id()), options.imageRoot(), image.fileName(), image.width(),
                image.height(), List.of(), List.of(Turn.human(question), Turn.gpt(answer)));
    }

    // ---- Osprey-724K -----------------------------------------------------------------------------------------

    /** Streams the samples of one Osprey-724K file; close the stream if you stop early. */
    public static Stream<TrainingSample> fromOsprey724k(Path file, Recipe recipe, SampleOptions options,
                                                        ReadReport report) throws IOException {
        if (recipe.source() != Recipe.Source.OSPREY_724K) {
            throw new IllegalArgumentException(recipe + " is not made from an Osprey-724K file");
        }
        return Osprey724k.read(file, report).map(e -> osprey724k(file, recipe, options, report, e))
                .filter(Objects::nonNull);
    }

    private static TrainingSample osprey724k(Path file, Recipe recipe, SampleOptions options, ReadReport report,
                                             Osprey724kEntry e) {
        if (e.regions().isEmpty()) {
            skip(report, file, e.line(), e.index(), "$", "annotation", "no regions");
            return null;
        }
        SplittableRandom rng = Seeds.forSample(options.seed(), recipe.id(), e.index());
        List<Segmentation> regions = e.regions();
        List<Turn> turns = new ArrayList<>();
        if (recipe == Recipe.OSPREY_DETAILED_DESCRIPTION) {
            if (e.descriptions().size() < regions.size()) {
                skip(report, file, e.line(), e.index(), "$", "description",
                        e.descriptions().size() + " descriptions for " + regions.size() + " regions");
                return null;
            }
            int[] chosen = firstInOrder(regions.size(), Math.min(recipe.regionCap(), options.maxRegions()), rng);
            List<Segmentation> kept = new ArrayList<>(chosen.length);
            for (int j = 0; j < chosen.length; j++) {
                int i = chosen[j];
                Matcher m = DESCRIPTION.matcher(e.descriptions().get(i));
                if (!m.find()) {
                    skip(report, file, e.line(), e.index(), "$", "description[" + i + "]",
                            "expected '<regionN>: text'");
                    return null;
                }
                String question = pick(Prompts.DETAILED_QUESTIONS, rng).replace(Prompts.POOL_REGION, RegionPrompt.REGION_TOKENS);
                turns.add(Turn.human(j == 0 ? Preambles.IMAGE + question : question));
                turns.add(Turn.gpt(m.group(1)));
                kept.add(regions.get(i));
            }
            regions = kept;
        } else {
            int pairs = e.conversations().size() / 2;
            if (pairs == 0) {
                skip(report, file, e.line(), e.index(), "$", "conversations", "no question-answer pair");
                return null;
            }
            // The positive/negative file is written inline already; shuffling its pairs reorders its regions,
            // which the inline reading (masks in order of mention) does.
            boolean shuffled = options.turnOrder() == TurnOrder.SHUFFLED;
            if (options.regionForm() == RegionForm.INLINE
                    && (recipe != Recipe.OSPREY_LVIS_POSITIVE_NEGATIVE || shuffled)) {
                return inline(file, recipe, options, report, e, regions, pairOrder(options, recipe, e.index(), pairs));
            }
            for (int i = 0; i < pairs; i++) {
                String question = e.conversations().get(2 * i).value();
                String answer = e.conversations().get(2 * i + 1).value();
                if (recipe == Recipe.OSPREY_LVIS_POSITIVE_NEGATIVE) {
                    question = NUMBERED_REGION.matcher(question).replaceAll(RegionPrompt.REGION_TOKENS);
                    if (i == 0) {
                        question = Preambles.IMAGE + question;
                    }
                } else {
                    // Region names in these files are written <region1>; the reference drops the brackets and
                    // lists the regions once, in the first question.
                    question = withoutAngleBrackets(question);
                    answer = withoutAngleBrackets(answer);
                    if (i == 0) {
                        question = Preambles.IMAGE + Preambles.regionList(regions.size()) + question;
                    }
                    if (recipe != Recipe.OSPREY_CONVERSATION) {
                        question += Prompts.SINGLE_WORD_OR_PHRASE;
                    }
                }
                turns.add(Turn.human(question));
                turns.add(Turn.gpt(answer));
            }
        }
        TrainingSample s = sample(recipe, "#" + e.index(), options.imageRoot(), recipe.imageFileName(e.fileName()),
                e.width(), e.height(), regions, turns);
        if (s.regionReferences() != regions.size()) {
            skip(report, file, e.line(), e.index(), "$", "conversations", s.regionReferences()
                    + " region references for " + regions.size() + " regions (the model needs one per region)");
            return null;
        }
        return s;
    }

    /**
     * {@link RegionForm#INLINE}: every {@code <regionK>} of a question becomes region K's {@code <mask><pos>} in
     * place, its mask taken in order of mention; the first question opens with the image, short answers get the
     * reference's suffix, and answers keep the region names without brackets.
     */
    private static TrainingSample inline(Path file, Recipe recipe, SampleOptions options, ReadReport report,
                                         Osprey724kEntry e, List<Segmentation> regions, int[] pairOrder) {
        List<Segmentation> mentioned = new ArrayList<>();
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < pairOrder.length; i++) {
            String question = e.conversations().get(2 * pairOrder[i]).value();
            String answer = e.conversations().get(2 * pairOrder[i] + 1).value();
            Matcher m = NUMBERED_REGION.matcher(question);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                int k;
                try {
                    k = Integer.parseInt(m.group(1));
                } catch (NumberFormatException ex) {
                    k = -1;
                }
                if (k < 1 || k > regions.size()) {
                    skip(report, file, e.line(), e.index(), "$", "conversations", "the question names <region"
                            + m.group(1) + "> but the record has " + regions.size() + " regions");
                    return null;
                }
                mentioned.add(regions.get(k - 1));
                m.appendReplacement(sb, Matcher.quoteReplacement(RegionPrompt.REGION_TOKENS));
            }
            m.appendTail(sb);
            question = withoutAngleBracketsOutsideTokens(sb.toString());
            if (i == 0) {
                question = Preambles.IMAGE + question;
            }
            if (recipe == Recipe.OSPREY_SHORT_FORM || recipe == Recipe.OSPREY_PART_LEVEL) {
                question += Prompts.SINGLE_WORD_OR_PHRASE;
            }
            turns.add(Turn.human(question));
            turns.add(Turn.gpt(regionsAsReferredTo(answer)));
        }
        if (mentioned.isEmpty()) {
            skip(report, file, e.line(), e.index(), "$", "conversations", "no question names a region");
            return null;
        }
        return sample(recipe, "#" + e.index(), options.imageRoot(), recipe.imageFileName(e.fileName()), e.width(),
                e.height(), mentioned, turns);
    }

    /**
     * The order of a record's question-answer pairs: the file's, or with {@link TurnOrder#SHUFFLED} a permutation
     * drawn from a random source of its own (the wording draws of the sample stay as they are).
     */
    private static int[] pairOrder(SampleOptions options, Recipe recipe, long key, int pairs) {
        int[] order = new int[pairs];
        for (int i = 0; i < pairs; i++) {
            order[i] = i;
        }
        if (options.turnOrder() == TurnOrder.SHUFFLED) {
            SplittableRandom rng = Seeds.forSample(options.seed(), recipe.id() + "/turn-order", key);
            for (int i = pairs - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /**
     * An answer of the inline form: the asker never named the regions, so {@code <regionK>} becomes "the region"
     * ("The region" where a sentence starts).
     */
    private static String regionsAsReferredTo(String answer) {
        Matcher m = NUMBERED_REGION.matcher(answer);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            int at = m.start();
            int before = at - 1;
            while (before >= 0 && answer.charAt(before) == ' ') {
                before--;
            }
            boolean sentenceStart = before < 0 || ".!?\n".indexOf(answer.charAt(before)) >= 0;
            m.appendReplacement(sb, sentenceStart ? "The region" : "the region");
        }
        m.appendTail(sb);
        return withoutAngleBrackets(sb.toString());
    }

    /** Drops stray angle brackets from a question while keeping its {@code <mask><pos>} pairs. */
    private static String withoutAngleBracketsOutsideTokens(String s) {
        String[] parts = s.split(Pattern.quote(RegionPrompt.REGION_TOKENS), -1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                out.append(RegionPrompt.REGION_TOKENS);
            }
            out.append(withoutAngleBrackets(parts[i]));
        }
        return out.toString();
    }

    private static String withoutAngleBrackets(String s) {
        return s.replace("<", "").replace(">", "");
    }

    // ---- shared ----------------------------------------------------------------------------------------------

    static TrainingSample sample(Recipe recipe, String key, Path imageRoot, String fileName, int width, int height,
                                 List<Segmentation> regions, List<Turn> turns) {
        return sample(recipe.id(), key, imageRoot, fileName, width, height, regions, turns);
    }

    static TrainingSample sample(String dataset, String key, Path imageRoot, String fileName, int width, int height,
                                 List<Segmentation> regions, List<Turn> turns) {
        List<Turn> normalised = turns.stream().map(t -> new Turn(t.from(), Prompts.moveImageToFront(t.value())))
                .toList();
        String image = imageRoot == null ? fileName : imageRoot.resolve(fileName).toString();
        return new TrainingSample(dataset + ":" + key, dataset, image, width, height, regions, normalised);
    }

    static String pick(List<String> pool, SplittableRandom rng) {
        return pool.get(rng.nextInt(pool.size()));
    }

    /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
    static int[] shuffled(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** All of 0..n-1 if n <= cap, else a random subset of size cap; ascending either way. */
    static int[] firstInOrder(int n, int cap, SplittableRandom rng) {
        if (n <= cap) {
            int[] all = new int[n];
            Arrays.setAll(all, i -> i);
            return all;
        }
        int[] some = Arrays.copyOf(shuffled(n, rng), cap);
        Arrays.sort(some);
        return some;
    }

    private static void skipAnnotation(CocoStyleFile file, CocoAnnotation a, String field, String reason) {
        skip(file.report(), file.file(), a.line(), a.index(), "annotations", field, reason);
    }

    static void skip(ReadReport report, Path file, long line, long index, String section, String field,
                     String reason) {
        report.skip(new ReadReport.Skip(file, line, 0, index, section, field, reason));
    }
}
