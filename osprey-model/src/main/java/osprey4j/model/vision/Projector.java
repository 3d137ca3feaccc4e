package osprey4j.model.vision;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.kernels.Activations;
import osprey4j.core.kernels.ChannelLayout;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * The multimodal projector {@code mm_projector}: maps image features (res4, one row per pixel) to the LLM's
 * hidden size. Types as in the reference's {@code build_vision_projector}: {@code linear} (one Linear, keys
 * {@code PREFIX.weight}/{@code .bias}) and {@code mlpNx_gelu} (N Linears with GELU (erf) between them, keys
 * {@code PREFIX.0}, {@code PREFIX.2}, ... as in the {@code nn.Sequential}); Osprey uses {@code mlp2x_gelu}.
 */
public final class Projector {
    private static final Pattern MLP_GELU = Pattern.compile("^mlp(\\d+)x_gelu$");

    private final List<Tensor> weights;
    private final List<Tensor> biases;

    private Projector(List<Tensor> weights, List<Tensor> biases) {
        this.weights = weights;
        this.biases = biases;
    }

    /**
     * @param prefix the projector's key prefix, e.g. {@code "model.mm_projector"} (with or without the final dot)
     * @param type   {@code mm_projector_type} from config.json ({@code "mlp2x_gelu"}, {@code "linear"}, ...)
     */
    public static Projector load(Checkpoint checkpoint, String prefix, String type) {
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(type, "type");
        String p = Weights.withDot(Objects.requireNonNull(prefix, "prefix"));
        List<String> names = new ArrayList<>();
        if (type.equals("linear")) {
            names.add(p);
        } else {
            Matcher m = MLP_GELU.matcher(type);
            if (!m.matches() || Integer.parseInt(m.group(1)) < 1) {
                throw new IllegalArgumentException("unsupported mm_projector_type '" + type
                        + "' (supported: linear, mlpNx_gelu such as mlp2x_gelu)");
            }
            int depth = Integer.parseInt(m.group(1));
            for (int i = 0; i < depth; i++) {
                names.add(p + (2 * i) + "."); // nn.Sequential(Linear, GELU, Linear, ...): Linears at even indices
            }
        }
        List<Tensor> ws = new ArrayList<>();
        List<Tensor> bs = new ArrayList<>();
        long in = -1;
        for (String name : names) {
            long[] shape = Weights.shapeOf(checkpoint, name + "weight", 2);
            if (in >= 0 && shape[1] != in) {
                throw new CheckpointException("weight '" + name + "weight' has the wrong shape: expected [N, " + in
                        + "], found [" + shape[0] + ", " + shape[1] + "]" + Weights.where(checkpoint));
            }
            ws.add(Weights.require(checkpoint, name + "weight", shape));
            bs.add(Weights.require(checkpoint, name + "bias", shape[0]));
            in = shape[0];
        }
        return new Projector(List.copyOf(ws), List.copyOf(bs));
    }

    /** Input width (res4 channels: 768 for ConvNeXt-Large). */
    public int inputSize() {
        return weights.getFirst().size(1);
    }

    /** Output width (the LLM hidden size). */
    public int outputSize() {
        return weights.getLast().size(0);
    }

    /**
     * @param x F32 [N, C] (one row per image token)
     * @return F32 [N, D]
     */
    public Tensor forward(Tensor x) {
        Objects.requireNonNull(x, "x");
        if (x.dtype() != DType.F32 || x.rank() != 2 || x.dim(1) != inputSize()) {
            throw new IllegalArgumentException("projector input must be F32 [N, " + inputSize() + "], got " + x);
        }
        Tensor h = x;
        for (int i = 0; i < weights.size(); i++) {
            if (i > 0) {
                Activations.gelu(h);
            }
            h = Gemm.linear(h, weights.get(i), biases.get(i));
        }
        return h;
    }

    /**
     * A feature map [C, H, W] as image tokens [H*W, C], row-major over pixels: the reference's
     * {@code res4.reshape(1, C, -1).permute(0, 2, 1)}.
     */
    public static Tensor flattenToTokens(Tensor featureMap) {
        Objects.requireNonNull(featureMap, "featureMap");
        if (featureMap.dtype() != DType.F32 || featureMap.rank() != 3) {
            throw new IllegalArgumentException("feature map must be F32 [C, H, W], got " + featureMap);
        }
        return ChannelLayout.toChannelsLast(featureMap);
    }
}
