package osprey4j.data.samples;

import java.nio.file.Path;

/**
 * How to build samples.
 *
 * @param imageRoot  directory the image names are resolved against (the reference's {@code img_prefix})
 * @param seed       all random choices (region order, question wording, which caption) derive from it and from
 *                   the sample's own key, so a sample is the same whatever order or subset is processed; pass
 *                   {@code seed + epoch} for fresh choices each epoch, as the reference's per-access randomness gives
 * @param maxRegions upper bound on regions per image for data whose regions are independent questions (the
 *                   reference's caps: 20 for COCO, 15 RefCOCO and parts, 3 Visual Genome; the lower one wins)
 * @param regionForm how Osprey-724K conversations show their regions ({@link RegionForm}; the reference's is
 *                   {@link RegionForm#LIST})
 * @param turnOrder  the order of an Osprey-724K record's question-answer pairs ({@link TurnOrder}; the reference's
 *                   is {@link TurnOrder#AS_WRITTEN}; {@link TurnOrder#SHUFFLED} needs {@link RegionForm#INLINE})
 */
public record SampleOptions(Path imageRoot, long seed, int maxRegions, RegionForm regionForm, TurnOrder turnOrder) {
    public static final int DEFAULT_MAX_REGIONS = 20;

    public SampleOptions {
        if (maxRegions < 1) {
            throw new IllegalArgumentException("maxRegions must be at least 1, got " + maxRegions);
        }
        java.util.Objects.requireNonNull(regionForm, "regionForm");
        java.util.Objects.requireNonNull(turnOrder, "turnOrder");
        if (turnOrder == TurnOrder.SHUFFLED && regionForm != RegionForm.INLINE) {
            throw new IllegalArgumentException("shuffled turns need the inline region form: in the list form the "
                    + "first question lists the regions");
        }
    }

    /** The reference's turn order ({@link TurnOrder#AS_WRITTEN}). */
    public SampleOptions(Path imageRoot, long seed, int maxRegions, RegionForm regionForm) {
        this(imageRoot, seed, maxRegions, regionForm, TurnOrder.AS_WRITTEN);
    }

    /** The reference's region form ({@link RegionForm#LIST}). */
    public SampleOptions(Path imageRoot, long seed, int maxRegions) {
        this(imageRoot, seed, maxRegions, RegionForm.LIST);
    }

    public SampleOptions withRegionForm(RegionForm form) {
        return new SampleOptions(imageRoot, seed, maxRegions, form, turnOrder);
    }

    public SampleOptions withTurnOrder(TurnOrder order) {
        return new SampleOptions(imageRoot, seed, maxRegions, regionForm, order);
    }

    public static SampleOptions of(Path imageRoot, long seed) {
        return new SampleOptions(imageRoot, seed, DEFAULT_MAX_REGIONS);
    }
}
