package osprey4j.data.instruct;

import osprey4j.data.coco.Segmentation;

import java.util.List;

/**
 * A part of an object (PACO style: category {@code "mug:handle"}, linked to its object by {@code obj_ann_id}).
 *
 * @param name       the part's own name ({@code handle})
 * @param attributes attribute names from {@code attribute_ids} ({@code red}, {@code ceramic}...), in id order
 * @param colour     the colour attribute, or {@code null}
 * @param bbox       {@code [x, y, w, h]} in pixels
 */
public record Part(long annotationId, String name, List<Attribute> attributes, String colour,
                   Segmentation segmentation, double[] bbox) {
    public Part {
        attributes = List.copyOf(attributes);
    }
}
