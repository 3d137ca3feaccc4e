package osprey4j.train.export;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import osprey4j.model.llm.LlamaConfig;

/**
 * The dimensions of an Osprey model and, from them, every tensor name and shape of the reference's state dict
 * ({@code OspreyLlamaForCausalLM.state_dict()} as {@code save_pretrained} writes it) and of the open_clip CLIP
 * file the reference's vision tower loads ({@code visual.*}).
 *
 * <p>Osprey-7B is {@link LlamaConfig} Vicuna-7B, ConvNeXt-Large (depths 3/3/27/3, dims 192/384/768/1536),
 * an open_clip head of 1536 -> 1536 -> 768 (never run by Osprey, but part of both files), a 1024-wide mask
 * feature, a 112x112 mask grid whose MLP has 1024-wide hidden layers, and an {@code mlp2x_gelu} projector from
 * res4 (768 channels) to the LLM width.
 *
 * @param llm             the language model ({@code config.json}'s LLaMA keys)
 * @param convDepths      ConvNeXt blocks per stage (4 stages)
 * @param convDims        ConvNeXt channels per stage; res4's ({@code convDims[2]}) is {@code mm_hidden_size}
 * @param clipHeadEmbed   open_clip's embedding width; its MLP head is dims[3] -> 2 x embed -> embed
 * @param maskEmbedDim    the mask feature width (1024 in the reference, hard-coded in its forward)
 * @param maskShape       the side of the mask grid the position MLP reads (112)
 * @param posHidden       the position MLP's hidden width (1024 in the reference)
 * @param projectorType   {@code mm_projector_type}: {@code linear} or {@code mlpNx_gelu}
 */
