package osprey4j.eval.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.tartarus.snowball.ext.englishStemmer;

/**
 * METEOR 1.5 as the COCO caption evaluation runs it ({@code meteor-1.5.jar - - -stdio -l en -norm}): English, its
 * normalisation then lower-casing, the modules exact, stem (Snowball English), synonym (WordNet synsets) and
 * paraphrase, and the default English task ("rank"): alpha 0.85, beta 0.2, gamma 0.6, delta 0.75, module weights
 * 1.0, 0.6, 0.8, 0.6.
 *
 * <p>The alignment is METEOR's: every module adds its candidate matches (exact: equal words; stem: different words
 * with equal stems; synonym: different words sharing a synset, directly or through a base form; paraphrase:
 * table phrases found on either side); a match whose words no other match touches is fixed; the rest is resolved by
 * a left-to-right beam search over the reference's positions (beam 40), keeping the paths with the most matched
 * words, then the fewest chunks, then the least distance. Its quirks are kept because they decide scores: the
 * search weighs exact matches 1 and the others 0.5 and truncates the running sums to integers (a one-word stem or
 * synonym match adds nothing to the first key, so fewer chunks can drop it), and the distance of a newly chosen
 * match is added to the path it branched from, not to the new path. Words compare by {@link String#hashCode()}, as
 * METEOR compares them. Identical word sequences use the exact module only.
 *
 * <p>{@link #stats} gives a candidate's sufficient statistics against its best reference (highest score, the
 * first on ties), as the {@code SCORE} command prints them; {@link #score(Stats)} the segment score and
 * {@link #aggregate} the corpus score of the {@code EVAL} command, computed from the summed statistics (the chunks of
 * a segment that matches its reference exactly in one chunk are left out of the sum), which pycocoevalcap reports.
 * Instances are not thread-safe (the stemmer is not).
 */
public final class MeteorScorer {
    static final int MODULES = 4;
    private static final double ALPHA = 0.85;
    private static final double BETA = 0.20;
    private static final double GAMMA = 0.60;
    private static final double DELTA = 0.75;
    private static final double[] MODULE_WEIGHTS = {1.0, 0.6, 0.8, 0.6};
    /** The weights the alignment search ranks paths by (METEOR's scorer sets them regardless of the task). */
    private static final double[] SEARCH_WEIGHTS = {1.0, 0.5, 0.5, 0.5};
    private static final int BEAM = 40;

    private static final int EXACT = 0;
    private static final int STEM = 1;
    private static final int SYNONYM = 2;
    private static final int PARAPHRASE = 3;

    private static final String[] MORPH_SUFFIXES = {"s", "ses", "xes", "zes", "ches", "shes", "men", "ies",
        "s", "ies", "es", "es", "ed", "ed", "ing", "ing", "er", "est", "er", "est"};
    private static final String[] MORPH_ENDINGS = {"", "s", "x", "z", "ch", "sh", "man", "y",
        "", "y", "e", "", "e", "", "e", "", "", "", "e", "e"};

    private final MeteorData data;
    private final MeteorNormalizer normalizer;
    private final englishStemmer stemmer = new englishStemmer();

    /**
     * The sufficient statistics of one segment (or a sum of them), in the order METEOR prints them: lengths and
     * function-word counts of candidate and reference, per module the matched content and function words of
     * each, the chunks, and the matched words of each.
     */
    public record Stats(double testLength, double referenceLength, double testFunctionWords,
                        double referenceFunctionWords, double[] testContent, double[] referenceContent,
                        double[] testFunction, double[] referenceFunction, double chunks, double testWordMatches,
                        double referenceWordMatches) {

        double testTotalMatches() {
            return total(testContent, testFunction);
        }

        double referenceTotalMatches() {
            return total(referenceContent, referenceFunction);
        }

        private static double total(double[] content, double[] function) {
            double t = 0;
            for (int i = 0; i < content.length; i++) {
                t += content[i];
                t += function[i];
            }
            return t;
        }

        /** A candidate equal to its reference, matched in one chunk: its fragmentation is taken as 0. */
        boolean whole() {
            return testTotalMatches() == testLength && referenceTotalMatches() == referenceLength && chunks == 1.0;
        }

        /** The line METEOR's {@code SCORE} command prints. */
        public String line() {
            StringBuilder b = new StringBuilder();
            b.append(testLength).append(' ').append(referenceLength).append(' ').append(testFunctionWords)
                    .append(' ').append(referenceFunctionWords);
            for (int i = 0; i < MODULES; i++) {
                b.append(' ').append(testContent[i]).append(' ').append(referenceContent[i]).append(' ')
                        .append(testFunction[i]).append(' ').append(referenceFunction[i]);
            }
            return b.append(' ').append(chunks).append(' ').append(testWordMatches).append(' ')
                    .append(referenceWordMatches).toString();
        }
    }

