package osprey4j.model;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.Function;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Builds the LLM's input sequence from a prompt's ids the way the reference's
 * {@code prepare_inputs_labels_for_multimodal} does:
 * <ul>
 *   <li>the image placeholder id ({@link OspreyTokens#IMAGE_TOKEN_ID}) is replaced by all image tokens;
 *   <li>the i-th {@code <mask>} id gets region i's mask token, and the position right after it gets region i's
 *       position token, whatever id is there (in a well-formed prompt it is {@code <pos>});
 *   <li>every other id is looked up in the LLM's embedding table. {@code <mask>} and {@code <pos>} are never
 *       looked up: the table has no rows for them.
 * </ul>
 * The result has {@code ids.length - 1 + imageTokens} rows. The reference only looks for {@code <mask>} after
 * the image (before it, the id would be looked up and fail), so a {@code <mask>} before the image is an error
 * here too.
 */
public final class InputEmbeddings {
    private InputEmbeddings() {
    }

    /**
     * @param ids         prompt ids with exactly one {@link OspreyTokens#IMAGE_TOKEN_ID}
     * @param maskId      the id of {@code <mask>}
     * @param embed       the LLM's embedding lookup, ids to F32 [n, hidden]
     * @param imageTokens F32 [imageTokens, hidden]
     * @param maskTokens  F32 [regions, hidden], or null when there are no regions
     * @param posTokens   F32 [regions, hidden], or null when there are no regions
     * @return F32 [ids.length - 1 + imageTokens, hidden]
     */
    public static Tensor assemble(int[] ids, int maskId, Function<int[], Tensor> embed, Tensor imageTokens,
                                  Tensor maskTokens, Tensor posTokens) {
        int imageAt = -1;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == OspreyTokens.IMAGE_TOKEN_ID) {
                if (imageAt >= 0) {
                    throw new IllegalArgumentException("the prompt has more than one <image>");
                }
                imageAt = i;
            }
        }
        if (imageAt < 0) {
            throw new IllegalArgumentException("the prompt has no <image>");
        }
        int regions = maskTokens == null ? 0 : maskTokens.size(0);
        int hidden = imageTokens.size(1);
        int nImage = imageTokens.size(0);
        if (regions > 0 && (posTokens == null || posTokens.size(0) != regions
                || maskTokens.size(1) != hidden || posTokens.size(1) != hidden)) {
            throw new IllegalArgumentException("mask and position tokens must both be [" + regions + ", " + hidden
                    + "]");
        }

        // Which token fills each prompt position: -1 = look the id up, else a region index (mask or pos row).
        int[] regionAt = new int[ids.length];
        boolean[] isPos = new boolean[ids.length];
        Arrays.fill(regionAt, -1);
        int seen = 0;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] != maskId) {
                continue;
            }
            if (i < imageAt) {
                throw new IllegalArgumentException("a <mask> comes before <image> in the prompt; the reference only"
                        + " replaces region tokens after the image");
            }
            if (i + 1 >= ids.length) {
                throw new IllegalArgumentException("the prompt ends with <mask>: no position follows for <pos>");
            }
            if (ids[i + 1] == maskId) {
                // The reference would then emit a mask/pos pair for each and lengthen the sequence; such a
                // prompt cannot come from '<mask><pos>' pairs.
                throw new IllegalArgumentException("two <mask> tokens in a row in the prompt");
            }
            if (seen >= regions) {
                throw new IllegalArgumentException("the prompt has more <mask> tokens than the " + regions
                        + (regions == 1 ? " region" : " regions") + " given");
            }
            regionAt[i] = seen;
            regionAt[i + 1] = seen;
            isPos[i + 1] = true;
            seen++;
            i++;
        }
        if (seen != regions) {
            throw new IllegalArgumentException("the prompt has " + seen + " <mask> tokens but " + regions
                    + (regions == 1 ? " region was" : " regions were") + " given");
        }

        int length = ids.length - 1 + nImage;
        Tensor out = Tensor.zeros(DType.F32, length, hidden);
        long rowBytes = (long) hidden * Float.BYTES;
        int[] lookup = new int[ids.length];
        int nLookup = 0;
        for (int i = 0; i < ids.length; i++) {
            if (i != imageAt && regionAt[i] < 0) {
                lookup[nLookup++] = ids[i];
            }
        }
        Tensor looked = nLookup == 0 ? null : asF32(embed.apply(Arrays.copyOf(lookup, nLookup)));
        if (looked != null && (looked.size(0) != nLookup || looked.size(1) != hidden)) {
            throw new IllegalArgumentException("the embedding lookup gave shape " + Arrays.toString(
                    looked.shape()) + ", expected [" + nLookup + ", " + hidden + "]");
        }
        int row = 0;
        int next = 0;
        for (int i = 0; i < ids.length; i++) {
            if (i == imageAt) {
                copyRows(imageTokens, 0, nImage, out, row, rowBytes);
                row += nImage;
            } else if (regionAt[i] >= 0) {
                copyRows(isPos[i] ? posTokens : maskTokens, regionAt[i], 1, out, row, rowBytes);
                row++;
            } else {
                copyRows(looked, next++, 1, out, row, rowBytes);
                row++;
            }
        }
        return out;
    }

    private static Tensor asF32(Tensor t) {
        return t.dtype() == DType.F32 ? t : t.to(DType.F32);
    }

    private static void copyRows(Tensor from, int fromRow, int rows, Tensor to, int toRow, long rowBytes) {
        Tensor src = from.dtype() == DType.F32 ? from : from.slice(fromRow, fromRow + rows).to(DType.F32);
        long srcOffset = from.dtype() == DType.F32 ? fromRow * rowBytes : 0;
        MemorySegment.copy(src.segment(), srcOffset, to.segment(), toRow * rowBytes, rows * rowBytes);
    }
}
