package osprey4j.train.optim;

import java.util.List;
import osprey4j.core.kernels.OptimizerKernels;
import osprey4j.train.Param;

/**
 * {@code torch.nn.utils.clip_grad_norm_} with the 2-norm, as HF Trainer calls it with {@code max_grad_norm}:
 * total = ||(||g_1||, ||g_2||, ...)||, every gradient is multiplied by min(1, max / (total + 1e-6)).
 */
public final class GradClip {
    private GradClip() {
    }

    /** Clips in place and returns the total norm before clipping. */
    public static double clip(List<Param> params, double maxNorm) {
        double sq = 0;
        for (Param p : params) {
            float[] g = p.grad();
            if (g == null) {
                continue;
            }
            sq += OptimizerKernels.sumOfSquares(g, g.length);
        }
        double total = Math.sqrt(sq);
        float coef = (float) Math.min(1.0, maxNorm / (total + 1e-6));
        if (coef < 1f) {
            for (Param p : params) {
                float[] g = p.grad();
                if (g != null) {
                    OptimizerKernels.scale(g, g.length, coef);
                }
            }
        }
        return total;
    }
}
