package osprey4j.data.datasets;

import osprey4j.data.coco.Segmentation;

import java.util.List;

/**
 * One record of an Osprey-724K file ({@code osprey_detail_description.json}, {@code osprey_conversation.json},
 * {@code osprey_part_level.json}, {@code osprey_lvis_positive_negative.json}, {@code osprey_short_form.json}).
 * All five share the layout: an image, its regions (the {@code annotation} array, in the order the text numbers
 * them: region1 is the first), and either a conversation or one description per region.
 *
 * @param fileName       {@code file_name} as written (COCO 2014-style names in most files; see the sample builder)
 * @param regions        the {@code segmentation} of each {@code annotation} entry, in order
 * @param conversations  {@code conversations}; empty when absent (the detailed-description file)
 * @param descriptions   {@code description}, one {@code "<regionN>: text"} string per region; empty when absent
 * @param index          position in the file's root array
 * @param line           1-based line where the record starts
 */
public record Osprey724kEntry(String fileName, int width, int height, List<Segmentation> regions,
                              List<Turn> conversations, List<String> descriptions, long index, long line) {
    public Osprey724kEntry {
        regions = List.copyOf(regions);
        conversations = List.copyOf(conversations);
        descriptions = List.copyOf(descriptions);
    }
}
