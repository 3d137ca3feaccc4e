package osprey4j.core.kernels;

import java.util.Arrays;

/** The median and best of a probe's timed passes ({@link MemoryBandwidth}, {@link FmaPeak}). */
final class PassTimes {
    private PassTimes() {
    }

    /** The median of the passes' seconds (the mean of the two middle ones for an even count). */
    static double median(double[] seconds) {
        double[] s = seconds.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** The fastest pass's seconds. */
    static double best(double[] seconds) {
        return Arrays.stream(seconds).min().orElseThrow();
    }
}
