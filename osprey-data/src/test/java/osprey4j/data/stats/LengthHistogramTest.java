package osprey4j.data.stats;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LengthHistogramTest {
    @Test
    void meanMedianMaxAndBuckets() {
        LengthHistogram h = new LengthHistogram();
        for (int w : new int[] {1, 2, 3, 4, 9, 200}) {
            h.add(w);
        }
        assertEquals(6, h.count());
        assertEquals(219 / 6.0, h.mean(), 1e-12);
        assertEquals(3.5, h.median());
        assertEquals(200, h.max());
        assertEquals(List.of(1L, 2L, 1L, 1L, 0L, 0L, 0L, 1L), List.copyOf(h.buckets().values()));
        assertEquals(List.of("0-1", "2-3", "4-7", "8-15", "16-31", "32-63", "64-127", "128+"),
                List.copyOf(h.buckets().keySet()));
        h.add(5000);
        assertEquals(4.0, h.median());
        assertEquals(5000, h.max());
        assertEquals(3, LengthHistogram.words("  a  b\nc "));
        assertEquals(0, LengthHistogram.words(" "));
    }
}
