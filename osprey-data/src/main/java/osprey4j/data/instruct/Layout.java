package osprey4j.data.instruct;

import java.util.List;

/**
 * Where objects are: in the image (from the mask centroid) and relative to each other (from boxes). All words
 * come from measured geometry, so the text stays true to the annotations.
 */
final class Layout {
    private Layout() {
    }

    /** Position in the image: {@code "top left"}, {@code "centre"}, {@code "bottom"}... (thirds of each axis). */
    static String position(SceneObject o) {
        String h = o.centreX() < 1.0 / 3 ? "left" : o.centreX() > 2.0 / 3 ? "right" : null;
        String v = o.centreY() < 1.0 / 3 ? "top" : o.centreY() > 2.0 / 3 ? "bottom" : null;
        if (h == null && v == null) {
            return "centre";
        }
        if (h == null) {
            return v;
        }
        return v == null ? h : v + " " + h;
    }

    /**
     * {@code "in the top left of the image"}, {@code "in the centre of the image"}, {@code "on the left of the
     * image"}, {@code "at the top of the image"}.
     */
    static String positionPhrase(SceneObject o) {
        String p = position(o);
        String preposition = switch (p) {
            case "left", "right" -> "on the ";
            case "top", "bottom" -> "at the ";
            default -> "in the ";
        };
        return preposition + p + " of the image";
    }

    /**
     * {@code "small"}, {@code "medium-sized"} or {@code "large"}: the annotations' own size attribute when they
     * have one (so every sentence about an object agrees with it), else from the visible area fraction.
     */
    static String size(SceneObject o) {
        for (Attribute a : o.attributes()) {
            if (a.isSize()) {
                return a.name().equals("medium") ? "medium-sized" : a.name();
            }
        }
        return o.areaFraction() < 0.02 ? "small" : o.areaFraction() < 0.15 ? "medium-sized" : "large";
    }

    /** The other object whose box is closest (gap between boxes, then centre distance); {@code null} if alone. */
    static SceneObject nearest(SceneObject o, List<SceneObject> all) {
        SceneObject best = null;
        double bestGap = Double.MAX_VALUE;
        double bestCentre = Double.MAX_VALUE;
        for (SceneObject other : all) {
            if (other == o) {
                continue;
            }
            double gap = boxGap(o.bbox(), other.bbox());
            double centre = Math.hypot(cx(o.bbox()) - cx(other.bbox()), cy(o.bbox()) - cy(other.bbox()));
            if (gap < bestGap || (gap == bestGap && centre < bestCentre)) {
                best = other;
                bestGap = gap;
                bestCentre = centre;
            }
        }
        return best;
    }

    /**
     * Where {@code o} is relative to {@code ref}: {@code "to the left of"}, {@code "to the right of"},
     * {@code "above"} or {@code "below"}, from the larger displacement of box centres; {@code "next to"} when
     * the centres nearly coincide.
     */
    static String relation(SceneObject o, SceneObject ref) {
        double dx = cx(o.bbox()) - cx(ref.bbox());
        double dy = cy(o.bbox()) - cy(ref.bbox());
        double scale = Math.max(1, Math.max(ref.bbox()[2], ref.bbox()[3]));
        if (Math.hypot(dx, dy) < 0.1 * scale) {
            return "next to";
        }
        if (Math.abs(dx) >= Math.abs(dy)) {
            return dx < 0 ? "to the left of" : "to the right of";
        }
        return dy < 0 ? "above" : "below";
    }

    private static double boxGap(double[] a, double[] b) {
        double gx = Math.max(0, Math.max(a[0], b[0]) - Math.min(a[0] + a[2], b[0] + b[2]));
        double gy = Math.max(0, Math.max(a[1], b[1]) - Math.min(a[1] + a[3], b[1] + b[3]));
        return Math.hypot(gx, gy);
    }

    private static double cx(double[] b) {
        return b[0] + b[2] / 2;
    }

    private static double cy(double[] b) {
        return b[1] + b[3] / 2;
    }
}
