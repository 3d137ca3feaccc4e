package osprey4j.core.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import osprey4j.core.concurrent.ComputePool;

/**
 * Measures the machine's streaming read bandwidth the way a decoding matrix-vector product uses memory:
 * every thread of the compute pool sums its own contiguous part of an off-heap buffer much larger than the
 * caches, with vector loads and several accumulators. The figure is what memory-bound kernels are judged
 * against ("fraction of bandwidth").
 */
public final class MemoryBandwidth {
    /** Bytes each parallel task reads at least; the buffer is split into blocks of this size. */
    private static final long BLOCK = 1 << 20;
    /** Blocks read side by side by one thread. */
    private static final int STREAMS = 4;

    private MemoryBandwidth() {
    }

    /** Result of a measurement: bytes read per pass, seconds per pass (sorted), and the median rate. */
    public record Result(long bytes, double[] seconds) {
        /** Median read rate over the passes, in GB/s (10^9 bytes per second). */
        public double medianGBps() {
            return bytes / PassTimes.median(seconds) / 1e9;
        }

        /** Best pass, in GB/s. */
        public double bestGBps() {
            return bytes / PassTimes.best(seconds) / 1e9;
        }
    }

    /**
     * Reads a freshly allocated buffer of {@code bytes} (rounded down to whole 1 MiB blocks, at least one)
     * once to fault its pages in, then {@code passes} more times, timing each pass.
     */
    public static Result measure(long bytes, int passes) {
        if (passes < 1) {
            throw new IllegalArgumentException("passes must be at least 1, got " + passes);
        }
        int blocks = (int) Math.max(1, bytes / BLOCK);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(blocks * BLOCK, 64);
            // Touch every page from the pool's threads (the buffer is zero-filled by the allocation).
            ComputePool.parallelFor(blocks, 1, (from, to) ->
                    buf.asSlice(from * BLOCK, (to - from) * BLOCK).fill((byte) 1));
            double[] seconds = new double[passes];
            float[] sink = new float[1];
            for (int p = -1; p < passes; p++) {
                long t0 = System.nanoTime();
                float[] partial = new float[blocks];
                ComputePool.parallelFor(blocks, 1, (from, to) -> {
                    int b = from;
                    for (; b + STREAMS <= to; b += STREAMS) {
                        partial[b] = sumStreams(buf, b * BLOCK);
                    }
                    for (; b < to; b++) {
                        partial[b] = sum(buf, b * BLOCK, BLOCK);
                    }
                });
                long t1 = System.nanoTime();
                for (float f : partial) {
                    sink[0] += f;
                }
                if (p >= 0) {
                    seconds[p] = (t1 - t0) / 1e9;
                }
            }
            if (sink[0] == 42f) { // keeps the sums observable, so the reads cannot be optimised away
                System.out.print("");
            }
            return new Result(blocks * BLOCK, seconds);
        }
    }

    /**
     * Sum of STREAMS consecutive blocks starting at {@code off}, read side by side (one vector from each in
     * turn), as a matrix-vector product reads several weight rows at once: several sequential streams keep
     * more cache-line fills in flight than one, which is what reaches the memory's bandwidth.
     */
    private static float sumStreams(MemorySegment seg, long off) {
        var f = VectorConvert.F;
        long step = f.vectorByteSize();
        FloatVector a0 = FloatVector.zero(f);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int blockBytes = (int) BLOCK;
        for (int i = 0; i < blockBytes; i += (int) step) { // an int loop: C2 optimises these best
            a0 = a0.add(FloatVector.fromMemorySegment(f, seg, off + i, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(f, seg, off + BLOCK + i, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(f, seg, off + 2 * BLOCK + i, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(f, seg, off + 3 * BLOCK + i, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** Sum of the floats in [off, off + len) of seg, four vector accumulators to keep loads in flight. */
    private static float sum(MemorySegment seg, long off, long len) {
        var f = VectorConvert.F;
        long step = f.vectorByteSize();
        FloatVector a0 = FloatVector.zero(f);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        long end = off + len;
        for (long i = off; i + 4 * step <= end; i += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(f, seg, i, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(f, seg, i + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(f, seg, i + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(f, seg, i + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }
}
