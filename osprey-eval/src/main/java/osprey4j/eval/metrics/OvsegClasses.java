package osprey4j.eval.metrics;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The class lists of the open-vocabulary segmentation evaluation (the reference's {@code openseg_classes.py} with the
 * names of its {@code *_with_prompt_eng.txt}) and how an answer is scored against them: each class's names are split
 * at commas ({@code ", "} first becoming {@code ","}), each put in "There is a {} in the scene.", and a class's score
 * is the largest cosine similarity of the answer's all-MiniLM-L6-v2 embedding with its sentences.
 */
public final class OvsegClasses {
    public static final String TEMPLATE = "There is a %s in the scene.";

    /** One class: its contiguous id (the score's index), dataset id (as in the JSON files), thing flag and names. */
    public record ClassInfo(int contiguousId, int datasetId, boolean isThing, List<String> names) {
    }

    private final String dataset;
    private final List<ClassInfo> classes;
    private final List<String> sentences = new ArrayList<>();
    private final int[] sentenceClass;

    private OvsegClasses(String dataset, List<ClassInfo> classes) {
        this.dataset = dataset;
        this.classes = List.copyOf(classes);
        List<Integer> owner = new ArrayList<>();
        for (ClassInfo c : classes) {
            for (String n : c.names()) {
                sentences.add(TEMPLATE.formatted(n));
                owner.add(c.contiguousId());
            }
        }
        sentenceClass = owner.stream().mapToInt(Integer::intValue).toArray();
    }

    /** {@code ade} (ADE20K-150) or {@code cityscapes}. */
    public static OvsegClasses of(String dataset) {
        String file = switch (dataset) {
            case "ade" -> "ade20k_150.tsv";
            case "cityscapes" -> "cityscapes.tsv";
            default -> throw new IllegalArgumentException("--dataset must be ade or cityscapes, got '" + dataset + "'");
        };
        List<ClassInfo> out = new ArrayList<>();
        try (InputStream in = OvsegClasses.class.getResourceAsStream("/osprey4j/eval/ovseg/" + file);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isEmpty()) {
                    continue;
                }
                String[] f = line.split("\t", 4);
                out.add(new ClassInfo(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2].equals("1"),
                        splitNames(f[3])));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).contiguousId() != i) {
                throw new IllegalStateException(file + ": class " + i + " has contiguous id "
                        + out.get(i).contiguousId());
            }
        }
        return new OvsegClasses(dataset, out);
    }

    /** The reference's split_labels for one class: {@code x.replace(', ', ',').split(',')}. */
    static List<String> splitNames(String name) {
        return List.of(name.replace(", ", ",").split(",", -1));
    }

    public String dataset() {
        return dataset;
    }

    public List<ClassInfo> classes() {
        return classes;
    }

    public int size() {
        return classes.size();
    }

    /** Every class's sentences, classes in order. */
    public List<String> sentences() {
        return List.copyOf(sentences);
    }

    /** Number of sentences (names) per class. */
    public int[] sentencesPerClass() {
        int[] n = new int[classes.size()];
        for (int c : sentenceClass) {
            n[c]++;
        }
        return n;
    }

    /** Contiguous ids of the thing classes. */
    public Set<Integer> thingIds() {
        Set<Integer> s = new LinkedHashSet<>();
        for (ClassInfo c : classes) {
            if (c.isThing()) {
                s.add(c.contiguousId());
            }
        }
        return s;
    }

    /** Dataset id of each contiguous id. */
    public int datasetId(int contiguousId) {
        return classes.get(contiguousId).datasetId();
    }

    /** Contiguous id of each dataset id. */
    public Map<Integer, Integer> contiguousOfDatasetId() {
        Map<Integer, Integer> m = new HashMap<>();
        for (ClassInfo c : classes) {
            m.put(c.datasetId(), c.contiguousId());
        }
        return m;
    }

    /** Scores answers: embeds the class sentences once. */
    public Scorer scorer(SentenceEncoder encoder) {
        float[][] e = encoder.embed(sentences);
        float[][] normalised = new float[e.length][];
        for (int i = 0; i < e.length; i++) {
            normalised[i] = SentenceEncoder.normalise(e[i]);
        }
        return new Scorer(encoder, normalised);
    }

    /** Per-class scores of answers. */
    public final class Scorer {
        private final SentenceEncoder encoder;
        private final float[][] sentenceVectors;

        private Scorer(SentenceEncoder encoder, float[][] sentenceVectors) {
            this.encoder = encoder;
            this.sentenceVectors = sentenceVectors;
        }

        /** The answer's score for each class: the largest cosine similarity with its sentences (float32). */
        public float[] scores(String answer) {
            return classScores(SentenceEncoder.normalise(encoder.embed(answer)), sentenceVectors);
        }
    }

    /** Max over each class's sentences of the cosine (both vectors already normalised), as float32. */
    float[] classScores(float[] answer, float[][] sentenceVectors) {
        float[] out = new float[classes.size()];
        java.util.Arrays.fill(out, Float.NEGATIVE_INFINITY);
        for (int s = 0; s < sentenceVectors.length; s++) {
            double dot = 0;
            for (int i = 0; i < answer.length; i++) {
                dot += (double) answer[i] * sentenceVectors[s][i];
            }
            int c = sentenceClass[s];
            out[c] = Math.max(out[c], (float) dot);
        }
        return out;
    }
}
