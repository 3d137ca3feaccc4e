package osprey4j.data.instruct;

import osprey4j.data.coco.Segmentation;

import java.util.List;

/**
 * One object region with the facts the text is made from, all measured from the annotation (and the image's
 * pixels, for colour, when the annotation names none).
 *
 * @param category     category name with underscores read as spaces ({@code "traffic light"})
 * @param categoryId   {@code category_id}
 * @param bbox         {@code [x, y, w, h]} in pixels
 * @param centreX      mask centroid, as a fraction of the image width (0 = left edge)
 * @param centreY      mask centroid, as a fraction of the image height (0 = top edge)
 * @param areaFraction mask area over image area
 * @param colour       a colour name, or {@code null} when neither the annotation nor the pixels give one
 * @param attributes   attribute names other than the colour (PACO: material, pattern, reflectance...)
 * @param parts        its parts, in annotation order
 */
public record SceneObject(long annotationId, String category, long categoryId, Segmentation segmentation,
                          double[] bbox, double centreX, double centreY, double areaFraction, String colour,
                          List<Attribute> attributes, List<Part> parts) {
    public SceneObject {
        attributes = List.copyOf(attributes);
        parts = List.copyOf(parts);
    }

    /** Box as {@code [x1, y1, x2, y2]} normalised to 0..1, the form the LLM prompts use. */
    public double[] normalisedBox(int width, int height) {
        return new double[]{bbox[0] / width, bbox[1] / height, (bbox[0] + bbox[2]) / width,
                (bbox[1] + bbox[3]) / height};
    }
}
