package osprey4j.data.samples;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/** Per-sample random sources: a function of (seed, recipe, sample key) only, so processing order never matters. */
final class Seeds {
    private Seeds() {
    }

    static SplittableRandom forSample(long seed, String recipe, long key) {
        return new SplittableRandom(mix(mix(seed ^ fnv1a(recipe)) ^ key));
    }

    /** SplitMix64's finaliser: spreads nearby inputs (consecutive ids) over unrelated streams. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h;
    }
}
