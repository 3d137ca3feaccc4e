package osprey4j.model.llm;

import osprey4j.core.io.Checkpoint;
import osprey4j.core.kernels.Activations;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.tensor.Tensor;

/** Hugging Face's {@code LlamaMLP}: {@code down_proj(silu(gate_proj(x)) * up_proj(x))}. */
final class LlamaMlp {
    /** [intermediate, hidden] */
    final Tensor gateProj;
    /** [intermediate, hidden] */
    final Tensor upProj;
    /** [hidden, intermediate] */
    final Tensor downProj;

    private LlamaMlp(Tensor gateProj, Tensor upProj, Tensor downProj) {
        this.gateProj = gateProj;
        this.upProj = upProj;
        this.downProj = downProj;
    }

    /** Loads {@code <prefix>.{gate,up,down}_proj.weight}. */
    static LlamaMlp load(Checkpoint ckpt, String prefix, LlamaConfig c) {
        int hidden = c.hiddenSize();
        int inter = c.intermediateSize();
        return new LlamaMlp(
                ckpt.linearWeight(prefix + ".gate_proj.weight", inter, hidden),
                ckpt.linearWeight(prefix + ".up_proj.weight", inter, hidden),
                ckpt.linearWeight(prefix + ".down_proj.weight", hidden, inter));
    }

    /** s.normed [n, hidden] -> s.projected [n, hidden]. */
    void forward(Scratch s) {
        Gemm.linear(s.normed, gateProj, null, s.gate);
        Gemm.linear(s.normed, upProj, null, s.up);
        Activations.siluMul(s.gate, s.up, s.gate);
        Gemm.linear(s.gate, downProj, null, s.projected);
    }
}
