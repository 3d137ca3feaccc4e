package osprey4j.service;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * SAM's answer to one prompt ({@code osprey segment --json}).
 *
 * @param masks    one mask, or three with multimask output, in SAM's order
 * @param best     the index of the mask with the highest predicted IoU
 * @param encodeMs the image encoder's time (0 when the image was encoded before)
 * @param decodeMs prompt encoder, mask decoder and post-processing
 */
public record SegmentResult(List<SegmentedMask> masks, int best, @JsonProperty("encode_ms") double encodeMs,
                            @JsonProperty("decode_ms") double decodeMs) {
    public SegmentResult {
        masks = List.copyOf(masks);
    }

    /** The best mask. */
    public SegmentedMask bestMask() {
        return masks.get(best);
    }
}
