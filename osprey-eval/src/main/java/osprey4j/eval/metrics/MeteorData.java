package osprey4j.eval.metrics;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringTokenizer;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The English data METEOR 1.5 scores with, read from a folder the user gives: the function-word list
 * ({@code function/english.words}), the nonbreaking prefixes of its normaliser ({@code nonbreaking/english.prefixes}),
 * its WordNet synonym files ({@code synonym/english.exceptions}, {@code synonym/english.synsets}) and the
 * paraphrase table ({@code data/paraphrase-en.gz}). A METEOR install, such as pycocoevalcap's {@code meteor/}
 * folder, keeps the first four inside {@code meteor-1.5.jar} and the table beside it in {@code data/}: each file is
 * taken from the folder when it is there, else from {@code meteor-1.5.jar} in the folder.
 */
public final class MeteorData {
    static final String FUNCTION_WORDS = "function/english.words";
    static final String PREFIXES = "nonbreaking/english.prefixes";
    static final String EXCEPTIONS = "synonym/english.exceptions";
    static final String SYNSETS = "synonym/english.synsets";
    static final String PARAPHRASES = "data/paraphrase-en.gz";
    static final String JAR = "meteor-1.5.jar";

    final Set<String> functionWords;
    final Map<String, Boolean> prefixes;
    /** Inflected form to its base forms (WordNet's exception lists), in file order. */
    final Map<String, List<String>> bases;
    final Map<String, Set<Integer>> synsets;
    final Paraphrases paraphrases;

    private MeteorData(Set<String> functionWords, Map<String, Boolean> prefixes, Map<String, List<String>> bases,
                       Map<String, Set<Integer>> synsets, Paraphrases paraphrases) {
        this.functionWords = functionWords;
        this.prefixes = prefixes;
        this.bases = bases;
        this.synsets = synsets;
        this.paraphrases = paraphrases;
    }

    /**
     * Checks that {@code dir} holds every file {@link #load} reads, without reading them (the paraphrase table is
     * large): an {@link IOException} names the first one missing.
     */
    public static void check(Path dir) throws IOException {
        try (ZipFile jar = jar(dir)) {
            for (String name : List.of(FUNCTION_WORDS, PREFIXES, EXCEPTIONS, SYNSETS)) {
                open(dir, jar, name).close();
            }
            paraphraseTable(dir);
        }
    }

