package osprey4j.data.samples;

/**
 * The order in which an Osprey-724K record's question-answer pairs are put into its training conversation.
 * <ul>
 *   <li>{@link #AS_WRITTEN}, the reference's: the file's order. In the generated data the first question of a
 *       part-level record always asks for the object and the first positive/negative question is always about the
 *       record's first region, so a small model learns "first question: name the object".</li>
 *   <li>{@link #SHUFFLED}: each record's pairs in a random order drawn from the sample seed and the record's index
 *       (the same order every time the sample is built). The image preamble opens whichever question comes first.
 *       Every kind of question is then also seen as the opening question, as a user of {@code osprey ask} asks
 *       it. Needs {@link RegionForm#INLINE}, where each question carries its own regions (in the list form the
 *       first question lists the regions, and the answers name them).</li>
 * </ul>
 * Detailed descriptions keep their order: each of their questions already stands alone.
 */
public enum TurnOrder {
    AS_WRITTEN, SHUFFLED
}
