package osprey4j.train.optim;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import osprey4j.core.kernels.OptimizerKernels;
import osprey4j.train.Param;

/**
 * {@code torch.optim.AdamW} (amsgrad off), the optimiser of the reference ({@code optim="adamw_torch"} in
 * Osprey's TrainingArguments), step for step:
 * <pre>
 *   p   *= 1 - lr * weight_decay                  (decoupled decay; only for parameters that decay)
 *   m    = beta1 m + (1 - beta1) g
 *   v    = beta2 v + (1 - beta2) g^2
 *   p   -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * HF Trainer puts biases in a group without weight decay and everything else (RMSNorm weights included: only
 * {@code nn.LayerNorm} is exempt) in the decayed group; {@link Param#decays()} says which. The moments are F32
 * as torch keeps them for F32 parameters; the bias corrections are computed in double as Python floats are.
 */
public final class AdamW {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<Param, float[][]> state = new IdentityHashMap<>();
    private final Map<Param, Integer> steps = new IdentityHashMap<>();

    public AdamW(double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("AdamW eps and weight decay must be non-negative");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** One step at learning rate {@code lr} for every parameter that has a gradient. */
    public void step(List<Param> params, double lr) {
        for (Param p : params) {
            if (p.grad() == null) {
                continue;
            }
            float[][] mv = state.computeIfAbsent(p, k -> new float[][] {new float[k.size()], new float[k.size()]});
            int t = steps.merge(p, 1, Integer::sum);
            update(p.value(), p.grad(), mv[0], mv[1], lr, p.decays() ? weightDecay : 0, t);
        }
    }

    private void update(float[] w, float[] g, float[] m, float[] v, double lr, double decay, int t) {
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        OptimizerKernels.adamW(w, g, m, v, w.length, (float) (1 - lr * decay), (float) beta1, (float) beta2,
                (float) (lr / bc1), (float) Math.sqrt(bc2), (float) eps);
    }

    /** Steps taken for this parameter (torch's state['step']). */
    public int steps(Param p) {
        return steps.getOrDefault(p, 0);
    }

    /** The first and second moment of a parameter, or null before its first step. */
    public float[][] moments(Param p) {
        return state.get(p);
    }

    /**
     * Puts back a parameter's state as a checkpoint recorded it ({@link #moments} and {@link #steps}), for a run
     * resumed from its training state; the arrays are copied.
     */
    public void restore(Param p, float[] m, float[] v, int stepCount) {
        if (m.length != p.size() || v.length != p.size()) {
            throw new IllegalArgumentException("AdamW moments of '" + p.name() + "' have " + m.length + "/" + v.length
                    + " values, the parameter " + p.size());
        }
        if (stepCount <= 0) {
            state.remove(p);
            steps.remove(p);
            return;
        }
        state.put(p, new float[][] {m.clone(), v.clone()});
        steps.put(p, stepCount);
    }
}