    /** Reads the data from {@code dir}; a missing file is an {@link IOException} naming it and the folder. */
    public static MeteorData load(Path dir) throws IOException {
        try (ZipFile jar = jar(dir)) {
            Set<String> functionWords = new HashSet<>(lines(open(dir, jar, FUNCTION_WORDS)));
            Map<String, Boolean> prefixes = new HashMap<>();
            for (String line : lines(open(dir, jar, PREFIXES))) {
                StringTokenizer tok = new StringTokenizer(line);
                if (!tok.hasMoreTokens()) {
                    continue;
                }
                String prefix = tok.nextToken();
                if (!prefix.startsWith("#")) {
                    prefixes.put(prefix, tok.hasMoreTokens() && tok.nextToken().equals("#NUMERIC_ONLY#"));
                }
            }
            Map<String, List<String>> bases = new HashMap<>();
            List<String> exc = lines(open(dir, jar, EXCEPTIONS));
            for (int i = 0; i + 1 < exc.size(); i += 2) {
                String base = exc.get(i);
                for (String form : tokens(exc.get(i + 1))) {
                    bases.computeIfAbsent(form, k -> new ArrayList<>()).add(base);
                }
            }
            Map<String, Set<Integer>> synsets = new HashMap<>();
            List<String> syn = lines(open(dir, jar, SYNSETS));
            for (int i = 0; i + 1 < syn.size(); i += 2) {
                Set<Integer> ids = new HashSet<>();
                for (String id : tokens(syn.get(i + 1))) {
                    ids.add(Integer.parseInt(id));
                }
                synsets.put(syn.get(i), ids);
            }
            Paraphrases paraphrases;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                    Files.newInputStream(paraphraseTable(dir)), 1 << 16), StandardCharsets.UTF_8))) {
                paraphrases = Paraphrases.read(r);
            }
            return new MeteorData(functionWords, prefixes, bases, synsets, paraphrases);
        }
    }

    private static ZipFile jar(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("METEOR data folder not found: " + dir);
        }
        Path jarPath = dir.resolve(JAR);
        return Files.isRegularFile(jarPath) ? new ZipFile(jarPath.toFile()) : null;
    }

    private static Path paraphraseTable(Path dir) throws IOException {
        for (Path table : List.of(dir.resolve(PARAPHRASES), dir.resolve("paraphrase-en.gz"))) {
            if (Files.isRegularFile(table)) {
                return table;
            }
        }
        throw new IOException("METEOR paraphrase table not found: " + dir.resolve(PARAPHRASES));
    }

    private static InputStream open(Path dir, ZipFile jar, String name) throws IOException {
        Path file = dir.resolve(name);
        if (Files.isRegularFile(file)) {
            return Files.newInputStream(file);
        }
        ZipEntry entry = jar == null ? null : jar.getEntry(name);
        if (entry == null) {
            throw new IOException("METEOR data file " + name + " not found in " + dir
                    + (jar == null ? " (nor a " + JAR + " there)" : " nor in its " + JAR));
        }
        return jar.getInputStream(entry);
    }

    private static List<String> lines(InputStream in) throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return r.lines().toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    static List<String> tokens(String line) {
        List<String> out = new ArrayList<>();
        StringTokenizer tok = new StringTokenizer(line);
        while (tok.hasMoreTokens()) {
            out.add(tok.nextToken());
        }
        return out;
    }

    /**
     * The paraphrase table: entries of three lines (a probability METEOR ignores, a phrase, its paraphrase), words
     * numbered in order of first appearance, phrases kept in a prefix tree so every entry starting at a position of
     * a sentence is found in one walk. English's table has millions of entries: it is streamed, and nodes stay small.
     */
    static final class Paraphrases {
        private static final int[] NONE = new int[0];
        private final Map<String, Integer> vocab = new HashMap<>();
        private final Node root = new Node();
        private final List<int[]> targets = new ArrayList<>();

        private static final class Node {
            Map<Integer, Node> next;
            int[] entries = NONE;

            Node child(int word) {
                return next == null ? null : next.get(word);
            }
        }

        /** Reads entries of three lines until the input ends (an incomplete last entry is ignored). */
        static Paraphrases read(BufferedReader in) throws IOException {
            Paraphrases p = new Paraphrases();
            while (in.readLine() != null) {
                String phraseLine = in.readLine();
                String targetLine = in.readLine();
                if (targetLine == null) {
                    break;
                }
                int[] phrase = p.ids(phraseLine);
                int[] target = p.ids(targetLine);
                Node n = p.root;
                for (int w : phrase) {
                    if (n.next == null) {
                        n.next = new HashMap<>(2);
                    }
                    n = n.next.computeIfAbsent(w, k -> new Node());
                }
                n.entries = Arrays.copyOf(n.entries, n.entries.length + 1);
                n.entries[n.entries.length - 1] = p.targets.size();
                p.targets.add(target);
            }
            return p;
        }

        private int[] ids(String line) {
            return tokens(line).stream().mapToInt(w -> vocab.computeIfAbsent(w, k -> vocab.size())).toArray();
        }

        /** The word's number, -1 for a word the table does not hold. */
        int id(String word) {
            return vocab.getOrDefault(word, -1);
        }

        /** Pairs (phrase length, entry) for the table's phrases starting at {@code start}, shortest first. */
        List<int[]> startingAt(int[] words, int start) {
            List<int[]> out = new ArrayList<>();
            Node n = root;
            for (int i = start; i < words.length; i++) {
                n = n.child(words[i]);
                if (n == null) {
                    break;
                }
                for (int e : n.entries) {
                    out.add(new int[] {i - start + 1, e});
                }
            }
            return out;
        }

        int[] target(int entry) {
            return targets.get(entry);
        }
    }
}
