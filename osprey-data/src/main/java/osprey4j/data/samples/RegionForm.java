package osprey4j.data.samples;

/**
 * How an Osprey-724K conversation that names its regions ({@code <region1>}, {@code <region2>}...) shows them to
 * the model.
 * <ul>
 *   <li>{@link #LIST}, the reference's: the first question lists every region of the record once
 *       ({@code "Ther are N part regions in the picture: region1<mask><pos>,region2<mask><pos>..."}) and the
 *       questions name them as {@code region1}, {@code region2}; the model has to find region K's tokens in the
 *       list.</li>
 *   <li>{@link #INLINE}, as people ask {@code osprey ask} and the reference's demo: each mention of a region in a
 *       question is that region's {@code <mask><pos>} in place (a region asked about twice is given twice), and
 *       nothing is listed. Answers keep the region names without brackets, as in the list form.</li>
 * </ul>
 * Detailed descriptions and the positive/negative questions are written inline by the reference already; the
 * form changes the short-form, part-level and conversation files.
 */
public enum RegionForm {
    LIST, INLINE
}
