package osprey4j.service;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import java.util.Objects;
import osprey4j.core.prompt.RegionPrompt;
import osprey4j.core.mask.Mask;

/**
 * The intermediate tensors of one question up to the first generated position ({@code osprey inspect}), written
 * to a safetensors file named as the reference's parity dumps name them.
 *
 * @param image         the image file
 * @param regions       the regions' masks, as for {@link AskRequest}
 * @param regionSources where each region came from (file names), recorded in the file's metadata; may be empty
 * @param question      the question, as for {@link AskRequest}
 * @param dump          the safetensors file to write
 * @throws IllegalArgumentException when the question's region references do not match the regions
 */
public record InspectRequest(String image,
                             @JsonSerialize(contentUsing = ServiceJson.MaskSerializer.class)
                             @JsonDeserialize(contentUsing = ServiceJson.MaskDeserializer.class) List<Mask> regions,
                             List<String> regionSources, String question, String dump) {
    public InspectRequest {
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(dump, "dump");
        regions = regions == null ? List.of() : List.copyOf(regions);
        regionSources = regionSources == null ? List.of() : List.copyOf(regionSources);
        RegionPrompt.resolve(question, regions.size());
    }
}
