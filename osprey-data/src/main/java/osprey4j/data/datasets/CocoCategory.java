package osprey4j.data.datasets;

import java.util.List;

/**
 * One entry of a COCO-style {@code categories} array. PACO names part categories {@code object:part}.
 *
 * @param supercategory {@code null} when absent (LVIS)
 * @param synonyms      LVIS synonyms, empty elsewhere
 * @param frequency     LVIS frequency group ({@code r}, {@code c}, {@code f}); {@code null} elsewhere
 */
public record CocoCategory(long id, String name, String supercategory, List<String> synonyms, String frequency) {
}
