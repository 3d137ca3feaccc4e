package osprey4j.train.export;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import osprey4j.core.tensor.Tensor;

/**
 * Seeded random F32 weights for every tensor of an {@link OspreyShape}, scaled as the parity fixtures' model is
 * (activations of order 1): linears and convolutions uniform in +-1/sqrt(fan-in), norm weights around 1,
 * layer-scale gammas in [0.2, 1.0], biases small but non-zero. For tests and for a model's starting point where
 * no pretrained part exists.
 */
public final class RandomWeights {
    private RandomWeights() {
    }

    public static Map<String, Tensor> of(OspreyShape shape, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shape.ospreyTensors().entrySet()) {
            out.put(e.getKey(), tensor(e.getKey(), e.getValue(), random.split()));
        }
        return out;
    }

    private static Tensor tensor(String name, long[] shape, SplittableRandom random) {
        Tensor t = Tensor.zeros(osprey4j.core.tensor.DType.F32, shape);
        long n = t.numel();
        boolean norm = name.contains("norm") || name.matches(".*stem\\.1\\..*|.*downsample\\.0\\..*");
        boolean bias = name.endsWith(".bias");
        long fanIn = shape.length == 1 ? shape[0] : n / shape[0];
        double bound = 1.0 / Math.sqrt(fanIn);
        for (long i = 0; i < n; i++) {
            double v;
            if (name.endsWith(".gamma")) {
                v = 0.2 + 0.8 * random.nextDouble();
            } else if (norm && !bias) {
                v = 1.0 + 0.25 * (2 * random.nextDouble() - 1);
            } else if (bias) {
                v = 0.05 * (2 * random.nextDouble() - 1);
            } else if (name.equals("model.embed_tokens.weight")) {
                v = 2 * random.nextDouble() - 1;
            } else {
                v = bound * (2 * random.nextDouble() - 1);
            }
            t.setFloat(i, (float) v);
        }
        return t;
    }
}
