package osprey4j.service;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The description of one region: a line of {@code osprey describe}'s output, with its fields and names.
 *
 * @param id           the region's id
 * @param bbox         its bounding box [x, y, width, height] in pixels, as pycocotools' {@code toBbox}
 * @param area         its number of pixels
 * @param question     the whole user message it was asked
 * @param answer       the answer
 * @param tokens       the generated ids
 * @param promptTokens the prefilled sequence's length, the image's tokens included
 */
public record RegionDescription(long id, double[] bbox, long area, String question, String answer, int[] tokens,
                                @JsonProperty("prompt_tokens") int promptTokens) {
}
