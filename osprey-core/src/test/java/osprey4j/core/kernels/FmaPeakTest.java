package osprey4j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import osprey4j.core.concurrent.ComputePool;

class FmaPeakTest {
    @Test
    void countsTwoOperationsPerLaneOfEveryFmaOnEveryThread() {
        FmaPeak.Result r = FmaPeak.measure(1000, 3);
        assertEquals(3, r.seconds().length);
        assertEquals(ComputePool.threads(), r.threads());
        assertEquals(2.0 * FloatVector.SPECIES_PREFERRED.length() * 12 * 1000 * ComputePool.threads(),
                r.flopsPerPass());
        assertTrue(r.medianGflops() > 0 && r.bestGflops() >= r.medianGflops(), r.toString());
    }

    @Test
    void refusesEmptyMeasurements() {
        assertThrows(IllegalArgumentException.class, () -> FmaPeak.measure(0, 3));
        assertThrows(IllegalArgumentException.class, () -> FmaPeak.measure(10, 0));
    }
}
