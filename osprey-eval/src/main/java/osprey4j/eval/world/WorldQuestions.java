package osprey4j.eval.world;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import osprey4j.data.coco.CocoMasks;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.datasets.Turn;
import osprey4j.data.instruct.InstructEngine;
import osprey4j.data.instruct.InstructOptions;
import osprey4j.data.instruct.Part;
import osprey4j.data.instruct.Scene;
import osprey4j.data.instruct.SceneObject;
import osprey4j.data.instruct.SceneReader;
import osprey4j.data.instruct.Subset;
import osprey4j.data.instruct.TextEmbedder;
import osprey4j.core.mask.Mask;
import osprey4j.core.prompt.Preambles;
import osprey4j.core.prompt.RegionPrompt;
import osprey4j.data.samples.Prompts;
import osprey4j.data.samples.Recipe;
import osprey4j.data.samples.RegionForm;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TrainingSample;
import osprey4j.data.samples.TrainingSamples;

/**
 * The questions of a world evaluation, made exactly as training questions are: the instruction-data engine's
 * templates ({@code osprey data instruct}, template mode) write the five Osprey-724K files for the held-out world,
 * and the reference's preprocessing ({@link TrainingSamples}) turns them into conversations. Every question of
 * those conversations that one of the bars covers becomes a single-turn question:
 *
 * <ul>
 *   <li>{@link QuestionType#CATEGORY}: short-form "What is the object in regionN?" / "What category is regionN?" /
 *       "What is regionN?" (truth: the region's category);
 *   <li>{@link QuestionType#YES_NO}: every LVIS-style "Is &lt;region&gt; a mug?" (truth: yes for the region's own
 *       category, no for a mined negative);
 *   <li>{@link QuestionType#PART}: part-level "Which part of the mug is region2?" and its two other wordings
 *       (truth: the part's name);
 *   <li>{@link QuestionType#COLOUR}: each region's detailed-description request, for objects annotated with a colour
 *       (truth: that colour);
 *   <li>{@link QuestionType#MULTI_REGION}: the conversation's "Where is regionI relative to regionJ?" (truth: the
 *       relation the template derives from the boxes, and both categories).
 * </ul>
 *
 * <p>A question asked alone keeps its training form: one that carries its own {@code <mask><pos>} gets the overview
 * preamble and its own regions; one that refers to {@code regionN} by name gets the overview and the region list
 * ("Ther are N part regions in the picture: region1&lt;mask&gt;&lt;pos&gt;, ...") with all the record's regions,
 * as the first turn of its training conversation has. Truths come from the annotations (the record's region masks
 * are matched back to the world's objects and parts); questions whose region cannot be matched are left out.
 */
public final class WorldQuestions {
    /** The questions about one image, in a fixed order. */
    public record ImageQuestions(Path image, List<WorldQuestion> questions) {
    }

    private static final Pattern CATEGORY_Q = Pattern.compile(
            "^(?:What is the object in|What category is|What is) region(\\d+)\\?$");
    private static final Pattern PART_Q = Pattern.compile(
            "^(?:Which part of the .+ is region(\\d+)\\?|What part of region\\d+ does region(\\d+) show\\?"
                    + "|What is region(\\d+) of the .+\\?)$");
    private static final Pattern RELATION_Q = Pattern.compile(
            "^(?:Where is region(\\d+) relative to region(\\d+)\\?"
                    + "|How are region(\\d+) and region(\\d+) placed with respect to each other\\?)$");
    private static final Pattern RELATION_A = Pattern.compile(
            "^The .+? in region\\d+ is (to the left of|to the right of|above|below|next to) the .+? in region\\d+\\.");

    /** A region named in a list-form question. */
    private static final Pattern NAMED_REGION = Pattern.compile("\\bregion(\\d+)\\b");

    private WorldQuestions() {
    }

    /**
     * Builds the questions of the world in {@code worldDir} ({@code osprey data world} layout).
     *
     * @param work     a folder for the generated instruction files (and the negative miner's vector cache)
     * @param embedder the category embedder of the negative miner (all-MiniLM-L6-v2 in training)
     * @param seed     the wording and negative seed
     */
    public static List<ImageQuestions> build(Path worldDir, Path work, TextEmbedder embedder, long seed)
            throws IOException {
        return build(worldDir, work, embedder, seed, RegionForm.LIST);
    }

