package osprey4j.train.data;

import osprey4j.core.mask.Mask;

import java.util.List;

/**
 * One training sample as the reference's dataset {@code __getitem__} returns it: token ids (with
 * {@code -200} where the image goes and the ids of {@code <mask>}/{@code <pos>} where regions go), labels
 * ({@link Preprocessor#IGNORE_INDEX} where the loss must not look), the image file and the region masks at the
 * image's size, the i-th mask standing for the i-th {@code <mask>} of the ids.
 *
 * @param id       the sample's id (as {@code osprey data samples} names it)
 * @param image    the image file (null for a text-only sample)
 * @param mismatch true when the reference's "tokenization mismatch" rule ignored every label
 */
public record TrainingExample(String id, int[] inputIds, int[] labels, String image, List<Mask> masks,
                              boolean mismatch) {
    public TrainingExample {
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException(inputIds.length + " ids but " + labels.length + " labels");
        }
        masks = List.copyOf(masks);
    }

    public int length() {
        return inputIds.length;
    }

    /** How many labels the loss uses. */
    public int supervisedTokens() {
        int n = 0;
        for (int l : labels) {
            if (l != Preprocessor.IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }
}
