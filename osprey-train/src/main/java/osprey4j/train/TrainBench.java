package osprey4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import osprey4j.core.tensor.Tensor;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;

/**
 * Times full training steps (forward, backward, clipping, AdamW) of a random model at given dimensions on
 * one random sample: the measurement behind {@code osprey bench train}.
 */
public final class TrainBench {
    /** Median and each step's wall time in milliseconds, with the model's parameter count. */
    public record Report(OspreyDims dims, int sequence, long parameters, double medianMillis, double[] stepMillis,
                         double[] cpuMillis) {
        @Override
        public String toString() {
            StringBuilder steps = new StringBuilder();
            for (int i = 0; i < stepMillis.length; i++) {
                steps.append(String.format("%s%.0f ms (cpu %.0f)", i == 0 ? "" : ", ", stepMillis[i], cpuMillis[i]));
            }
            return String.format("%s, %d positions, %,d parameters: median %.1f ms per step; steps: %s", dims, sequence,
                    parameters, medianMillis, steps);
        }
    }

    /** CPU time of the whole process (all threads, JIT and GC included), or -1 where not available. */
    private static long processCpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    private TrainBench() {
    }

    /**
     * One random training sample at given sizes: the ids ({@code <image>} second, each region's
     * {@code <mask><pos>} early in the prompt), labels on the second half, res2..res5 of a square image whose res4
     * is {@code imageSide} wide, and rectangular region masks at 16x the res4 side. The peer of
     * {@code osprey bench train} builds the same sample from these fields.
     */
    public record Workload(int[] ids, int[] labels, int[] levelSides, int maskSide, List<Tensor> levels,
                           List<Tensor> masks) {
        public int imageAt() {
            return 1;
        }

        /** The index in {@link #ids} of each region's {@code <mask>}. */
        public int[] maskAt() {
            int[] at = new int[masks.size()];
            for (int r = 0; r < at.length; r++) {
                at[r] = 3 + 3 * r;
            }
            return at;
        }

        /** Positions the LLM runs over: the ids with the image placeholder expanded. */
        public int sequence() {
            return ids.length - 1 + levelSides[2] * levelSides[2];
        }

        public static Workload of(OspreyDims d, int textTokens, int imageSide, int regions) {
            if (textTokens < 3 * regions + 2) {
                throw new IllegalArgumentException("need at least " + (3 * regions + 2) + " text tokens for " + regions + " regions");
            }
            int maskId = d.vocab();
            SplittableRandom rnd = new SplittableRandom(2);
            int[] ids = new int[textTokens + 1];
            int[] labels = new int[ids.length];
            ids[0] = 1;
            ids[1] = OspreyTokens.IMAGE_TOKEN_ID;
            for (int i = 2; i < ids.length; i++) {
                ids[i] = rnd.nextInt(Math.min(3, d.vocab() - 1), d.vocab());
            }
            for (int r = 0; r < regions; r++) {
                ids[3 + 3 * r] = maskId;
                ids[4 + 3 * r] = maskId + 1;
            }
            for (int i = 0; i < ids.length; i++) {
                labels[i] = i > ids.length / 2 ? ids[i] : TrainSample.IGNORE_INDEX;
            }
            int[] ch = d.levelChannels();
            int[] sides = {imageSide * 4, imageSide * 2, imageSide, Math.max(1, imageSide / 2)};
            List<Tensor> levels = new ArrayList<>();
            for (int l = 0; l < 4; l++) {
                float[] v = new float[ch[l] * sides[l] * sides[l]];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) rnd.nextDouble(-1, 1);
                }
                levels.add(Tensor.wrap(v, ch[l], sides[l], sides[l]));
            }
            int maskSide = imageSide * 16;
            List<Tensor> masks = new ArrayList<>();
            for (int r = 0; r < regions; r++) {
                float[] m = new float[maskSide * maskSide];
                for (int y = maskSide / 4; y < maskSide / 2 + r; y++) {
                    for (int x = maskSide / 5; x < maskSide * 3 / 4; x++) {
                        m[y * maskSide + x] = 1f;
                    }
                }
                masks.add(Tensor.wrap(m, maskSide, maskSide));
            }
            return new Workload(ids, labels, sides, maskSide, List.copyOf(levels), List.copyOf(masks));
        }
    }

    /**
     * @param textTokens prompt ids besides the image placeholder
     * @param imageSide  res4 is imageSide x imageSide (image tokens = side^2; res2/res3/res5 at 4x/2x/0.5x)
     * @param regions    regions (each a {@code <mask><pos>} pair in the prompt)
     * @param steps      timed steps (the first includes JIT warm-up)
     */
    public static Report run(OspreyDims d, Stage stage, int textTokens, int imageSide, int regions, int steps) {
        return run(d, stage, Workload.of(d, textTokens, imageSide, regions), steps);
    }

    /** Times {@code steps} training steps of a random model at {@code d} on the workload's sample. */
    public static Report run(OspreyDims d, Stage stage, Workload w, int steps) {
        TrainableOsprey model = TrainableOsprey.random(d, 1);
        TrainSample sample = new TrainSample(w.ids(), w.labels(), w.levels(), w.masks());
        Trainer trainer = new Trainer(model, d.vocab(), TrainConfig.forStage(stage), Math.max(1, steps));
        double[] ms = new double[steps];
        double[] cpu = new double[steps];
        for (int s = 0; s < steps; s++) {
            long c0 = processCpuNanos();
            ms[s] = trainer.step(List.of(List.of(sample))).nanos() / 1e6;
            cpu[s] = (processCpuNanos() - c0) / 1e6;
        }
        // the first step includes JIT compilation: the median is over the others when there are any
        double[] sorted = steps > 1 ? java.util.Arrays.copyOfRange(ms, 1, steps) : ms.clone();
        java.util.Arrays.sort(sorted);
        long params = 0;
        for (Param p : model.params()) {
            params += p.size();
        }
        return new Report(d, w.sequence(), params, sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2], ms, cpu);
    }

    /** {@code java ... osprey4j.train.TrainBench [hidden layers heads kvHeads vocab imageSide textTokens steps]}. */
    public static void main(String[] args) {
        int hidden = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int layers = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int heads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int kv = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        int vocab = args.length > 4 ? Integer.parseInt(args[4]) : 8000;
        int side = args.length > 5 ? Integer.parseInt(args[5]) : 32;
        int text = args.length > 6 ? Integer.parseInt(args[6]) : 120;
        int steps = args.length > 7 ? Integer.parseInt(args[7]) : 5;
        OspreyDims d = new OspreyDims(hidden, hidden * 11 / 4, layers, heads, kv, vocab, 1e-5f, 10000, false, 768, 2,
                new int[] {192, 384, 768, 1536}, 1024, new int[] {1024, 1024}, 112);
        System.out.println(run(d, Stage.FULL, text, side, 2, steps));
    }
}
