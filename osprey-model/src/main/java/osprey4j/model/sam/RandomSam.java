package osprey4j.model.sam;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.InMemoryCheckpoint;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Floats;
import osprey4j.core.tensor.Tensor;

/**
 * A SAM state dict with random weights, held in memory, with the official key names and shapes (those of
 * {@code build_sam_vit_b/l/h().state_dict()}): for benchmarks and tests that need SAM at its real size without the
 * real weights. Values are uniform and scaled (1/sqrt(fan-in) for linears and convolutions, norms around 1) so
 * activations stay of order 1.
 *
 * @see Shape
 */
public final class RandomSam {
    private RandomSam() {
    }

    /**
     * SAM's dimensions, as the official {@code _build_sam} fixes them: the ViT (width, depth, heads, global blocks,
     * window 14, patch 16, input 1024), the prompt width 256, {@code mask_in_chans} 16, the two-way transformer
     * (depth 2, MLP 2048), the IoU head (256 wide, 3 layers) and 3 multimask outputs.
     */
    public record Shape(int width, int depth, int heads, int[] globalBlocks, int window, int patch, int imageSize,
                        int promptDim, int maskInChans, int decoderDepth, int decoderMlp, int iouHidden) {
        public static Shape vitB() {
            return new Shape(768, 12, 12, new int[] {2, 5, 8, 11}, 14, 16, 1024, 256, 16, 2, 2048, 256);
        }

        public static Shape vitL() {
            return new Shape(1024, 24, 16, new int[] {5, 11, 17, 23}, 14, 16, 1024, 256, 16, 2, 2048, 256);
        }

        public static Shape vitH() {
            return new Shape(1280, 32, 16, new int[] {7, 15, 23, 31}, 14, 16, 1024, 256, 16, 2, 2048, 256);
        }

        /** The official model of that name: vit_b, vit_l or vit_h. */
        public static Shape of(String name) {
            return switch (name) {
                case "vit_b" -> vitB();
                case "vit_l" -> vitL();
                case "vit_h" -> vitH();
                default -> throw new IllegalArgumentException("unknown SAM model '" + name + "' (vit_b, vit_l, vit_h)");
            };
        }

        boolean global(int block) {
            for (int g : globalBlocks) {
                if (g == block) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Every key of the state dict with its shape, in the official order. */
    public static Map<String, long[]> shapes(Shape s) {
        Map<String, long[]> out = new LinkedHashMap<>();
        long d = s.width(), grid = s.imageSize() / s.patch(), hd = s.width() / s.heads(), p = s.promptDim();
        String e = "image_encoder.";
        out.put(e + "pos_embed", new long[] {1, grid, grid, d});
        out.put(e + "patch_embed.proj.weight", new long[] {d, 3, s.patch(), s.patch()});
        out.put(e + "patch_embed.proj.bias", new long[] {d});
        for (int i = 0; i < s.depth(); i++) {
            String b = e + "blocks." + i + ".";
            long rel = 2L * (s.global(i) ? grid : s.window()) - 1;
            out.put(b + "norm1.weight", new long[] {d});
            out.put(b + "norm1.bias", new long[] {d});
            out.put(b + "attn.rel_pos_h", new long[] {rel, hd});
            out.put(b + "attn.rel_pos_w", new long[] {rel, hd});
            out.put(b + "attn.qkv.weight", new long[] {3 * d, d});
            out.put(b + "attn.qkv.bias", new long[] {3 * d});
            out.put(b + "attn.proj.weight", new long[] {d, d});
            out.put(b + "attn.proj.bias", new long[] {d});
            out.put(b + "norm2.weight", new long[] {d});
            out.put(b + "norm2.bias", new long[] {d});
            out.put(b + "mlp.lin1.weight", new long[] {4 * d, d});
            out.put(b + "mlp.lin1.bias", new long[] {4 * d});
            out.put(b + "mlp.lin2.weight", new long[] {d, 4 * d});
            out.put(b + "mlp.lin2.bias", new long[] {d});
        }
        out.put(e + "neck.0.weight", new long[] {p, d, 1, 1});
        out.put(e + "neck.1.weight", new long[] {p});
        out.put(e + "neck.1.bias", new long[] {p});
        out.put(e + "neck.2.weight", new long[] {p, p, 3, 3});
        out.put(e + "neck.3.weight", new long[] {p});
        out.put(e + "neck.3.bias", new long[] {p});
        String q = "prompt_encoder.";
        long c = s.maskInChans(), c4 = c / 4;
        out.put(q + "pe_layer.positional_encoding_gaussian_matrix", new long[] {2, p / 2});
        for (int i = 0; i < 4; i++) {
            out.put(q + "point_embeddings." + i + ".weight", new long[] {1, p});
        }
        out.put(q + "not_a_point_embed.weight", new long[] {1, p});
        out.put(q + "mask_downscaling.0.weight", new long[] {c4, 1, 2, 2});
        out.put(q + "mask_downscaling.0.bias", new long[] {c4});
        out.put(q + "mask_downscaling.1.weight", new long[] {c4});
        out.put(q + "mask_downscaling.1.bias", new long[] {c4});
        out.put(q + "mask_downscaling.3.weight", new long[] {c, c4, 2, 2});
        out.put(q + "mask_downscaling.3.bias", new long[] {c});
        out.put(q + "mask_downscaling.4.weight", new long[] {c});
        out.put(q + "mask_downscaling.4.bias", new long[] {c});
        out.put(q + "mask_downscaling.6.weight", new long[] {p, c, 1, 1});
        out.put(q + "mask_downscaling.6.bias", new long[] {p});
        out.put(q + "no_mask_embed.weight", new long[] {1, p});
        String m = "mask_decoder.", t = m + "transformer.";
        for (int i = 0; i < s.decoderDepth(); i++) {
            String b = t + "layers." + i + ".";
            attention(out, b + "self_attn.", p, p);
            out.put(b + "norm1.weight", new long[] {p});
            out.put(b + "norm1.bias", new long[] {p});
            attention(out, b + "cross_attn_token_to_image.", p, p / 2);
            out.put(b + "norm2.weight", new long[] {p});
            out.put(b + "norm2.bias", new long[] {p});
            out.put(b + "mlp.lin1.weight", new long[] {s.decoderMlp(), p});
            out.put(b + "mlp.lin1.bias", new long[] {s.decoderMlp()});
            out.put(b + "mlp.lin2.weight", new long[] {p, s.decoderMlp()});
            out.put(b + "mlp.lin2.bias", new long[] {p});
            out.put(b + "norm3.weight", new long[] {p});
            out.put(b + "norm3.bias", new long[] {p});
            out.put(b + "norm4.weight", new long[] {p});
            out.put(b + "norm4.bias", new long[] {p});
            attention(out, b + "cross_attn_image_to_token.", p, p / 2);
        }
        attention(out, t + "final_attn_token_to_image.", p, p / 2);
        out.put(t + "norm_final_attn.weight", new long[] {p});
        out.put(t + "norm_final_attn.bias", new long[] {p});
        out.put(m + "iou_token.weight", new long[] {1, p});
        out.put(m + "mask_tokens.weight", new long[] {4, p});
        out.put(m + "output_upscaling.0.weight", new long[] {p, p / 4, 2, 2});
        out.put(m + "output_upscaling.0.bias", new long[] {p / 4});
        out.put(m + "output_upscaling.1.weight", new long[] {p / 4});
        out.put(m + "output_upscaling.1.bias", new long[] {p / 4});
        out.put(m + "output_upscaling.3.weight", new long[] {p / 4, p / 8, 2, 2});
        out.put(m + "output_upscaling.3.bias", new long[] {p / 8});
        for (int i = 0; i < 4; i++) {
            mlp(out, m + "output_hypernetworks_mlps." + i + ".", new long[] {p, p, p, p / 8});
        }
        mlp(out, m + "iou_prediction_head.", new long[] {p, s.iouHidden(), s.iouHidden(), 4});
        return out;
    }

    private static void attention(Map<String, long[]> out, String p, long dim, long internal) {
        for (String proj : List.of("q_proj", "k_proj", "v_proj")) {
            out.put(p + proj + ".weight", new long[] {internal, dim});
            out.put(p + proj + ".bias", new long[] {internal});
        }
        out.put(p + "out_proj.weight", new long[] {dim, internal});
        out.put(p + "out_proj.bias", new long[] {dim});
    }

    private static void mlp(Map<String, long[]> out, String p, long[] widths) {
        for (int i = 0; i + 1 < widths.length; i++) {
            out.put(p + "layers." + i + ".weight", new long[] {widths[i + 1], widths[i]});
            out.put(p + "layers." + i + ".bias", new long[] {widths[i + 1]});
        }
    }

    /**
     * The random state dict of {@code shape} in {@code dtype} (F32, F16 or BF16). The same seed gives the same values
     * (up to the dtype's rounding).
     */
    public static Checkpoint checkpoint(Shape shape, DType dtype, long seed) {
        if (!dtype.isWeightType()) {
            throw new IllegalArgumentException("weights must be " + DType.weightTypeNames() + ", got " + dtype);
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes(shape).entrySet()) {
            tensors.put(e.getKey(), fill(e.getKey(), e.getValue(), dtype, seed));
        }
        return new InMemoryCheckpoint("<random SAM>", tensors);
    }

    private static Tensor fill(String key, long[] shape, DType dtype, long seed) {
        boolean norm = key.contains("norm") || key.matches(".*(neck\\.[13]|mask_downscaling\\.[14]|output_upscaling\\.1)\\..*");
        float center = norm && key.endsWith("weight") ? 1f : 0f;
        float spread;
        if (norm || key.endsWith("bias")) {
            spread = 0.1f;
        } else if (shape.length >= 2 && !key.endsWith("pos_embed") && !key.contains("rel_pos")
                && !key.contains("gaussian")) {
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) {
                fanIn *= shape[i];
            }
            spread = (float) (1 / Math.sqrt(key.contains("output_upscaling") ? shape[0] : fanIn));
        } else {
            spread = 0.5f;
        }
        Tensor t = Tensor.zeros(dtype, shape);
        MemorySegment s = t.segment();
        long n = t.numel();
        long streamSeed = seed * 0x9E3779B97F4A7C15L + key.hashCode();
        int chunk = 1 << 16;
        int chunks = Math.toIntExact((n + chunk - 1) / chunk);
        ComputePool.parallelFor(chunks, 1, (from, to) -> {
            for (int c = from; c < to; c++) {
                SplittableRandom rng = new SplittableRandom(streamSeed + c * 0x632BE59BD9B4E019L);
                long end = Math.min(n, (long) (c + 1) * chunk);
                for (long i = (long) c * chunk; i < end; i++) {
                    float v = center + spread * (float) (2 * rng.nextDouble() - 1);
                    switch (dtype) {
                        case F32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
                        case F16 -> s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.floatToF16(v));
                        default -> s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.floatToBf16(v));
                    }
                }
            }
        });
        return t;
    }
}
