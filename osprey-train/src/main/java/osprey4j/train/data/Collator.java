package osprey4j.train.data;

import osprey4j.core.mask.Mask;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The reference's {@code DataCollatorForDetDataset}: ids right-padded with the pad id ({@code <unk>} for v1
 * training), labels with {@link Preprocessor#IGNORE_INDEX}, and the attention mask {@code input_ids != pad_id}
 * (so, as in the reference, a literal {@code <unk>} inside a text is not attended to either). Masks stay one list
 * per sample; images are listed in sample order.
 *
 * <p>Order: a batch holds the samples in the order given. The reference's trainer (Hugging Face {@code Trainer},
 * {@code group_by_modality_length False} in the official stage-3 script) draws a random permutation per epoch;
 * {@link #batches} offers plain order or a seeded permutation of our own (not torch's generator).
 */
public final class Collator {
    private final int padId;

    public Collator(int padId) {
        this.padId = padId;
    }

    /** A padded batch: {@code inputIds[b][t]}, {@code labels[b][t]}, {@code attentionMask[b][t]}. */
    public record Batch(int[][] inputIds, int[][] labels, boolean[][] attentionMask, List<List<Mask>> masks,
                        List<String> images, List<String> ids) {
        public int size() {
            return inputIds.length;
        }

        public int length() {
            return inputIds.length == 0 ? 0 : inputIds[0].length;
        }
    }

    public Batch collate(List<TrainingExample> examples) {
        int longest = 0;
        for (TrainingExample e : examples) {
            longest = Math.max(longest, e.length());
        }
        int n = examples.size();
        int[][] ids = new int[n][longest];
        int[][] labels = new int[n][longest];
        boolean[][] attention = new boolean[n][longest];
        List<List<Mask>> masks = new ArrayList<>(n);
        List<String> images = new ArrayList<>(n);
        List<String> names = new ArrayList<>(n);
        for (int b = 0; b < n; b++) {
            TrainingExample e = examples.get(b);
            Arrays.fill(ids[b], padId);
            Arrays.fill(labels[b], Preprocessor.IGNORE_INDEX);
            System.arraycopy(e.inputIds(), 0, ids[b], 0, e.length());
            System.arraycopy(e.labels(), 0, labels[b], 0, e.length());
            for (int t = 0; t < longest; t++) {
                attention[b][t] = ids[b][t] != padId;
            }
            masks.add(e.masks());
            images.add(e.image());
            names.add(e.id());
        }
        return new Batch(ids, labels, attention, masks, images, names);
    }

    /**
     * The examples cut into batches of {@code batchSize} (the last may be smaller), in the given order when
     * {@code seed} is null, else in a Fisher-Yates permutation drawn from {@code seed}.
     */
    public List<Batch> batches(List<TrainingExample> examples, int batchSize, Long seed) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        List<TrainingExample> order = new ArrayList<>(examples);
        if (seed != null) {
            java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
            for (int i = order.size() - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                TrainingExample t = order.get(i);
                order.set(i, order.get(j));
                order.set(j, t);
            }
        }
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < order.size(); i += batchSize) {
            out.add(collate(order.subList(i, Math.min(order.size(), i + batchSize))));
        }
        return out;
    }
}
