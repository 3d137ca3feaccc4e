package osprey4j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.Tensor;

/**
 * Average of a feature map over a region mask:
 * <pre>
 * m   = bilinear(mask, (H, W))              align_corners=False, no antialias ({@link BilinearResize})
 * m   = (m > 0) / (count(m > 0) + 1e-8)     binarise, normalise by the count (in float)
 * out = sum over pixels of features * m     [C]
 * </pre>
 * i.e. {@code einsum("chw,hw->c", features, m)}. The sum over the inside pixels is accumulated in double and
 * multiplied by the float weight once: a float running sum over thousands of pixels drifts by 1e-5 relative,
 * while a BLAS reduction gets within about 1e-6 of the exact value. An empty (or vanished) mask pools to zero,
 * as 0 / 1e-8 does.
 */
public final class MaskPooling {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** The guard against an empty mask in the denominator. */
    private static final float DENOMINATOR_EPS = 1e-8f;

    private MaskPooling() {
    }

    /**
     * Pools {@code features} over {@code mask} into {@code out}.
     *
     * @param features [C, H, W] F32
     * @param mask     [h, w] F32, any size (resized to H x W; 0 outside)
     * @param out      [C] F32 (or any tensor of C elements, e.g. a row of a larger one)
     * @return the number of feature pixels inside the resized mask (0: the mask vanished and out is zero)
     */
    public static int pool(Tensor features, Tensor mask, Tensor out) {
        KernelChecks.requireF32(features, "features");
        KernelChecks.requireRank(features, 3, "features");
        KernelChecks.requireF32(mask, "mask");
        KernelChecks.requireRank(mask, 2, "mask");
        KernelChecks.requireF32(out, "out");
        if (out.numel() != features.dim(0)) {
            throw new IllegalArgumentException("out " + out + " must hold the " + features.dim(0) + " channels of "
                    + features);
        }
        if (mask.numel() == 0) {
            throw new IllegalArgumentException("cannot pool over an empty mask " + mask);
        }
        int h = features.size(1), w = features.size(2);
        Tensor resized = BilinearResize.resize(mask.reshape(1, mask.dim(0), mask.dim(1)), h, w);
        int[] inside = insidePixels(resized);
        sum(features, inside, 1f / ((float) inside.length + DENOMINATOR_EPS), out);
        return inside.length;
    }

    /** Indices (row-major) of the pixels where the resized mask is {@code > 0}. */
    private static int[] insidePixels(Tensor resized) {
        MemorySegment in = resized.segment();
        int size = Math.toIntExact(resized.numel());
        int count = 0;
        int[] idx = new int[size];
        for (int k = 0; k < size; k++) {
            if (in.getAtIndex(FLOAT, k) > 0f) {
                idx[count++] = k;
            }
        }
        return java.util.Arrays.copyOf(idx, count);
    }

    /** out[c] = weight * (sum of features[c] over the inside pixels), per channel over the compute pool. */
    private static void sum(Tensor features, int[] inside, float weight, Tensor out) {
        int c = features.size(0);
        long plane = features.dim(1) * features.dim(2);
        MemorySegment f = features.segment();
        MemorySegment o = out.segment();
        ComputePool.parallelFor(c, Math.max(1, 65536 / Math.max(1, inside.length)), (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                long base = ch * plane;
                double sum = 0;
                for (int p : inside) {
                    sum += f.getAtIndex(FLOAT, base + p);
                }
                o.setAtIndex(FLOAT, ch, (float) (sum * (double) weight));
            }
        });
    }
}
