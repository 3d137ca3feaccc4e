package osprey4j.core.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ComputePoolTest {
    @Test
    void coversEveryIndexExactlyOnce() {
        for (int n : new int[] {0, 1, 2, 3, 17, 1000}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
            ComputePool.parallelFor(n, 1, (from, to) -> {
                for (int i = from; i < to; i++) {
                    hits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, hits.get(i), "index " + i + " of " + n);
            }
        }
    }

    @Test
    void nestedCallsRunInlineWithoutDeadlock() {
        AtomicIntegerArray hits = new AtomicIntegerArray(64);
        ComputePool.parallelFor(8, 1, (from, to) -> {
            for (int outer = from; outer < to; outer++) {
                int base = outer * 8;
                ComputePool.parallelFor(8, 1, (a, b) -> {
                    for (int i = a; i < b; i++) {
                        hits.incrementAndGet(base + i);
                    }
                });
            }
        });
        for (int i = 0; i < 64; i++) {
            assertEquals(1, hits.get(i));
        }
    }

    @Test
    void exceptionsReachTheCaller() {
        assertThrows(IllegalStateException.class, () -> ComputePool.parallelFor(100, 1, (from, to) -> {
            if (to == 100) {
                throw new IllegalStateException("boom");
            }
        }));
    }
}