    public MeteorScorer(MeteorData data) {
        this.data = data;
        this.normalizer = new MeteorNormalizer(data.prefixes);
    }

    /**
     * METEOR 1.5's English normalisation of one line, then lower-casing: the words it aligns, joined by spaces.
     */
    public String normalize(String text) {
        return normalizer.normalize(text).toLowerCase(Locale.ROOT);
    }

    /**
     * The statistics of a candidate against the best of its references, as coco-caption's meteor.py has METEOR
     * compute them: it drops {@code |||} from the candidate, turns double spaces into single ones and sends the
     * line {@code SCORE ||| ref ||| ... ||| candidate}, which METEOR splits at every {@code |||} (so a reference
     * holding one counts as two) and trims.
     */
    public Stats stats(String candidate, List<String> references) {
        if (references.isEmpty()) {
            throw new IllegalArgumentException("METEOR needs at least one reference");
        }
        String line = "SCORE ||| " + String.join(" ||| ", references) + " ||| "
                + candidate.replace("|||", "").replace("  ", " ");
        String[] part = line.split("\\|\\|\\|");
        List<String> test = MeteorData.tokens(normalize(part[part.length - 1].trim()));
        Stats best = null;
        double bestScore = -1;
        for (int r = 1; r < part.length - 1; r++) {
            Stats s = align(test, MeteorData.tokens(normalize(part[r].trim())));
            double score = score(s);
            if (score > bestScore) {
                best = s;
                bestScore = score;
            }
        }
        return best;
    }

    /** The segment score from statistics (0 where METEOR divides by zero). */
    public static double score(Stats s) {
        double testWeighted = 0;
        double referenceWeighted = 0;
        double testLength = DELTA * (s.testLength - s.testFunctionWords) + (1.0 - DELTA) * s.testFunctionWords;
        double referenceLength = DELTA * (s.referenceLength - s.referenceFunctionWords)
                + (1.0 - DELTA) * s.referenceFunctionWords;
        for (int i = 0; i < MODULES; i++) {
            testWeighted += s.testContent[i] * MODULE_WEIGHTS[i] * DELTA;
        }
        for (int i = 0; i < MODULES; i++) {
            referenceWeighted += s.referenceContent[i] * MODULE_WEIGHTS[i] * DELTA;
        }
        for (int i = 0; i < MODULES; i++) {
            testWeighted += s.testFunction[i] * MODULE_WEIGHTS[i] * (1.0 - DELTA);
        }
        for (int i = 0; i < MODULES; i++) {
            referenceWeighted += s.referenceFunction[i] * MODULE_WEIGHTS[i] * (1.0 - DELTA);
        }
        double precision = testWeighted / testLength;
        double recall = referenceWeighted / referenceLength;
        double fMean = 1.0 / ((1.0 - ALPHA) / precision + ALPHA / recall);
        double frag = s.whole() ? 0 : s.chunks / ((s.testWordMatches + s.referenceWordMatches) / 2);
        double score = fMean * (1.0 - GAMMA * Math.pow(frag, BETA));
        return Double.isNaN(score) ? 0 : Math.max(score, 0.0);
    }

    /** The corpus score of METEOR's {@code EVAL} command: the score of the summed statistics. */
    public static double aggregate(List<Stats> segments) {
        double[] tc = new double[MODULES];
        double[] rc = new double[MODULES];
        double[] tf = new double[MODULES];
        double[] rf = new double[MODULES];
        double tl = 0;
        double rl = 0;
        double tfw = 0;
        double rfw = 0;
        double chunks = 0;
        double tm = 0;
        double rm = 0;
        for (Stats s : segments) {
            tl += s.testLength;
            rl += s.referenceLength;
            tfw += s.testFunctionWords;
            rfw += s.referenceFunctionWords;
            for (int i = 0; i < MODULES; i++) {
                tc[i] += s.testContent[i];
                rc[i] += s.referenceContent[i];
                tf[i] += s.testFunction[i];
                rf[i] += s.referenceFunction[i];
            }
            if (!s.whole()) {
                chunks += s.chunks;
            }
            tm += s.testWordMatches;
            rm += s.referenceWordMatches;
        }
        return score(new Stats(tl, rl, tfw, rfw, tc, rc, tf, rf, chunks, tm, rm));
    }

