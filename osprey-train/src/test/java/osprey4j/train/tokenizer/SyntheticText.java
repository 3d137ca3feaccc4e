package osprey4j.train.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Deterministic text for tokenizer tests: region-description English with numbers, accents, CJK and rare symbols. */
final class SyntheticText {
    private static final String[] WORDS = ("the a an red green blue yellow striped dotted small large tall round "
            + "mug cup bowl vase bottle car truck bus van dog cat fox house barn tower tree bush chair stool table "
            + "lamp ball balloon kite umbrella handle body wheel roof door window trunk crown leg seat shade string "
            + "left right front behind next to on under near with of in is has holds stands sits looks shows region "
            + "picture image object part colour pattern shading plain bright dark wooden metal glass it its this "
            + "that there are two three several many one café naïve façade über jalapeño").split(" ");
    private static final String[] CJK = {"这是一个红色的杯子", "これはペンです", "カタカナとひらがな", "한국어 문장", "Ελληνικά",
            "русский текст"};
    private static final String[] PUNCT = {".", ",", "?", "!", ":", ";", "'s", "-", "(", ")", "\""};
    private static final String RARE = "ßøåœ€£¥©®™±§¶†‡•…‰′″→⇒∀∂∃∅∇∈∑√∞≈≠≤≥⊂⊃♠♣♥♦☀☁☂★☆♪♫🙂🚀🐟🌳ǅǈ\u0301\u00a0";

    private SyntheticText() {
    }

    static String sentence(SplittableRandom rng) {
        StringBuilder sb = new StringBuilder();
        int n = 3 + rng.nextInt(14);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            double r = rng.nextDouble();
            if (r < 0.04) {
                sb.append(rng.nextInt(3000));
            } else if (r < 0.06) {
                sb.append("region").append(1 + rng.nextInt(9));
            } else if (r < 0.07) {
                sb.append(CJK[rng.nextInt(CJK.length)]);
            } else {
                String w = WORDS[rng.nextInt(WORDS.length)];
                sb.append(i == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w);
            }
            if (rng.nextDouble() < 0.08) {
                sb.append(PUNCT[rng.nextInt(PUNCT.length)]);
            }
        }
        sb.append(rng.nextDouble() < 0.8 ? "." : "?");
        if (rng.nextDouble() < 0.02) {
            sb.append(' ').appendCodePoint(RARE.codePoints().toArray()[rng.nextInt((int) RARE.codePoints().count())]);
        }
        return sb.toString();
    }

    static List<String> corpus(long seed, int lines) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(lines);
        for (int i = 0; i < lines; i++) {
            out.add(sentence(rng));
        }
        return out;
    }

    /** Strings to encode: sentences like the corpus, and character soup with runs of spaces, tabs and rare symbols. */
    static List<String> probes(long seed, int count) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] rare = RARE.codePoints().toArray();
        String soupChars = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,?!:;'\"-()[]{}/\\|@#$%^&*_+=~`\t▁éàüñçøß";
        List<String> out = new ArrayList<>(List.of("", " ", "  ", "a", " a", "a ", "  a  b  ", "\t", "region1",
                "2024", "a1b2c3", "▁", "▁▁x", "☃", "🙂🙂", "e\u0301", "the  mug", "über-café", "这是"));
        while (out.size() < count) {
            if (rng.nextBoolean()) {
                out.add(sentence(rng));
            } else {
                StringBuilder sb = new StringBuilder();
                int n = rng.nextInt(40);
                for (int i = 0; i < n; i++) {
                    double r = rng.nextDouble();
                    if (r < 0.08) {
                        sb.appendCodePoint(rare[rng.nextInt(rare.length)]);
                    } else if (r < 0.2) {
                        sb.append(WORDS[rng.nextInt(WORDS.length)]);
                    } else {
                        sb.append(soupChars.charAt(rng.nextInt(soupChars.length())));
                    }
                }
                out.add(sb.toString());
            }
        }
        return out;
    }
}