    /**
     * {@link #build(Path, Path, TextEmbedder, long)}, asking in the given {@link RegionForm}: {@code LIST} keeps the
     * reference's training form; {@code INLINE} asks as people ask {@code osprey ask}: each region the question
     * names is its own {@code <mask><pos>} in place and only those regions' masks are given.
     */
    public static List<ImageQuestions> build(Path worldDir, Path work, TextEmbedder embedder, long seed,
                                             RegionForm form) throws IOException {
        SceneReader.Inputs inputs = SceneReader.Inputs.directory(worldDir, null);
        if (!java.nio.file.Files.isRegularFile(inputs.instances())) {
            throw new IllegalArgumentException(worldDir + " is not a synthetic world (no instances.json); make one "
                    + "with 'osprey data world'");
        }
        Path images = inputs.images() != null ? inputs.images() : worldDir;
        InstructEngine.templates(SceneReader.open(inputs, ReadReport.lenient()), embedder,
                new InstructOptions(seed, SampleOptions.DEFAULT_MAX_REGIONS), work);

        Map<String, Scene> scenes = new LinkedHashMap<>();
        try (Stream<Scene> all = SceneReader.open(inputs, ReadReport.lenient()).scenes()) {
            all.forEach(s -> scenes.put(s.image().fileName(), s));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        Map<String, List<WorldQuestion>> byImage = new LinkedHashMap<>();
        scenes.keySet().forEach(k -> byImage.put(k, new ArrayList<>()));
        Map<String, Map<Mask, Region>> regionsByImage = new HashMap<>();

        Object[][] subsets = {
            {Subset.SHORT_FORM, Recipe.OSPREY_SHORT_FORM},
            {Subset.LVIS_POSITIVE_NEGATIVE, Recipe.OSPREY_LVIS_POSITIVE_NEGATIVE},
            {Subset.PART_LEVEL, Recipe.OSPREY_PART_LEVEL},
            {Subset.DETAILED_DESCRIPTION, Recipe.OSPREY_DETAILED_DESCRIPTION},
            {Subset.CONVERSATION, Recipe.OSPREY_CONVERSATION},
        };
        SampleOptions options = new SampleOptions(null, seed, SampleOptions.DEFAULT_MAX_REGIONS);
        for (Object[] pair : subsets) {
            Subset subset = (Subset) pair[0];
            Recipe recipe = (Recipe) pair[1];
            try (Stream<TrainingSample> samples = TrainingSamples.fromOsprey724k(work.resolve(subset.fileName()),
                    recipe, options, ReadReport.lenient())) {
                for (TrainingSample sample : (Iterable<TrainingSample>) samples::iterator) {
                    Scene scene = scenes.get(sample.image());
                    if (scene == null) {
                        continue;
                    }
                    Map<Mask, Region> known = regionsByImage.computeIfAbsent(sample.image(), k -> regions(scene));
                    List<Mask> masks = new ArrayList<>();
                    List<Region> regions = new ArrayList<>();
                    for (var seg : sample.regions()) {
                        Mask m = CocoMasks.decode(seg, scene.height(), scene.width());
                        masks.add(m);
                        regions.add(known.get(m));
                    }
                    questions(subset, sample, masks, regions, images.resolve(sample.image()),
                            byImage.get(sample.image()), form);
                }
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
        List<ImageQuestions> out = new ArrayList<>();
        byImage.forEach((file, qs) -> {
            if (!qs.isEmpty()) {
                out.add(new ImageQuestions(images.resolve(file), List.copyOf(qs)));
            }
        });
        return out;
    }

    /** A world region: an object, or a part of one ({@code part} non-null). */
    private record Region(SceneObject object, Part part) {
    }

    private static Map<Mask, Region> regions(Scene s) {
        Map<Mask, Region> out = new HashMap<>();
        for (SceneObject o : s.objects()) {
            out.put(CocoMasks.decode(o.segmentation(), s.height(), s.width()), new Region(o, null));
            for (Part p : o.parts()) {
                out.putIfAbsent(CocoMasks.decode(p.segmentation(), s.height(), s.width()), new Region(o, p));
            }
        }
        return out;
    }

    private static void questions(Subset subset, TrainingSample sample, List<Mask> masks, List<Region> regions,
                                  Path image, List<WorldQuestion> out, RegionForm form) {
        int n = masks.size();
        String preamble = Preambles.regionList(n);
        int running = 0;
        List<Turn> turns = sample.turns();
        for (int t = 0; t + 1 < turns.size(); t += 2) {
            String human = turns.get(t).value();
            String answer = turns.get(t + 1).value();
            int refs = count(human, RegionPrompt.MASK_TOKEN);
            String core = human.startsWith(Preambles.IMAGE) ? human.substring(Preambles.IMAGE.length()) : human;
            List<Mask> asked;
            List<Region> askedRegions;
            String text;
            if (refs > 0) {
                asked = masks.subList(running, running + refs);
                askedRegions = regions.subList(running, running + refs);
                text = Preambles.IMAGE + core;
                running += refs;
            } else {
                asked = masks;
                askedRegions = regions;
                text = Preambles.IMAGE + preamble + core;
            }
            boolean listed = refs == 0 || core.startsWith(preamble);   // names regions from the record's list
            if (core.startsWith(preamble)) {
                core = core.substring(preamble.length());
            }
            if (listed && form == RegionForm.INLINE) {
                // The regions the question names, each as its <mask><pos> in place, and only their masks.
                Matcher named = NAMED_REGION.matcher(core);
                StringBuilder sb = new StringBuilder();
                List<Mask> inline = new ArrayList<>();
                boolean ok = true;
                while (named.find()) {
                    int k = Integer.parseInt(named.group(1));
                    if (k < 1 || k > masks.size()) {
                        ok = false;
                        break;
                    }
                    inline.add(masks.get(k - 1));
                    named.appendReplacement(sb, Matcher.quoteReplacement(RegionPrompt.REGION_TOKENS));
                }
                if (!ok || inline.isEmpty()) {
                    continue;
                }
                named.appendTail(sb);
                asked = inline;
                text = Preambles.IMAGE + sb;
            }
            if (core.endsWith(Prompts.SINGLE_WORD_OR_PHRASE)) {
                core = core.substring(0, core.length() - Prompts.SINGLE_WORD_OR_PHRASE.length());
            }
            String id = subset.name().toLowerCase(Locale.ROOT) + "/" + sample.id() + "/" + (t / 2);
            WorldQuestion q = switch (subset) {
                case SHORT_FORM -> {
                    Matcher m = CATEGORY_Q.matcher(core);
                    Region r = m.matches() ? at(regions, Integer.parseInt(m.group(1))) : null;
                    yield r == null || r.part() != null ? null : new WorldQuestion(id, QuestionType.CATEGORY, image,
                            asked, text, answer, r.object().category(), r.object().category(), null);
                }
                case LVIS_POSITIVE_NEGATIVE -> {
                    Region r = askedRegions.size() == 1 ? askedRegions.getFirst() : null;
                    String truth = answer.strip().toLowerCase(Locale.ROOT);
                    yield r == null || !(truth.equals("yes") || truth.equals("no")) ? null : new WorldQuestion(id,
                            QuestionType.YES_NO, image, asked, text, answer, truth, r.object().category(), null);
                }
                case PART_LEVEL -> {
                    Matcher m = PART_Q.matcher(core);
                    Region r = null;
                    if (m.matches()) {
                        for (int g = 1; g <= m.groupCount(); g++) {
                            if (m.group(g) != null) {
                                r = at(regions, Integer.parseInt(m.group(g)));
                            }
                        }
                    }
                    yield r == null || r.part() == null ? null : new WorldQuestion(id, QuestionType.PART, image,
                            asked, text, answer, r.part().name(), r.object().category(), null);
                }
                case DETAILED_DESCRIPTION -> {
                    Region r = askedRegions.size() == 1 ? askedRegions.getFirst() : null;
                    yield r == null || r.part() != null || r.object().colour() == null ? null : new WorldQuestion(id,
                            QuestionType.COLOUR, image, asked, text, answer, r.object().colour(),
                            r.object().category(), null);
                }
                case CONVERSATION -> {
                    Matcher m = RELATION_Q.matcher(core);
                    Matcher a = RELATION_A.matcher(answer);
                    if (!m.matches() || !a.find()) {
                        yield null;
                    }
                    int i = Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(3));
                    int j = Integer.parseInt(m.group(2) != null ? m.group(2) : m.group(4));
                    Region ri = at(regions, i);
                    Region rj = at(regions, j);
                    yield ri == null || rj == null ? null : new WorldQuestion(id, QuestionType.MULTI_REGION, image,
                            asked, text, answer, a.group(1), ri.object().category(), rj.object().category());
                }
            };
            if (q != null) {
                out.add(q);
            }
        }
    }

    private static int count(String text, String token) {
        int n = 0;
        for (int i = text.indexOf(token); i >= 0; i = text.indexOf(token, i + token.length())) {
            n++;
        }
        return n;
    }

    /** Region {@code oneBased} of the record, or null when out of range or not matched to the world. */
    private static Region at(List<Region> regions, int oneBased) {
        return oneBased >= 1 && oneBased <= regions.size() ? regions.get(oneBased - 1) : null;
    }
}