    /** A match: reference words {@code [start, start + length)} with candidate words {@code [matchStart, ...)}. */
    private record Match(int start, int length, int matchStart, int matchLength, int module) {
    }

    /** A path of the alignment search. */
    private static final class Path {
        final Match[] matches;
        final boolean[] testUsed;
        final boolean[] referenceUsed;
        int weighted1;
        int weighted2;
        int chunks;
        int idx;
        int lastMatchEnd = -1;
        int distance;

        Path(Match[] matches, boolean[] testUsed, boolean[] referenceUsed) {
            this.matches = matches.clone();
            this.testUsed = testUsed.clone();
            this.referenceUsed = referenceUsed.clone();
        }

        Path(Path p) {
            this(p.matches, p.testUsed, p.referenceUsed);
            weighted1 = p.weighted1;
            weighted2 = p.weighted2;
            chunks = p.chunks;
            idx = p.idx;
            lastMatchEnd = p.lastMatchEnd;
            distance = p.distance;
        }

        boolean uses(Match m) {
            for (int i = 0; i < m.length; i++) {
                if (referenceUsed[m.start + i]) {
                    return true;
                }
            }
            for (int i = 0; i < m.matchLength; i++) {
                if (testUsed[m.matchStart + i]) {
                    return true;
                }
            }
            return false;
        }

        void use(Match m) {
            for (int i = 0; i < m.length; i++) {
                referenceUsed[m.start + i] = true;
            }
            for (int i = 0; i < m.matchLength; i++) {
                testUsed[m.matchStart + i] = true;
            }
        }

        /** Counts {@code m} as the path's next match (the sums truncate to int, as METEOR's do). */
        void take(Match m) {
            weighted1 = (int) (weighted1 + m.matchLength * SEARCH_WEIGHTS[m.module]);
            weighted2 = (int) (weighted2 + m.length * SEARCH_WEIGHTS[m.module]);
            if (lastMatchEnd != -1 && m.matchStart != lastMatchEnd) {
                chunks++;
            }
            idx = m.start + m.length;
            lastMatchEnd = m.matchStart + m.matchLength;
        }
    }

    private static final Comparator<Path> RANK = (x, y) -> {
        int matchDiff = (y.weighted1 + y.weighted2) - (x.weighted1 + x.weighted2);
        if (matchDiff != 0) {
            return matchDiff > 0 ? 1 : -1;
        }
        if (x.chunks != y.chunks) {
            return x.chunks - y.chunks;
        }
        return x.distance - y.distance;
    };

