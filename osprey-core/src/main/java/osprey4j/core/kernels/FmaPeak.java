package osprey4j.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import osprey4j.core.concurrent.ComputePool;

/**
 * Measures the machine's F32 fused-multiply-add peak as the JIT reaches it with the Vector API: every thread
 * of the compute pool runs twelve independent FMA chains on registers (enough to cover the FMA latency on
 * two FMA ports: latency 4 x 2 ports = 8 chains in flight, plus slack), with no memory traffic. The figure
 * is what compute-bound kernels (prefill products) are judged against ("fraction of FMA peak"), measured in
 * the same run as they are, so frequency changes and other processes affect both alike.
 */
public final class FmaPeak {
    /** Independent accumulators per thread. */
    private static final int CHAINS = 12;

    private FmaPeak() {
    }

    /** Result of a measurement: floating-point operations per pass and seconds per pass. */
    public record Result(double flopsPerPass, int threads, double[] seconds) {
        /** Median rate over the passes, in GFLOP/s (an FMA counts as two operations). */
        public double medianGflops() {
            return flopsPerPass / PassTimes.median(seconds) / 1e9;
        }

        /** Best pass, in GFLOP/s. */
        public double bestGflops() {
            return flopsPerPass / PassTimes.best(seconds) / 1e9;
        }
    }

    /**
     * Runs {@code iterations} rounds of {@value #CHAINS} vector FMAs on each of the pool's threads, once to
     * warm up and then {@code passes} times, timing each pass.
     */
    public static Result measure(long iterations, int passes) {
        if (passes < 1 || iterations < 1) {
            throw new IllegalArgumentException("iterations and passes must be at least 1, got "
                    + iterations + " and " + passes);
        }
        int threads = ComputePool.threads();
        double flops = 2.0 * FloatVector.SPECIES_PREFERRED.length() * CHAINS * (double) iterations * threads;
        double[] seconds = new double[passes];
        float[] sink = new float[threads];
        for (int p = -2; p < passes; p++) {
            long t0 = System.nanoTime();
            ComputePool.parallelFor(threads, 1, (from, to) -> {
                for (int t = from; t < to; t++) {
                    sink[t] += chains(iterations, t);
                }
            });
            long t1 = System.nanoTime();
            if (p >= 0) {
                seconds[p] = (t1 - t0) / 1e9;
            }
        }
        if (sink[0] == 42f) { // keeps the results observable, so the loop cannot be optimised away
            System.out.print("");
        }
        return new Result(flops, threads, seconds);
    }

    /** Twelve FMA chains a = a * m + c; m is just below 1 so that the values stay finite. */
    private static float chains(long iterations, int seed) {
        var f = FloatVector.SPECIES_PREFERRED;
        FloatVector m = FloatVector.broadcast(f, 0.999999f);
        FloatVector c = FloatVector.broadcast(f, 1e-7f * (seed + 1));
        FloatVector a0 = FloatVector.broadcast(f, 1f);
        FloatVector a1 = a0.add(1f);
        FloatVector a2 = a0.add(2f);
        FloatVector a3 = a0.add(3f);
        FloatVector a4 = a0.add(4f);
        FloatVector a5 = a0.add(5f);
        FloatVector a6 = a0.add(6f);
        FloatVector a7 = a0.add(7f);
        FloatVector a8 = a0.add(8f);
        FloatVector a9 = a0.add(9f);
        FloatVector a10 = a0.add(10f);
        FloatVector a11 = a0.add(11f);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}
