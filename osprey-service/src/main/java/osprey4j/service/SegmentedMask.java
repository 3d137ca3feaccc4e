package osprey4j.service;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import osprey4j.core.mask.Mask;
import osprey4j.core.mask.Rle;

/**
 * One mask SAM made for a prompt.
 *
 * @param segmentation the mask (a COCO compressed RLE in JSON)
 * @param area         its pixels
 * @param bbox         its box [x, y, width, height] as pycocotools' {@code toBbox}
 * @param predictedIou SAM's own estimate of the mask's quality
 */
public record SegmentedMask(@JsonSerialize(using = ServiceJson.MaskSerializer.class)
                            @JsonDeserialize(using = ServiceJson.MaskDeserializer.class) Mask segmentation,
                            long area, double[] bbox, @JsonProperty("predicted_iou") float predictedIou) {
    static SegmentedMask of(Mask mask, float predictedIou) {
        Rle rle = Rle.encode(mask);
        return new SegmentedMask(mask, rle.area(), rle.toBbox(), predictedIou);
    }
}
