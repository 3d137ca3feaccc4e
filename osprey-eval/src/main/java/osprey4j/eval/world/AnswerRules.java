package osprey4j.eval.world;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * How an answer is scored against the annotations. The rules read only the part of the answer that carries the
 * fact, so wording around it does not matter, and they are strict about the fact itself:
 *
 * <ul>
 *   <li><b>Words.</b> Answers are lower-cased; every character other than a letter, a digit, a hyphen or an
 *       apostrophe separates words. The <i>first sentence</i> is the text before the first {@code . ! ?} or line
 *       break.
 *   <li><b>Category</b> and <b>part</b>: the answer's first noun phrase is the first sentence cut before the
 *       first comma, semicolon, colon or linking word ({@code in on at with of is are was that which near next
 *       to and or from by under above below behind beside}), after dropping an opening {@code it/this/that/there/
 *       regionN + is/shows/contains} and leading articles ({@code a an the}). It is correct when its last words
 *       are the expected name, its plural (+s / +es), or an accepted synonym ({@link #SYNONYMS}). "a red mug" and
 *       "The mug in region1" name a mug; "mug handle" names a handle.
 *   <li><b>Yes/no</b>: the first word is {@code yes} or {@code no} and equals the truth.
 *   <li><b>Colour</b>: in the first sentence (where the description template states the object's colour), the
 *       colour phrases found (longest first, so "dark green" is not also "green"; the world's colour names plus
 *       common others, {@code grey} read as {@code gray}) are exactly the annotated colour.
 *   <li><b>Multi-region</b>: in the first sentence, the first relation phrase ({@code to the left of}, {@code to the
 *       right of}, {@code above}, {@code below}, {@code next to}; {@code left of}, {@code right of}, {@code over},
 *       {@code under}, {@code beside} read as those) is the annotated relation, the first region's category is named
 *       before it and the second region's after it.
 * </ul>
 */
public final class AnswerRules {
    /** A score with the reason, for the failure list. */
    public record Verdict(boolean correct, String reason) {
        static Verdict ok() {
            return new Verdict(true, "");
        }

        static Verdict wrong(String reason) {
            return new Verdict(false, reason);
        }
    }

    /** Accepted other names (a synonym is never another category of the world). */
    public static final Map<String, List<String>> SYNONYMS = Map.of(
            "car", List.of("automobile"),
            "dog", List.of("puppy"),
            "cat", List.of("kitten"),
            "truck", List.of("lorry"),
            "bush", List.of("shrub"),
            "tv", List.of("television"));

    private static final Set<String> STOP = Set.of("in", "on", "at", "with", "of", "is", "are", "was", "that",
            "which", "near", "next", "to", "and", "or", "from", "by", "under", "above", "below", "behind", "beside");
    private static final Set<String> ARTICLES = Set.of("a", "an", "the");
    private static final List<String> EXTRA_COLOURS = List.of("grey", "gold", "golden", "silver", "violet", "cyan",
            "magenta", "tan", "navy", "maroon", "turquoise", "teal", "cream", "ivory", "olive", "lime", "crimson",
            "dark blue", "light green", "dark red", "light gray", "dark gray", "light grey", "dark grey");
    private static final String[][] RELATIONS = {
        {"to the left of", "to the left of"}, {"to the right of", "to the right of"}, {"left of", "to the left of"},
        {"right of", "to the right of"}, {"above", "above"}, {"over", "above"}, {"below", "below"},
        {"under", "below"}, {"beneath", "below"}, {"next to", "next to"}, {"beside", "next to"},
    };

    private final List<String> colours;

    /** Rules with the colour vocabulary of the world (its colour attribute names) and common colour words. */
    public AnswerRules(Collection<String> worldColours) {
        Set<String> all = new LinkedHashSet<>();
        for (String c : worldColours) {
            all.add(c.toLowerCase(Locale.ROOT));
        }
        all.addAll(EXTRA_COLOURS);
        List<String> sorted = new ArrayList<>(all);
        sorted.sort((a, b) -> b.length() != a.length() ? b.length() - a.length() : a.compareTo(b));
        this.colours = List.copyOf(sorted);
    }

    public Verdict score(WorldQuestion q, String answer) {
        String a = answer == null ? "" : answer;
        return switch (q.type()) {
            case CATEGORY, PART -> names(a, q.truth());
            case YES_NO -> yesNo(a, q.truth());
            case COLOUR -> colour(a, q.truth());
            case MULTI_REGION -> relation(a, q.truth(), q.category(), q.other());
        };
    }

    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}'-]+")) {
            if (!w.isEmpty() && !w.equals("-")) {
                out.add(w);
            }
        }
        return out;
    }

    static String firstSentence(String text) {
        String t = text.strip();
        int end = t.length();
        for (char c : new char[] {'.', '!', '?', '\n'}) {
            int i = t.indexOf(c);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        return t.substring(0, end);
    }

    /** The answer's first noun phrase, as words. */
    static List<String> firstNounPhrase(String answer) {
        String s = firstSentence(answer);
        int cut = s.length();
        for (char c : new char[] {',', ';', ':'}) {
            int i = s.indexOf(c);
            if (i >= 0 && i < cut) {
                cut = i;
            }
        }
        List<String> w = words(s.substring(0, cut));
        int start = 0;
        if (w.size() >= 2 && (Set.of("it", "this", "that", "there").contains(w.get(0)) || w.get(0).matches("region\\d+"))
                && Set.of("is", "shows", "contains", "'s").contains(w.get(1))) {
            start = 2;
        }
        while (start < w.size() && ARTICLES.contains(w.get(start))) {
            start++;
        }
        int end = start;
        while (end < w.size() && !STOP.contains(w.get(end))) {
            end++;
        }
        return w.subList(start, end);
    }

    private static boolean endsWith(List<String> phrase, List<String> name) {
        if (name.isEmpty() || phrase.size() < name.size()) {
            return false;
        }
        return phrase.subList(phrase.size() - name.size(), phrase.size()).equals(name);
    }

    static Verdict names(String answer, String truth) {
        List<String> phrase = firstNounPhrase(answer);
        List<String> name = words(truth);
        List<List<String>> accepted = new ArrayList<>();
        accepted.add(name);
        if (!name.isEmpty()) {
            String last = name.getLast();
            for (String plural : List.of(last + "s", last + "es")) {
                List<String> p = new ArrayList<>(name);
                p.set(p.size() - 1, plural);
                accepted.add(p);
            }
        }
        for (String syn : SYNONYMS.getOrDefault(truth.toLowerCase(Locale.ROOT), List.of())) {
            accepted.add(words(syn));
        }
        for (List<String> n : accepted) {
            if (endsWith(phrase, n)) {
                return Verdict.ok();
            }
        }
        return Verdict.wrong("first noun phrase '" + String.join(" ", phrase) + "' does not name '" + truth + "'");
    }

    static Verdict yesNo(String answer, String truth) {
        List<String> w = words(answer);
        String first = w.isEmpty() ? "" : w.getFirst();
        if (!first.equals("yes") && !first.equals("no")) {
            return Verdict.wrong("first word '" + first + "' is neither yes nor no");
        }
        return first.equals(truth) ? Verdict.ok() : Verdict.wrong("said " + first + ", truth " + truth);
    }

    /** The colour phrases of a text, longest match first, each word used once. */
    Set<String> coloursIn(String text) {
        List<String> w = words(text);
        boolean[] used = new boolean[w.size()];
        Set<String> found = new TreeSet<>();
        for (String colour : colours) {
            List<String> c = words(colour);
            for (int i = 0; i + c.size() <= w.size(); i++) {
                boolean free = true;
                for (int k = 0; k < c.size(); k++) {
                    free &= !used[i + k];
                }
                if (free && w.subList(i, i + c.size()).equals(c)) {
                    for (int k = 0; k < c.size(); k++) {
                        used[i + k] = true;
                    }
                    found.add(colour.equals("grey") ? "gray" : colour.replace("grey", "gray"));
                }
            }
        }
        return found;
    }

    Verdict colour(String answer, String truth) {
        Set<String> found = coloursIn(firstSentence(answer));
        String want = truth.toLowerCase(Locale.ROOT).replace("grey", "gray");
        if (found.equals(Set.of(want))) {
            return Verdict.ok();
        }
        return Verdict.wrong(found.isEmpty() ? "no colour in the first sentence, truth " + want
                : "colours " + found + " in the first sentence, truth " + want);
    }

    static Verdict relation(String answer, String truth, String first, String second) {
        List<String> w = words(firstSentence(answer));
        int at = -1;
        int length = 0;
        String said = null;
        for (int i = 0; i < w.size() && said == null; i++) {
            for (String[] r : RELATIONS) {
                List<String> phrase = words(r[0]);
                if (i + phrase.size() <= w.size() && w.subList(i, i + phrase.size()).equals(phrase)) {
                    said = r[1];
                    at = i;
                    length = phrase.size();
                    break;
                }
            }
        }
        if (said == null) {
            return Verdict.wrong("no relation stated, truth '" + truth + "'");
        }
        if (!said.equals(truth)) {
            return Verdict.wrong("said '" + said + "', truth '" + truth + "'");
        }
        if (!contains(w.subList(0, at), words(first))) {
            return Verdict.wrong("the first region's category '" + first + "' is not named before the relation");
        }
        if (!contains(w.subList(at + length, w.size()), words(second))) {
            return Verdict.wrong("the second region's category '" + second + "' is not named after the relation");
        }
        return Verdict.ok();
    }

    private static boolean contains(List<String> words, List<String> name) {
        for (int i = 0; i + name.size() <= words.size(); i++) {
            if (words.subList(i, i + name.size()).equals(name)) {
                return true;
            }
        }
        return false;
    }
}
