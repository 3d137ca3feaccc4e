package osprey4j.train.tokenizer;

import osprey4j.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A SentencePiece BPE trainer: what {@code spm_train --model_type=bpe} does, in Java, writing a
 * {@code tokenizer.model} that SentencePiece itself and our {@code Tokenizer} load.
 *
 * <p>Steps, as in SentencePiece's {@code bpe_model_trainer.cc} and {@code trainer_interface.cc}:
 * <ol>
 *   <li>Each line is normalised as the model will normalise text at encoding time (identity rules: optional
 *       space squeezing, a {@code ▁} in front, spaces to {@code ▁}); text spelling a control or byte piece
 *       becomes a boundary (a tab). Empty lines are ignored; lines longer than {@code maxSentenceLength} UTF-8
 *       bytes are skipped and counted. ({@code U+2047}, which newer SentencePiece releases reserve, is an ordinary
 *       character here, as in Debian's 0.1.97.)</li>
 *   <li>Character counts decide the required characters: most frequent first (ties by code point) until
 *       {@code characterCoverage} of all characters are covered (a tab counts but is never a piece). Others can
 *       never be inside a piece (with byte fallback they are encoded as bytes).</li>
 *   <li>Lines are cut into words before each {@code ▁} (a run of {@code ▁} stays one word when whitespace-only
 *       pieces are allowed), and identical words are counted once with their frequency.</li>
 *   <li>Repeatedly, the most frequent adjacent pair of symbols whose concatenation is a valid piece is merged
 *       everywhere (left to right); ties go to the shorter piece, then the smaller string. A pair giving a piece
 *       already made from another pair is dropped without merging, as SentencePiece does. Validity is
 *       SentencePiece's {@code IsValidSentencePiece}: at most {@code maxPieceLength} characters, {@code ▁} only at
 *       the start (or whitespace-only pieces), no mixed scripts, digits alone when {@code splitDigits}.</li>
 *   <li>The vocabulary is {@code <unk>}=0, {@code <s>}=1, {@code </s>}=2, {@code <0x00>..<0xFF>} with byte
 *       fallback, the learnt pieces in merge order, then the required characters by frequency.</li>
 * </ol>
 * Scores: learnt piece i (0-based) scores {@code -(i + 1)}, characters continue below. SentencePiece's BPE
 * encoder merges the highest-scoring piece first, so encoding replays training order. ({@code spm_train} scores
 * its first piece {@code -0.0}. transformers before 4.31, and osprey-model's converter, skip a piece scored exactly
 * zero when they build the fast tokenizer's merges, so that piece would never come out of the fast tokenizer;
 * 4.31's {@code SentencePieceExtractor} keeps it. With no zero score, every converter gives the same merges.)
 *
 * <p>Against {@code spm_train}: on the test corpus the learnt pieces are the same, in the same order. Two
 * differences remain by design. Merges are picked exactly, where SentencePiece rescans only the 5% most frequent
 * pairs (at least 1000), refreshed every 100 merges, which can reorder pieces on large corpora. And when every
 * word is one symbol, no pair is left and training stops with an error naming the largest reachable vocabulary
 * (or, with a soft limit, writes that smaller vocabulary);
 * {@code spm_train} instead goes on picking pairs from frequencies cached before earlier merges consumed them
 * ({@code "Ball"} from a corpus whose only word is {@code "▁Ball"}), pieces that encoding never produces. Output
 * depends only on the corpus and options (and {@code seed} when sampling).
 */
public final class SentencePieceBpeTrainer {
    static final String SPACE = "\u2581";
    private static final int SPACE_CP = 0x2581;
    /** SentencePiece's piece-boundary mark (a tab): counted for coverage, never a piece. */
    private static final char BOUNDARY = '\t';

    private SentencePieceBpeTrainer() {
    }

    /** A trained vocabulary and what training saw. */
    public record Model(List<Piece> pieces, TrainerOptions options, long sentences, long skippedSentences,
                        int requiredChars, int learntPieces) {
        public Model {
            pieces = List.copyOf(pieces);
        }

        /** The serialised {@code sentencepiece.ModelProto}. */
        public byte[] toModelProto() {
            return ModelProtoWriter.write(this);
        }

        /** Writes {@code tokenizer.model} atomically (a temporary sibling renamed into place). */
        public void write(Path file) throws IOException {
            byte[] bytes = toModelProto();
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            AtomicFiles.write(file, tmp -> Files.write(tmp, bytes));
        }
    }

    /** One vocabulary entry ({@code ModelProto.SentencePiece}). */
    public record Piece(String piece, float score, Type type) {
    }

    /** {@code ModelProto.SentencePiece.Type}, with its protobuf numbers. */
    public enum Type {
        NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

        final int number;

        Type(int number) {
            this.number = number;
        }
    }

    /** Trains on {@code lines} and writes {@code output} ({@code tokenizer.model}). */
    public static Model train(Iterable<String> lines, TrainerOptions options, Path output) throws IOException {
        Model m = train(lines, options);
        m.write(output);
        return m;
    }

    /** Trains on {@code lines} (one sentence each; a line break inside a line is an ordinary character). */
    public static Model train(Iterable<String> lines, TrainerOptions options) {
        List<String> sentences = new ArrayList<>();
        long skipped = 0;
        long seen = 0;
        SplittableRandom rng = new SplittableRandom(options.seed());
        List<String> meta = metaPieceStrings(options);
        for (String line : lines) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.getBytes(StandardCharsets.UTF_8).length > options.maxSentenceLength()) {
                skipped++;
                continue;
            }
            String s = replaceMetaPieces(normalize(line, options), meta);
            if (s.isEmpty()) {
                continue;
            }
            seen++;
            if (options.inputSentenceSize() > 0 && sentences.size() >= options.inputSentenceSize()) {
                // Reservoir sampling: every line has the same chance to be kept.
                long j = rng.nextLong(seen);
                if (j < options.inputSentenceSize()) {
                    sentences.set((int) j, s);
                }
            } else {
                sentences.add(s);
            }
        }
        if (sentences.isEmpty()) {
            throw new IllegalArgumentException("the corpus has no usable line");
        }
        return new Training(options).run(sentences, skipped);
    }

    /**
     * The normalisation SentencePiece applies with the identity rule and these switches. Its "extra whitespace"
     * is the space character only (a tab or a no-break space is kept).
     */
    static String normalize(String line, TrainerOptions options) {
        String s = line;
        if (options.removeExtraWhitespaces()) {
            int from = 0;
            int to = s.length();
            while (from < to && s.charAt(from) == ' ') {
                from++;
            }
            while (to > from && s.charAt(to - 1) == ' ') {
                to--;
            }
            s = s.substring(from, to).replaceAll(" {2,}", " ");
        }
        if (s.isEmpty()) {
            return s;
        }
        if (options.addDummyPrefix()) {
            s = " " + s;
        }
        return s.replace(" ", SPACE);
    }

    /** The control and byte pieces' strings. */
    static List<String> metaPieceStrings(TrainerOptions options) {
        List<String> meta = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        if (options.byteFallback()) {
            for (int b = 0; b < 256; b++) {
                meta.add(String.format("<0x%02X>", b));
            }
        }
        return meta;
    }

    /**
     * As SentencePiece's trainer: text spelling a control or byte piece ({@code <s>}, {@code <0x41>}) is replaced,
     * longest match first, by a tab, the piece-boundary mark (a tab is never a piece, so nothing merges across it).
     */
    static String replaceMetaPieces(String s, List<String> meta) {
        if (s.indexOf('<') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int longest = 0;
            for (String m : meta) {
                if (m.length() > longest && s.startsWith(m, i)) {
                    longest = m.length();
                }
            }
            if (longest > 0) {
                out.append(BOUNDARY);
                i += longest;
            } else {
                out.append(s.charAt(i++));
            }
        }
        return out.toString();
    }

    /** SentencePiece's {@code SplitIntoWords} (whitespace as prefix). */
    static List<String> splitIntoWords(String text, boolean allowWhitespaceOnlyPieces) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = null;
        boolean inWsSequence = false;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int len = Character.charCount(cp);
            boolean isWs = cp == SPACE_CP;
            if (i == 0 || (isWs && (!inWsSequence || !allowWhitespaceOnlyPieces))) {
                if (cur != null) {
                    words.add(cur.toString());
                }
                cur = new StringBuilder();
                inWsSequence = true;
            }
            if (inWsSequence && !isWs) {
                inWsSequence = false;
            }
            cur.append(text, i, i + len);
            i += len;
        }
        if (cur != null) {
            words.add(cur.toString());
        }
        return words;
    }

    /** The state of one training run. */
    private static final class Training {
        final TrainerOptions options;
        final List<String> pieces = new ArrayList<>();        // symbol id -> string (chars first, then merges)
        final List<int[]> pieceChars = new ArrayList<>();     // symbol id -> code points
        final Map<String, Integer> pieceIds = new HashMap<>();
        final Set<String> vocabulary = new HashSet<>();       // strings already in the final vocabulary
        int[][] words;
        long[] counts;
        final Map<Long, Pair> pairs = new HashMap<>();
        final PriorityQueue<Candidate> queue = new PriorityQueue<>();

        Training(TrainerOptions options) {
            this.options = options;
        }

        Model run(List<String> sentences, long skipped) {
            // 1. Required characters.
            Map<Integer, Long> charCounts = new HashMap<>();
            long all = 0;
            for (String s : sentences) {
                for (int i = 0; i < s.length(); ) {
                    int cp = s.codePointAt(i);
                    i += Character.charCount(cp);
                    if (!validCodePoint(cp)) {
                        continue;
                    }
                    charCounts.merge(cp, 1L, Long::sum);
                    all++;
                }
            }
            List<Map.Entry<Integer, Long>> byCount = new ArrayList<>(charCounts.entrySet());
            byCount.sort((a, b) -> !a.getValue().equals(b.getValue())
                    ? Long.compare(b.getValue(), a.getValue()) : Integer.compare(a.getKey(), b.getKey()));
            List<Integer> required = new ArrayList<>();
            long accumulated = 0;
            for (Map.Entry<Integer, Long> e : byCount) {
                double coverage = (double) accumulated / all;
                if (coverage >= options.characterCoverage()) {
                    break;
                }
                accumulated += e.getValue();
                if (e.getKey() != BOUNDARY) {
                    required.add(e.getKey());
                }
            }
            int learnt = options.vocabSize() - options.metaPieces() - required.size();
            if (learnt < 0) {
                throw new IllegalArgumentException("vocab size " + options.vocabSize() + " is smaller than the "
                        + options.metaPieces() + " control/byte pieces plus the " + required.size()
                        + " required characters; raise it or lower the character coverage");
            }
            for (int cp : required) {
                symbol(new String(Character.toChars(cp)), new int[] {cp});
            }
            Set<String> reserved = reservedPieces();
            vocabulary.addAll(reserved);

            // 2. Words with their frequencies, as symbol ids (-1: a character that is not required).
            Map<String, Long> wordCounts = new LinkedHashMap<>();
            for (String s : sentences) {
                List<String> ws = options.splitByWhitespace()
                        ? splitIntoWords(s, options.allowWhitespaceOnlyPieces()) : List.of(s);
                for (String w : ws) {
                    wordCounts.merge(w, 1L, Long::sum);
                }
            }
            words = new int[wordCounts.size()][];
            counts = new long[wordCounts.size()];
            int wi = 0;
            for (Map.Entry<String, Long> e : wordCounts.entrySet()) {
                String w = e.getKey();
                int[] syms = new int[w.codePointCount(0, w.length())];
                int k = 0;
                for (int i = 0; i < w.length(); ) {
                    int cp = w.codePointAt(i);
                    i += Character.charCount(cp);
                    Integer id = pieceIds.get(new String(Character.toChars(cp)));
                    syms[k++] = id == null ? -1 : id;
                }
                words[wi] = syms;
                counts[wi] = e.getValue();
                wi++;
            }
            for (int w = 0; w < words.length; w++) {
                addPairs(w, +1, null);
            }
            for (Pair p : pairs.values()) {
                offer(p);
            }

            // 3. Merges.
            List<String> merged = new ArrayList<>();
            while (merged.size() < learnt) {
                Candidate c = queue.poll();
                if (c == null) {
                    if (!options.hardVocabLimit()) {
                        break;
                    }
                    throw new IllegalArgumentException("vocab size " + options.vocabSize() + " is too large for this "
                            + "corpus: it yields only " + (options.metaPieces() + merged.size() + required.size())
                            + " pieces; lower it, give more text, or make the limit soft");
                }
                Pair p = pairs.get(c.key);
                if (p == null || p.dead || p.freq != c.freq) {
                    continue;   // stale entry
                }
                if (vocabulary.contains(p.merged)) {
                    p.dead = true;   // the same piece made from another pair: SentencePiece drops it
                    continue;
                }
                vocabulary.add(p.merged);
                merged.add(p.merged);
                int newId = symbol(p.merged, concat(pieceChars.get(p.left), pieceChars.get(p.right)));
                p.dead = true;
                Set<Long> touched = new HashSet<>();
                for (int w : p.words.stream().mapToInt(Integer::intValue).sorted().toArray()) {
                    if (!contains(words[w], p.left, p.right)) {
                        continue;
                    }
                    addPairs(w, -1, touched);
                    words[w] = replace(words[w], p.left, p.right, newId);
                    addPairs(w, +1, touched);
                }
                for (long key : touched) {
                    Pair t = pairs.get(key);
                    if (t != null && !t.dead && t.freq > 0) {
                        offer(t);
                    }
                }
            }

            // 4. The vocabulary.
            List<Piece> out = new ArrayList<>(options.metaPieces() + merged.size() + required.size());
            out.add(new Piece("<unk>", 0f, Type.UNKNOWN));
            out.add(new Piece("<s>", 0f, Type.CONTROL));
            out.add(new Piece("</s>", 0f, Type.CONTROL));
            if (options.byteFallback()) {
                for (int b = 0; b < 256; b++) {
                    out.add(new Piece(String.format("<0x%02X>", b), 0f, Type.BYTE));
                }
            }
            int rank = 0;
            for (String m : merged) {
                out.add(new Piece(m, -(++rank), Type.NORMAL));
            }
            for (int cp : required) {
                out.add(new Piece(new String(Character.toChars(cp)), -(++rank), Type.NORMAL));
            }
            return new Model(out, options, sentences.size(), skipped, required.size(), merged.size());
        }

        private Set<String> reservedPieces() {
            Set<String> r = new HashSet<>(List.of("<unk>", "<s>", "</s>"));
            if (options.byteFallback()) {
                for (int b = 0; b < 256; b++) {
                    r.add(String.format("<0x%02X>", b));
                }
            }
            return r;
        }

        private int symbol(String s, int[] cps) {
            int id = pieces.size();
            pieces.add(s);
            pieceChars.add(cps);
            pieceIds.put(s, id);
            return id;
        }

        /** Adds ({@code sign} +1) or removes (-1) the adjacent pairs of word {@code w}. */
        private void addPairs(int w, int sign, Set<Long> touched) {
            int[] syms = words[w];
            for (int i = 0; i + 1 < syms.length; i++) {
                int l = syms[i];
                int r = syms[i + 1];
                if (l < 0 || r < 0) {
                    continue;
                }
                long key = (long) l << 32 | (r & 0xffffffffL);
                Pair p = pairs.get(key);
                if (p == null) {
                    if (sign < 0) {
                        continue;
                    }
                    int[] cps = concat(pieceChars.get(l), pieceChars.get(r));
                    if (!isValidPiece(cps)) {
                        continue;
                    }
                    p = new Pair(key, l, r, pieces.get(l) + pieces.get(r), cps.length);
                    pairs.put(key, p);
                }
                if (p.dead) {
                    continue;
                }
                p.freq += sign * counts[w];
                if (sign > 0) {
                    p.words.add(w);
                }
                if (touched != null) {
                    touched.add(key);
                }
            }
        }

        private void offer(Pair p) {
            if (p.freq > 0) {
                queue.add(new Candidate(p.key, p.freq, p.length, p.merged));
            }
        }

        /** SentencePiece's {@code IsValidSentencePiece}. */
        private boolean isValidPiece(int[] cps) {
            if (cps.length == 0 || cps.length > options.maxPieceLength()) {
                return false;
            }
            boolean allWhitespace = true;
            for (int c : cps) {
                allWhitespace &= c == SPACE_CP;
            }
            Character.UnicodeScript prev = null;   // null: any script
            for (int pos = 0; pos < cps.length; pos++) {
                int c = cps[pos];
                if (c == BOUNDARY || c == 0 || c == 0x3000 || !validCodePoint(c)) {
                    return false;
                }
                if (c == SPACE_CP) {
                    if (!(options.allowWhitespaceOnlyPieces() && allWhitespace)) {
                        if (options.splitByWhitespace() ? pos > 0 : pos > 0 && pos == cps.length - 1) {
                            return false;
                        }
                    }
                    continue;
                }
                Character.UnicodeScript s = Character.UnicodeScript.of(c);
                if (s == Character.UnicodeScript.HIRAGANA || s == Character.UnicodeScript.KATAKANA || c == 0x30FC) {
                    s = Character.UnicodeScript.HAN;
                } else if (s == Character.UnicodeScript.INHERITED) {
                    s = prev;
                }
                boolean digit = c >= '0' && c <= '9';
                if (!options.splitByNumber() && digit) {
                    s = null;
                }
                if (options.splitDigits() && digit && cps.length > 1) {
                    return false;
                }
                if (options.splitByUnicodeScript() && s != null && prev != null && s != prev) {
                    return false;
                }
                prev = s;
            }
            return true;
        }
    }

    private static boolean validCodePoint(int cp) {
        return cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static boolean contains(int[] syms, int l, int r) {
        for (int i = 0; i + 1 < syms.length; i++) {
            if (syms[i] == l && syms[i + 1] == r) {
                return true;
            }
        }
        return false;
    }

    /** Merges every non-overlapping occurrence of {@code (l, r)}, left to right. */
    private static int[] replace(int[] syms, int l, int r, int merged) {
        int[] out = new int[syms.length];
        int n = 0;
        for (int i = 0; i < syms.length; i++) {
            if (i + 1 < syms.length && syms[i] == l && syms[i + 1] == r) {
                out[n++] = merged;
                i++;
            } else {
                out[n++] = syms[i];
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** A pair of adjacent symbols and how often it occurs now. */
    private static final class Pair {
        final long key;
        final int left;
        final int right;
        final String merged;
        final int length;
        long freq;
        boolean dead;
        final Set<Integer> words = new HashSet<>();

        Pair(long key, int left, int right, String merged, int length) {
            this.key = key;
            this.left = left;
            this.right = right;
            this.merged = merged;
            this.length = length;
        }
    }

    /** A queue entry: most frequent first, then shorter, then smaller string (by code point). */
    private record Candidate(long key, long freq, int length, String merged) implements Comparable<Candidate> {
        @Override
        public int compareTo(Candidate o) {
            if (freq != o.freq) {
                return Long.compare(o.freq, freq);
            }
            if (length != o.length) {
                return Integer.compare(length, o.length);
            }
            int c = compareCodePoints(merged, o.merged);
            return c != 0 ? c : Long.compare(key, o.key);
        }
    }

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
