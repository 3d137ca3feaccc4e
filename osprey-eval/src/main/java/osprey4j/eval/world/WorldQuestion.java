package osprey4j.eval.world;

import java.util.List;
import osprey4j.core.mask.Mask;

/**
 * One question about one image of a synthetic world, with the truth it is scored against.
 *
 * @param id        stable across runs: {@code subset/sample/turn}, the key of resumption
 * @param type      what is asked
 * @param image     the image file
 * @param masks     the regions the question refers to, in the order of its {@code <mask><pos>} tokens
 * @param text      the user message, as training presents it ({@code <image>} overview, region tokens, suffix)
 * @param reference the answer the training data gives for this question
 * @param truth     what the rule checks, from the annotations: a category, {@code yes}/{@code no}, a part name,
 *                  a colour, or for {@link QuestionType#MULTI_REGION} the relation ({@code "to the left of"})
 * @param category  the category of the (first) region's object, for the per-category breakdown
 * @param other     for {@link QuestionType#MULTI_REGION}, the second region's category; else null
 */
public record WorldQuestion(String id, QuestionType type, java.nio.file.Path image, List<Mask> masks, String text,
                            String reference, String truth, String category, String other) {
    public WorldQuestion {
        masks = List.copyOf(masks);
    }
}