public record OspreyShape(LlamaConfig llm, int[] convDepths, int[] convDims, int clipHeadEmbed, int maskEmbedDim,
                          int maskShape, int posHidden, String projectorType) {
    /** Key prefix of the vision tower inside the Osprey weights. */
    public static final String TOWER_PREFIX = "model.vision_tower.vision_tower.";
    private static final Pattern MLP_GELU = Pattern.compile("^mlp(\\d+)x_gelu$");

    public OspreyShape {
        Objects.requireNonNull(llm, "llm");
        if (convDepths == null || convDepths.length != 4 || convDims == null || convDims.length != 4) {
            throw new IllegalArgumentException("ConvNeXt needs 4 stage depths and 4 stage widths");
        }
        for (int i = 0; i < 4; i++) {
            if (convDepths[i] <= 0 || convDims[i] <= 0) {
                throw new IllegalArgumentException("ConvNeXt stage " + i + " has depth " + convDepths[i] + " and width "
                        + convDims[i] + "; both must be positive");
            }
        }
        convDepths = convDepths.clone();
        convDims = convDims.clone();
        if (clipHeadEmbed <= 0 || maskEmbedDim <= 0 || maskShape <= 0 || posHidden <= 0) {
            throw new IllegalArgumentException("clip head, mask feature, mask grid and position MLP widths must be positive");
        }
        projectorLayers(projectorType);
    }

    @Override
    public int[] convDepths() {
        return convDepths.clone();
    }

    @Override
    public int[] convDims() {
        return convDims.clone();
    }

    /** {@code mm_hidden_size}: the projector reads res4, the third stage's output. */
    public int mmHiddenSize() {
        return convDims[2];
    }

    private static int projectorLayers(String type) {
        if ("linear".equals(type)) {
            return 1;
        }
        Matcher m = type == null ? null : MLP_GELU.matcher(type);
        if (m == null || !m.matches() || Integer.parseInt(m.group(1)) < 1) {
            throw new IllegalArgumentException("unknown projector type '" + type + "' (linear or mlpNx_gelu)");
        }
        return Integer.parseInt(m.group(1));
    }

    /**
     * The Osprey weights: LLM, the tower's copy under {@link #TOWER_PREFIX}, projector, mask extractor, in the
     * reference's order. The rotary {@code inv_freq} buffers are not listed: they are derived, and
     * {@link OfficialModelWriter} adds them as {@code save_pretrained} does.
     */
    public Map<String, long[]> ospreyTensors() {
        Map<String, long[]> out = new LinkedHashMap<>();
        int h = llm.hiddenSize();
        out.put("model.embed_tokens.weight", shape(llm.vocabSize(), h));
        for (int l = 0; l < llm.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            out.put(p + "self_attn.q_proj.weight", shape(h, h));
            out.put(p + "self_attn.k_proj.weight", shape(llm.kvDim(), h));
            out.put(p + "self_attn.v_proj.weight", shape(llm.kvDim(), h));
            out.put(p + "self_attn.o_proj.weight", shape(h, h));
            out.put(p + "mlp.gate_proj.weight", shape(llm.intermediateSize(), h));
            out.put(p + "mlp.up_proj.weight", shape(llm.intermediateSize(), h));
            out.put(p + "mlp.down_proj.weight", shape(h, llm.intermediateSize()));
            out.put(p + "input_layernorm.weight", shape(h));
            out.put(p + "post_attention_layernorm.weight", shape(h));
        }
        out.put("model.norm.weight", shape(h));
        clipTensors().forEach((k, v) -> out.put(TOWER_PREFIX + k, v));
        int layers = projectorLayers(projectorType);
        if (layers == 1 && projectorType.equals("linear")) {
            out.put("model.mm_projector.weight", shape(h, mmHiddenSize()));
            out.put("model.mm_projector.bias", shape(h));
        } else {
            for (int i = 0; i < layers; i++) {
                out.put("model.mm_projector." + (2 * i) + ".weight", shape(h, i == 0 ? mmHiddenSize() : h));
                out.put("model.mm_projector." + (2 * i) + ".bias", shape(h));
            }
        }
        if (!llm.tieWordEmbeddings()) {
            out.put("lm_head.weight", shape(llm.vocabSize(), h));
        }
        out.put("mask_extractor.feat_linear.weight", shape(h, maskEmbedDim));
        out.put("mask_extractor.feat_linear.bias", shape(h));
        int[] widths = {maskShape * maskShape, posHidden, posHidden, h};
        for (int i = 0; i < 3; i++) {
            out.put("mask_extractor.mask_linear.layers." + i + ".weight", shape(widths[i + 1], widths[i]));
            out.put("mask_extractor.mask_linear.layers." + i + ".bias", shape(widths[i + 1]));
        }
        for (int i = 0; i < 4; i++) {
            out.put("mask_extractor.res" + (i + 2) + ".weight", shape(maskEmbedDim, convDims[i]));
            out.put("mask_extractor.res" + (i + 2) + ".bias", shape(maskEmbedDim));
        }
        return out;
    }

    /** The open_clip CLIP file's vision part ({@code visual.trunk.*} and {@code visual.head.*}). */
    public Map<String, long[]> clipTensors() {
        Map<String, long[]> out = new LinkedHashMap<>();
        String t = "visual.trunk.";
        out.put(t + "stem.0.weight", shape(convDims[0], 3, 4, 4));
        out.put(t + "stem.0.bias", shape(convDims[0]));
        out.put(t + "stem.1.weight", shape(convDims[0]));
        out.put(t + "stem.1.bias", shape(convDims[0]));
        for (int s = 0; s < 4; s++) {
            int c = convDims[s];
            String stage = t + "stages." + s + ".";
            if (s > 0) {
                out.put(stage + "downsample.0.weight", shape(convDims[s - 1]));
                out.put(stage + "downsample.0.bias", shape(convDims[s - 1]));
                out.put(stage + "downsample.1.weight", shape(c, convDims[s - 1], 2, 2));
                out.put(stage + "downsample.1.bias", shape(c));
            }
            for (int b = 0; b < convDepths[s]; b++) {
                String p = stage + "blocks." + b + ".";
                out.put(p + "gamma", shape(c));
                out.put(p + "conv_dw.weight", shape(c, 1, 7, 7));
                out.put(p + "conv_dw.bias", shape(c));
                out.put(p + "norm.weight", shape(c));
                out.put(p + "norm.bias", shape(c));
                out.put(p + "mlp.fc1.weight", shape(4L * c, c));
                out.put(p + "mlp.fc1.bias", shape(4L * c));
                out.put(p + "mlp.fc2.weight", shape(c, 4L * c));
                out.put(p + "mlp.fc2.bias", shape(c));
            }
        }
        out.put(t + "head.norm.weight", shape(convDims[3]));
        out.put(t + "head.norm.bias", shape(convDims[3]));
        out.put("visual.head.mlp.fc1.weight", shape(2L * clipHeadEmbed, convDims[3]));
        out.put("visual.head.mlp.fc1.bias", shape(2L * clipHeadEmbed));
        out.put("visual.head.mlp.fc2.weight", shape(clipHeadEmbed, 2L * clipHeadEmbed));
        return out;
    }

    private static long[] shape(long... dims) {
        return dims;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OspreyShape s && llm.equals(s.llm) && Arrays.equals(convDepths, s.convDepths)
                && Arrays.equals(convDims, s.convDims) && clipHeadEmbed == s.clipHeadEmbed
                && maskEmbedDim == s.maskEmbedDim && maskShape == s.maskShape && posHidden == s.posHidden
                && projectorType.equals(s.projectorType);
    }

    @Override
    public int hashCode() {
        return Objects.hash(llm, Arrays.hashCode(convDepths), Arrays.hashCode(convDims), clipHeadEmbed, maskEmbedDim,
                maskShape, posHidden, projectorType);
    }

    @Override
    public String toString() {
        return "OspreyShape[llm=" + llm + ", convDepths=" + Arrays.toString(convDepths) + ", convDims="
                + Arrays.toString(convDims) + ", clipHeadEmbed=" + clipHeadEmbed + ", maskEmbedDim=" + maskEmbedDim
                + ", maskShape=" + maskShape + ", posHidden=" + posHidden + ", projectorType=" + projectorType + "]";
    }
}
