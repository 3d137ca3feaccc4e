package osprey4j.service;

import java.util.List;
import java.util.Objects;
import osprey4j.model.sam.SamPrompt;

/**
 * One SAM prompt on an image ({@code osprey segment}): clicks and at most one box, in the image's pixel coordinates.
 *
 * @param image     the image file
 * @param points    clicks (label 1 on the object, 0 not on it); may be empty when there is a box
 * @param box       a box, or null
 * @param multimask three candidate masks (SAM's choice for an ambiguous single click) instead of one
 * @throws IllegalArgumentException when there is neither a point nor a box
 */
public record SegmentRequest(String image, List<SamPrompt.Point> points, SamPrompt.Box box, boolean multimask) {
    public SegmentRequest {
        points = points == null ? List.of() : List.copyOf(points);
        if (points.isEmpty() && box == null) {
            throw new IllegalArgumentException("a segment request needs at least one point or a box");
        }
        for (SamPrompt.Point p : points) {
            Objects.requireNonNull(p, "point");
        }
    }

    /** The model's prompt. */
    public SamPrompt prompt() {
        return new SamPrompt(points, box, null);
    }
}
