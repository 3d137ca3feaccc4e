package osprey4j.data.instruct;

/**
 * Settings shared by both ways of writing text.
 *
 * @param seed       seeds every random choice (wording, negatives); each image and subset draws from its own
 *                   stream, so results do not depend on processing order
 * @param maxRegions regions per record at most (the largest objects are kept); the reference trains on up to 20
 */
public record InstructOptions(long seed, int maxRegions) implements java.io.Serializable {
    public InstructOptions {
        if (maxRegions < 1) {
            throw new IllegalArgumentException("maxRegions must be at least 1, got " + maxRegions);
        }
    }
}
