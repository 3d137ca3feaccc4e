package osprey4j.data.world;

import java.util.List;

/**
 * One object placed in a scene, before occlusion: its category, attributes, and parts in painting order.
 *
 * @param colour  the colour of its main parts (the object's {@code color} attribute)
 * @param pattern the pattern of its main parts
 * @param shaded  whether it is painted with a lighting gradient ({@code shading} attribute: shaded / flat)
 * @param size    small, medium or large, from the area of its whole (unoccluded) extent in the image
 * @param baseY   image row of its base; objects are painted from the smallest baseY (farthest) to the largest
 */
record WorldObject(Category category, Colour colour, Pattern pattern, boolean shaded, Size size, double baseY,
                   List<Part> parts) {
    WorldObject {
        parts = List.copyOf(parts);
    }

    enum Size {
        SMALL("small"), MEDIUM("medium"), LARGE("large");

        final String word;

        Size(String word) {
            this.word = word;
        }
    }
}
