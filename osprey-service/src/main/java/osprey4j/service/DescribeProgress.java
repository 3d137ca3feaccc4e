package osprey4j.service;

/** Hears how a describe request advances, on the calling thread; both methods do nothing by default. */
public interface DescribeProgress {
    DescribeProgress NONE = new DescribeProgress() {
    };

    /** The image is encoded; {@code regions} questions follow. */
    default void encoded(int width, int height, double encodeMs, int regions) {
    }

    /**
     * Region {@code done} of {@code total} (from 1) is described; {@code millis} is what its question took (its
     * region tokens, the prefill and the decoding).
     */
    default void described(int done, int total, RegionDescription description, double millis) {
    }
}