    /** Aligns candidate words {@code test} with reference words {@code ref}; the statistics of the alignment. */
    Stats align(List<String> test, List<String> ref) {
        int n1 = test.size();
        int n2 = ref.size();
        int[] keys1 = test.stream().mapToInt(String::hashCode).toArray();
        int[] keys2 = ref.stream().mapToInt(String::hashCode).toArray();
        List<List<Match>> matches = new ArrayList<>();
        for (int j = 0; j < n2; j++) {
            matches.add(new ArrayList<>());
        }
        int[] coverage1 = new int[n1];
        int[] coverage2 = new int[n2];
        int modules = n1 == n2 && Arrays.equals(keys1, keys2) ? 1 : MODULES;
        for (int module = 0; module < modules; module++) {
            switch (module) {
                case EXACT -> wordMatches(module, keys1, keys2, (i, j) -> keys1[i] == keys2[j], matches, coverage1,
                        coverage2);
                case STEM -> {
                    int[] s1 = test.stream().mapToInt(w -> stem(w).hashCode()).toArray();
                    int[] s2 = ref.stream().mapToInt(w -> stem(w).hashCode()).toArray();
                    wordMatches(module, keys1, keys2, (i, j) -> s1[i] == s2[j] && keys1[i] != keys2[j], matches,
                            coverage1, coverage2);
                }
                case SYNONYM -> {
                    List<Set<Integer>> y1 = test.stream().map(this::synsetsOf).toList();
                    List<Set<Integer>> y2 = ref.stream().map(this::synsetsOf).toList();
                    wordMatches(module, keys1, keys2,
                            (i, j) -> !java.util.Collections.disjoint(y1.get(i), y2.get(j)) && keys1[i] != keys2[j],
                            matches, coverage1, coverage2);
                }
                default -> paraphraseMatches(test, ref, matches, coverage1, coverage2);
            }
        }

        Path start = new Path(new Match[n2], new boolean[n1], new boolean[n2]);
        for (int j = 0; j < n2; j++) {
            if (matches.get(j).size() != 1) {
                continue;
            }
            Match m = matches.get(j).getFirst();
            boolean overlap = false;
            for (int k = 0; k < m.length; k++) {
                overlap |= coverage2[j + k] != 1;
            }
            for (int k = 0; k < m.matchLength; k++) {
                overlap |= coverage1[m.matchStart + k] != 1;
            }
            if (!overlap) {
                start.matches[j] = m;
                start.use(m);
            }
        }
        Path best = search(matches, start);

        double[] tc = new double[MODULES];
        double[] rc = new double[MODULES];
        double[] tf = new double[MODULES];
        double[] rf = new double[MODULES];
        boolean[] function1 = new boolean[n1];
        boolean[] function2 = new boolean[n2];
        int functionCount1 = 0;
        int functionCount2 = 0;
        for (int i = 0; i < n1; i++) {
            function1[i] = data.functionWords.contains(test.get(i).toLowerCase(Locale.ROOT));
            functionCount1 += function1[i] ? 1 : 0;
        }
        for (int j = 0; j < n2; j++) {
            function2[j] = data.functionWords.contains(ref.get(j).toLowerCase(Locale.ROOT));
            functionCount2 += function2[j] ? 1 : 0;
        }
        for (Match m : best.matches) {
            if (m == null) {
                continue;
            }
            for (int k = 0; k < m.matchLength; k++) {
                if (function1[m.matchStart + k]) {
                    tf[m.module]++;
                } else {
                    tc[m.module]++;
                }
            }
            for (int k = 0; k < m.length; k++) {
                if (function2[m.start + k]) {
                    rf[m.module]++;
                } else {
                    rc[m.module]++;
                }
            }
        }
        // Chunks recounted over the final alignment, as METEOR reports them.
        int chunks = 0;
        int lastMatchEnd = -1;
        for (int idx = 0; idx < n2; ) {
            Match m = best.matches[idx];
            if (m == null) {
                if (lastMatchEnd != -1) {
                    chunks++;
                    lastMatchEnd = -1;
                }
                idx++;
            } else {
                if (lastMatchEnd != -1 && m.matchStart != lastMatchEnd) {
                    chunks++;
                }
                idx = m.start + m.length;
                lastMatchEnd = m.matchStart + m.matchLength;
            }
        }
        if (lastMatchEnd != -1) {
            chunks++;
        }
        double words1 = 0;
        double words2 = 0;
        for (int i = 0; i < MODULES; i++) {
            words1 += tc[i];
            words1 += tf[i];
            words2 += rc[i];
            words2 += rf[i];
        }
        return new Stats(n1, n2, functionCount1, functionCount2, tc, rc, tf, rf, chunks, words1, words2);
    }

    private interface WordTest {
        boolean matches(int i, int j);
    }

    private static void wordMatches(int module, int[] keys1, int[] keys2, WordTest test, List<List<Match>> matches,
                                    int[] coverage1, int[] coverage2) {
        for (int j = 0; j < keys2.length; j++) {
            for (int i = 0; i < keys1.length; i++) {
                if (test.matches(i, j)) {
                    matches.get(j).add(new Match(j, 1, i, 1, module));
                    coverage1[i]++;
                    coverage2[j]++;
                }
            }
        }
    }

