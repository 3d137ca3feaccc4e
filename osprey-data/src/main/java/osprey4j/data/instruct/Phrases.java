package osprey4j.data.instruct;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/** Small grammar helpers for template text: articles, plurals, lists, capitals, a seeded choice of wording. */
final class Phrases {
    private Phrases() {
    }

    // Words spelt with a leading vowel letter but said with a consonant sound, and the reverse.
    private static final Set<String> CONSONANT_SOUND = Set.of("one", "once", "uniform", "unicorn", "unicycle",
            "union", "unit", "university", "user", "usb", "ukulele", "urinal", "utensil", "european", "ewe");
    private static final Set<String> VOWEL_SOUND = Set.of("hour", "honest", "honour", "honor", "heir", "herb");

    /** {@code "a"} or {@code "an"} for the phrase that follows it. */
    static String article(String phrase) {
        String first = phrase.strip().split("[ \\-]", 2)[0].toLowerCase(Locale.ROOT);
        if (first.isEmpty()) {
            return "a";
        }
        if (VOWEL_SOUND.contains(first)) {
            return "an";
        }
        if (CONSONANT_SOUND.contains(first) || first.startsWith("uni") || first.startsWith("eu")) {
            return "a";
        }
        return "aeiou".indexOf(first.charAt(0)) >= 0 ? "an" : "a";
    }

    /** The phrase with its indefinite article: {@code "an apple"}, {@code "a unicycle"}. */
    static String a(String phrase) {
        return article(phrase) + " " + phrase;
    }

    /** English plural of the last word of a noun phrase ({@code "wine glass"} → {@code "wine glasses"}). */
    static String plural(String phrase) {
        int space = phrase.lastIndexOf(' ');
        String head = phrase.substring(0, space + 1);
        String w = phrase.substring(space + 1);
        String lw = w.toLowerCase(Locale.ROOT);
        String p = switch (lw) {
            case "person" -> "people";
            case "man" -> "men";
            case "woman" -> "women";
            case "child" -> "children";
            case "mouse" -> "mice";
            case "foot" -> "feet";
            case "tooth" -> "teeth";
            case "knife" -> "knives";
            case "leaf" -> "leaves";
            case "shelf" -> "shelves";
            case "sheep", "deer", "fish", "skis", "glasses", "scissors", "pants", "jeans", "shorts" -> w;
            default -> {
                if (lw.endsWith("s") || lw.endsWith("x") || lw.endsWith("z") || lw.endsWith("ch")
                        || lw.endsWith("sh")) {
                    yield w + "es";
                }
                if (lw.endsWith("y") && lw.length() > 1 && "aeiou".indexOf(lw.charAt(lw.length() - 2)) < 0) {
                    yield w.substring(0, w.length() - 1) + "ies";
                }
                yield w + "s";
            }
        };
        return head + p;
    }

    /** {@code n} things: {@code "one cup"}, {@code "three cups"}. */
    static String count(int n, String noun) {
        String[] words = {"no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"};
        String number = n < words.length ? words[n] : Integer.toString(n);
        return number + " " + (n == 1 ? noun : plural(noun));
    }

    /** {@code "a"}, {@code "a and b"}, {@code "a, b and c"}. */
    static String list(List<String> items) {
        return switch (items.size()) {
            case 0 -> "";
            case 1 -> items.getFirst();
            default -> String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.getLast();
        };
    }

    static String capitalise(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    static String pick(SplittableRandom rng, String... options) {
        return options[rng.nextInt(options.length)];
    }

    static <T> T pick(SplittableRandom rng, List<T> options) {
        return options.get(rng.nextInt(options.size()));
    }
}
