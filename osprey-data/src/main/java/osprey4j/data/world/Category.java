package osprey4j.data.world;

import java.util.List;

/**
 * An object category of the synthetic world.
 *
 * @param id            the COCO {@code category_id} (1-based, stable: the catalogue order)
 * @param parts         every part name objects of this category may have, in painting order
 * @param aspect        width / height of the object's extent, to place it inside the image
 * @param colours       the colours its main parts come in
 * @param patterns      the patterns its main parts come in
 * @param indoor        whether it appears in indoor scenes
 * @param airborne      kites and balloons float in the upper part of outdoor scenes
 */
record Category(int id, String name, String supercategory, List<String> parts, double aspect, List<Colour> colours,
                List<Pattern> patterns, boolean indoor, boolean airborne, Catalog.Builder builder) {

    /** PACO's part category name, {@code mug:handle}. */
    String partCategory(String part) {
        return name + ":" + part;
    }
}