    private void paraphraseMatches(List<String> test, List<String> ref, List<List<Match>> matches, int[] coverage1,
                                   int[] coverage2) {
        MeteorData.Paraphrases table = data.paraphrases;
        int[] line1 = test.stream().mapToInt(table::id).toArray();
        int[] line2 = ref.stream().mapToInt(table::id).toArray();
        // Table phrases in the reference whose paraphrase is in the candidate, then the other way round.
        for (int j = 0; j < line2.length; j++) {
            for (int[] entry : table.startingAt(line2, j)) {
                int[] words = table.target(entry[1]);
                for (int i = 0; i < line1.length; i++) {
                    if (startsWith(line1, i, words)) {
                        addMatch(new Match(j, entry[0], i, words.length, PARAPHRASE), matches, coverage1, coverage2);
                    }
                }
            }
        }
        for (int i = 0; i < line1.length; i++) {
            for (int[] entry : table.startingAt(line1, i)) {
                int[] words = table.target(entry[1]);
                for (int j = 0; j < line2.length; j++) {
                    if (startsWith(line2, j, words)) {
                        addMatch(new Match(j, words.length, i, entry[0], PARAPHRASE), matches, coverage1, coverage2);
                    }
                }
            }
        }
    }

    private static boolean startsWith(int[] line, int at, int[] words) {
        for (int k = 0; k < words.length; k++) {
            if (at + k == line.length || line[at + k] != words[k]) {
                return false;
            }
        }
        return true;
    }

    private static void addMatch(Match m, List<List<Match>> matches, int[] coverage1, int[] coverage2) {
        matches.get(m.start).add(m);
        for (int k = 0; k < m.matchLength; k++) {
            coverage1[m.matchStart + k]++;
        }
        for (int k = 0; k < m.length; k++) {
            coverage2[m.start + k]++;
        }
    }

    private Path search(List<List<Match>> matches, Path start) {
        int n = matches.size();
        List<Path> next = new ArrayList<>();
        next.add(start);
        for (int current = 0; current <= n; current++) {
            List<Path> paths = next;
            next = new ArrayList<>();
            paths.sort(RANK);
            for (int rank = 0; rank < BEAM && rank < paths.size(); rank++) {
                Path path = paths.get(rank);
                if (current == n) {
                    if (path.lastMatchEnd != -1) {
                        path.chunks++;
                    }
                    next.add(path);
                    continue;
                }
                if (path.referenceUsed[current]) {
                    if (current < path.idx) {
                        next.add(path);
                    } else if (path.matches[path.idx] != null) {
                        Match m = path.matches[path.idx];
                        path.take(m);
                        path.distance += Math.abs(m.start - m.matchStart);
                        next.add(path);
                    }
                    continue;
                }
                for (Match m : matches.get(current)) {
                    if (path.uses(m)) {
                        continue;
                    }
                    Path branch = new Path(path);
                    branch.use(m);
                    branch.matches[current] = m;
                    branch.take(m);
                    // METEOR adds the new match's distance to the path it branched from.
                    path.distance += Math.abs(m.start - m.matchStart);
                    next.add(branch);
                }
                if (path.lastMatchEnd != -1) {
                    path.chunks++;
                    path.lastMatchEnd = -1;
                }
                path.idx++;
                next.add(path);
            }
            if (next.isEmpty()) {
                next.add(paths.getFirst());
            }
        }
        next.sort(RANK);
        return next.getFirst();
    }

    private String stem(String word) {
        stemmer.setCurrent(word);
        stemmer.stem();
        return stemmer.getCurrent();
    }

    /** The word's synsets, with those of its base forms (WordNet's exceptions, else its morphology rules). */
    private Set<Integer> synsetsOf(String word) {
        Set<Integer> out = new HashSet<>(data.synsets.getOrDefault(word, Set.of()));
        List<String> bases = data.bases.get(word);
        if (bases != null) {
            for (String base : bases) {
                out.addAll(data.synsets.getOrDefault(base, Set.of()));
            }
        } else {
            out.addAll(data.synsets.getOrDefault(morph(word, data.synsets), Set.of()));
        }
        return out;
    }

    /**
     * WordNet's base form by suffix rules, as METEOR applies them: the word itself when it ends in "ss" or has at
     * most two letters, else the first rule whose result is a known word ("ful" words end in no rule's suffix, so
     * they have none), else the empty string.
     */
    static String morph(String word, Map<String, Set<Integer>> known) {
        if (word.endsWith("ss") || word.length() <= 2) {
            return word;
        }
        String end = word.endsWith("ful") ? "ful" : "";
        for (int r = 0; r < MORPH_SUFFIXES.length; r++) {
            if (word.endsWith(MORPH_SUFFIXES[r])) {
                String base = word.substring(0, word.length() - MORPH_SUFFIXES[r].length()) + MORPH_ENDINGS[r];
                if (known.containsKey(base)) {
                    return base + end;
                }
            }
        }
        return "";
    }
}
