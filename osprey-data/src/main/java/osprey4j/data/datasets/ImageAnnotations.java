package osprey4j.data.datasets;

import java.util.List;

/** An image with its annotations, in the order they appear in the file (the order pycocotools gives them). */
public record ImageAnnotations(CocoImage image, List<CocoAnnotation> annotations) {
    public ImageAnnotations {
        annotations = List.copyOf(annotations);
    }
}
