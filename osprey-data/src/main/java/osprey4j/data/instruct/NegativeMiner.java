package osprey4j.data.instruct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import osprey4j.core.io.AtomicFiles;

/**
 * Negative categories for the yes/no questions, mined as the paper says: rank the other categories by
 * sentence-embedding similarity to the region's category and pick one at random among the top 8. Hard negatives
 * ("is this mug a cup?") teach the model to look rather than guess.
 *
 * <p>Vectors are cached in a small JSON file keyed by model id and category name, so a rerun (or a resumed run)
 * embeds nothing it has embedded before.
 */
public final class NegativeMiner {
    /** How many nearest categories a negative is drawn from (the paper's figure). */
    public static final int TOP_K = 8;
    public static final String CACHE_FILE = "category_embeddings.json";

    private final List<String> categories;
    private final float[][] unit;   // unit-length vector per category, same order

    private NegativeMiner(List<String> categories, float[][] unit) {
        this.categories = categories;
        this.unit = unit;
    }

    /**
     * @param categories candidate names (duplicates are dropped)
     * @param cache      the cache file, read if present and written when new vectors were computed; may be null
     */
    public static NegativeMiner build(List<String> categories, TextEmbedder embedder, Path cache) throws IOException {
        List<String> names = categories.stream().distinct().sorted().toList();
        Map<String, float[]> known = cache != null ? readCache(cache, embedder.modelId()) : new LinkedHashMap<>();
        List<String> missing = names.stream().filter(n -> !known.containsKey(n)).toList();
        if (!missing.isEmpty()) {
            float[][] vectors = embedder.embed(missing);
            for (int i = 0; i < missing.size(); i++) {
                known.put(missing.get(i), vectors[i]);
            }
            if (cache != null) {
                writeCache(cache, embedder.modelId(), known);
            }
        }
        float[][] unit = new float[names.size()][];
        for (int i = 0; i < unit.length; i++) {
            unit[i] = normalised(known.get(names.get(i)));
        }
        return new NegativeMiner(names, unit);
    }

    public List<String> categories() {
        return categories;
    }

    /** The {@code k} other categories most similar to {@code category}, most similar first (ties by name). */
    public List<String> nearest(String category, int k) {
        int self = categories.indexOf(category);
        if (self < 0) {
            throw new IllegalArgumentException("unknown category '" + category + "'");
        }
        List<Integer> others = new ArrayList<>();
        double[] sim = new double[categories.size()];
        for (int j = 0; j < categories.size(); j++) {
            if (j != self) {
                others.add(j);
                sim[j] = dot(unit[self], unit[j]);
            }
        }
        others.sort(Comparator.<Integer>comparingDouble(j -> -sim[j]).thenComparing(categories::get));
        return others.stream().limit(k).map(categories::get).toList();
    }

    /** One of the {@link #TOP_K} nearest other categories, chosen with {@code rng}; null if there is no other. */
    public String negativeFor(String category, SplittableRandom rng) {
        List<String> near = nearest(category, TOP_K);
        return near.isEmpty() ? null : near.get(rng.nextInt(near.size()));
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    private static float[] normalised(float[] v) {
        double n = 0;
        for (float x : v) {
            n += (double) x * x;
        }
        double inv = n > 0 ? 1 / Math.sqrt(n) : 0;
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] * inv);
        }
        return out;
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Cached vectors for this model; an unreadable file or another model's cache counts as empty. */
    private static Map<String, float[]> readCache(Path cache, String modelId) {
        Map<String, float[]> out = new LinkedHashMap<>();
        if (!Files.isRegularFile(cache)) {
            return out;
        }
        try {
            JsonNode root = MAPPER.readTree(cache.toFile());
            if (!modelId.equals(root.path("model").asText())) {
                return out;
            }
            root.path("vectors").fields().forEachRemaining(e -> {
                float[] v = new float[e.getValue().size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) e.getValue().get(i).asDouble();
                }
                out.put(e.getKey(), v);
            });
        } catch (IOException e) {
            out.clear();   // a torn cache is only a cache: recompute
        }
        return out;
    }

    private static void writeCache(Path cache, String modelId, Map<String, float[]> vectors) throws IOException {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("model", modelId);
        ObjectNode vs = root.putObject("vectors");
        vectors.keySet().stream().sorted().forEach(name -> {
            ArrayNode a = vs.putArray(name);
            for (float x : vectors.get(name)) {
                a.add(x);
            }
        });
        Path parent = cache.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        byte[] bytes = MAPPER.writeValueAsBytes(root);
        AtomicFiles.write(cache, tmp -> Files.write(tmp, bytes, java.nio.file.StandardOpenOption.CREATE_NEW));
    }
}
