package osprey4j.service;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import java.util.Objects;
import osprey4j.core.prompt.RegionPrompt;
import osprey4j.core.mask.Mask;
import osprey4j.model.GenerationOptions;

/**
 * One question about regions of an image ({@code osprey ask}).
 *
 * @param image    the image file
 * @param regions  the regions' masks, each of the image's size; {@code <region1>} in the question is the first.
 *                 In JSON each is a COCO RLE ({@link ServiceJson})
 * @param question the question, with {@code <region1>}, {@code <region2>}... (or raw {@code <mask><pos>}, one per
 *                 region in order); it follows the image preamble unless it contains {@code <image>}
 * @param options  how the answer is generated; null means {@link GenerationOptions#reference()}
 * @throws IllegalArgumentException when the question's region references do not match the regions: checked here,
 *                                  before any model work
 */
public record AskRequest(String image,
                         @JsonSerialize(contentUsing = ServiceJson.MaskSerializer.class)
                         @JsonDeserialize(contentUsing = ServiceJson.MaskDeserializer.class) List<Mask> regions,
                         String question, GenerationOptions options) {
    public AskRequest {
        Objects.requireNonNull(question, "question");
        regions = regions == null ? List.of() : List.copyOf(regions);
        options = options == null ? GenerationOptions.reference() : options;
        RegionPrompt.resolve(question, regions.size());
    }
}
