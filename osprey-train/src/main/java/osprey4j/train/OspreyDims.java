package osprey4j.train;

import java.util.Arrays;

/**
 * The shapes of a trainable Osprey: the LLaMA ({@code hidden}, {@code intermediate}, {@code layers},
 * {@code heads}, {@code kvHeads}, {@code vocab}, {@code rmsEps}, {@code ropeTheta}, {@code tied}), the
 * {@code mlpNx_gelu} projector ({@code projectorIn} = res4 channels, {@code projectorDepth} Linears), and the
 * mask extractor ({@code levelChannels} of res2..res5, the {@code maskEmbed} width of the per-level linears
 * (1024 in Osprey), the pos MLP's {@code posHidden} widths and its {@code maskGrid} (112)).
 */
public record OspreyDims(int hidden, int intermediate, int layers, int heads, int kvHeads, int vocab, float rmsEps,
                         double ropeTheta, boolean tied, int projectorIn, int projectorDepth, int[] levelChannels,
                         int maskEmbed, int[] posHidden, int maskGrid) {
    public OspreyDims {
        if (hidden <= 0 || intermediate <= 0 || layers < 0 || heads <= 0 || kvHeads <= 0 || vocab <= 0) {
            throw new IllegalArgumentException("LLM dimensions must be positive");
        }
        if (hidden % heads != 0 || (hidden / heads) % 2 != 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("hidden " + hidden + " / heads " + heads + " must be an even head size and heads a multiple of kv heads " + kvHeads);
        }
        if (levelChannels.length != 4) {
            throw new IllegalArgumentException("the mask extractor has four levels (res2..res5), got " + levelChannels.length);
        }
        if (projectorDepth < 1) {
            throw new IllegalArgumentException("projector depth must be at least 1");
        }
        levelChannels = levelChannels.clone();
        posHidden = posHidden.clone();
    }

    public int headDim() {
        return hidden / heads;
    }

    public int kvDim() {
        return kvHeads * headDim();
    }

    @Override
    public int[] levelChannels() {
        return levelChannels.clone();
    }

    @Override
    public int[] posHidden() {
        return posHidden.clone();
    }

    @Override
    public String toString() {
        return "OspreyDims[hidden=" + hidden + ", intermediate=" + intermediate + ", layers=" + layers + ", heads="
                + heads + "/" + kvHeads + ", vocab=" + vocab + ", tied=" + tied + ", projector=" + projectorIn + "x"
                + projectorDepth + ", levels=" + Arrays.toString(levelChannels) + ", maskEmbed=" + maskEmbed
                + ", posHidden=" + Arrays.toString(posHidden) + ", grid=" + maskGrid + "]";
    }
}
