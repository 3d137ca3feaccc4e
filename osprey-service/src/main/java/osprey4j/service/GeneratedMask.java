package osprey4j.service;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import osprey4j.core.mask.Mask;
import osprey4j.model.sam.AutomaticMaskGenerator;

/**
 * One mask of "segment everything", with the official {@code SamAutomaticMaskGenerator} record's fields and names
 * ({@code output_mode="coco_rle"}).
 *
 * @param segmentation   the mask (a COCO compressed RLE in JSON)
 * @param area           its pixels
 * @param bbox           [x, y, w, h] as the official generator writes it (w, h: last minus first column/row)
 * @param predictedIou   SAM's quality estimate
 * @param pointCoords    the click that made it: [[x, y]]
 * @param stabilityScore the stability score
 * @param cropBox        the crop it came from, [x, y, w, h]
 */
public record GeneratedMask(@JsonSerialize(using = ServiceJson.MaskSerializer.class)
                            @JsonDeserialize(using = ServiceJson.MaskDeserializer.class) Mask segmentation,
                            long area, int[] bbox, @JsonProperty("predicted_iou") float predictedIou,
                            @JsonProperty("point_coords") double[][] pointCoords,
                            @JsonProperty("stability_score") float stabilityScore,
                            @JsonProperty("crop_box") int[] cropBox) {
    static GeneratedMask of(AutomaticMaskGenerator.MaskRecord r) {
        return new GeneratedMask(r.mask(), r.area(), r.bbox(), r.predictedIou(), new double[][] {r.pointCoords()},
                r.stabilityScore(), r.cropBox());
    }
}
