package osprey4j.train.data;

import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * The labels the language model is trained on, after the reference's forward
 * ({@code OspreyMetaForCausalLM.prepare_inputs_labels_for_multimodal}, without {@code mm_use_im_start_end}) has
 * spliced the image features in: each {@link Tokenizer#IMAGE_TOKEN_ID} becomes {@code imageTokens} positions of
 * {@link Preprocessor#IGNORE_INDEX}, and after the last image every {@code <mask>} and the token after it (its
 * {@code <pos>}) are ignored, since their embeddings are replaced by region features. A sample without an image
 * keeps its labels unchanged (and the reference splices no region features into it either).
 */
public final class ModelLabels {
    private ModelLabels() {
    }

    /**
     * @param inputIds    the sample's ids (with {@code -200} where the image goes)
     * @param labels      its labels from {@link Preprocessor}
     * @param imageTokens image features per image (1024 for Osprey's 512x512 input: a 32x32 grid)
     * @param maskId      the id of {@code <mask>}
     */
    public static int[] expand(int[] inputIds, int[] labels, int imageTokens, int maskId) {
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException(inputIds.length + " ids but " + labels.length + " labels");
        }
        int images = 0;
        for (int id : inputIds) {
            if (id == OspreyTokens.IMAGE_TOKEN_ID) {
                images++;
            }
        }
        if (images == 0) {
            return labels.clone();
        }
        int[] out = new int[labels.length - images + images * imageTokens];
        int o = 0;
        int start = 0;
        for (int i = 0; i < inputIds.length; i++) {
            if (inputIds[i] == OspreyTokens.IMAGE_TOKEN_ID) {
                System.arraycopy(labels, start, out, o, i - start);
                o += i - start;
                Arrays.fill(out, o, o + imageTokens, Preprocessor.IGNORE_INDEX);
                o += imageTokens;
                start = i + 1;
            }
        }
        int tail = o;
        System.arraycopy(labels, start, out, o, labels.length - start);
        for (int i = start; i < inputIds.length; i++) {
            if (inputIds[i] == maskId) {
                int at = tail + (i - start);
                out[at] = Preprocessor.IGNORE_INDEX;
                if (at + 1 < out.length) {
                    out[at + 1] = Preprocessor.IGNORE_INDEX;
                }
            }
        }
        return out;
    }
}
