package osprey4j.model.sam;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.CheckpointException;
import osprey4j.core.kernels.Activations;
import osprey4j.core.kernels.Attention;
import osprey4j.core.kernels.BlockedAttention;
import osprey4j.core.kernels.ChannelLayout;
import osprey4j.core.kernels.Conv2d;
import osprey4j.core.kernels.Gemm;
import osprey4j.core.kernels.Norms;
import osprey4j.core.kernels.RelativePositionBias;
import osprey4j.core.kernels.Residual;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * SAM's image encoder ({@code ImageEncoderViT}, the ViTDet backbone): a ViT over 16 x 16 patches with absolute
 * position embeddings, blocks of windowed or global multi-head attention with decomposed relative position
 * biases, and a neck that maps to the prompt width.
 *
 * <pre>
 * x     = patch_embed(pixels) + pos_embed                       [64*64, D]  (ViT-B: D = 768)
 * block: x = x + proj(attention(window_partition(norm1(x))))    windows of 14 x 14 (zero padded), or global
 *        x = x + lin2(GELU(lin1(norm2(x))))
 * neck  = LayerNorm2d(conv3x3(LayerNorm2d(conv1x1(x))))        [256, 64, 64]
 * </pre>
 * Everything comes from the weights' shapes: width and depth, patch size, the input size (pos_embed's grid times
 * the patch), head dim (the relative position tables' width), window size and which blocks are global (their
 * table lengths, 2 * window - 1 or 2 * grid - 1), MLP width and neck width. LayerNorm eps 1e-6 (the official
 * builder's; it is not in checkpoints). Activations are channels-last rows [H*W, D]; weights are read in place.
 */
public final class SamImageEncoder {
    static final float EPS = 1e-6f;
    /**
     * From this many keys on, attention runs as blocked GEMMs ({@link BlockedAttention}): ViT-B's 14 x 14 windows
     * (196 keys) and global blocks (4096) both do; measured on ViT-B, the GEMM path halves attention's share of the
     * encoder's time against the one-dot-product-per-key kernel even at 196 keys.
     */
    static final int BLOCKED_ATTENTION_KEYS = 128;
    private static final String P = "image_encoder.";

    /** One ViT block; fields named after the reference's keys. */
    private record Block(Tensor norm1Weight, Tensor norm1Bias, Tensor qWeight, Tensor kWeight, Tensor vWeight,
                         Tensor qBias, Tensor kBias, Tensor vBias, Tensor projWeight, Tensor projBias,
                         Tensor relPosH, Tensor relPosW, Tensor norm2Weight, Tensor norm2Bias,
                         Tensor lin1Weight, Tensor lin1Bias, Tensor lin2Weight, Tensor lin2Bias, int windowSize) {
    }

    private final Tensor patchEmbedWeight;
    private final Tensor patchEmbedBias;
    private final Tensor posEmbed;
    private final List<Block> blocks;
    private final int heads;
    private final Tensor neck0Rows;
    private final Tensor neck1Weight;
    private final Tensor neck1Bias;
    private final Tensor neck2Rows;
    private final Tensor neck3Weight;
    private final Tensor neck3Bias;
    private final int patch;
    private final int grid;
    private int blockedAttentionKeys = BLOCKED_ATTENTION_KEYS;

    private SamImageEncoder(Tensor patchEmbedWeight, Tensor patchEmbedBias, Tensor posEmbed, List<Block> blocks,
                            int heads, Tensor neck0Rows, Tensor neck1Weight, Tensor neck1Bias, Tensor neck2Rows,
                            Tensor neck3Weight, Tensor neck3Bias) {
        this.patchEmbedWeight = patchEmbedWeight;
        this.patchEmbedBias = patchEmbedBias;
        this.posEmbed = posEmbed;
        this.blocks = blocks;
        this.heads = heads;
        this.neck0Rows = neck0Rows;
        this.neck1Weight = neck1Weight;
        this.neck1Bias = neck1Bias;
        this.neck2Rows = neck2Rows;
        this.neck3Weight = neck3Weight;
        this.neck3Bias = neck3Bias;
        this.patch = patchEmbedWeight.size(2);
        this.grid = posEmbed.size(1);
    }

    /** Reads the encoder from a SAM state dict (keys {@code image_encoder.*}). */
    static SamImageEncoder load(Checkpoint ckpt) {
        long[] pe = SamWeights.shape(ckpt, P + "patch_embed.proj.weight", 4);
        long width = pe[0], patch = pe[2];
        if (pe[1] != 3 || pe[3] != patch) {
            throw new CheckpointException("'" + P + "patch_embed.proj.weight' is " + Arrays.toString(pe)
                    + ", not [D, 3, p, p]");
        }
        long[] pos = SamWeights.shape(ckpt, P + "pos_embed", 4);
        long grid = pos[1];
        Tensor posEmbed = ckpt.weight(P + "pos_embed", 1, grid, grid, width);
        List<Block> blocks = new ArrayList<>();
        int heads = -1;
        for (int i = 0; ckpt.contains(P + "blocks." + i + ".norm1.weight"); i++) {
            String b = P + "blocks." + i + ".";
            long[] rel = SamWeights.shape(ckpt, b + "attn.rel_pos_h", 2);
            long headDim = rel[1];
            if (headDim <= 0 || width % headDim != 0) {
                throw new CheckpointException("'" + b + "attn.rel_pos_h' has head dim " + headDim + ", which does not divide "
                        + width);
            }
            int h = Math.toIntExact(width / headDim);
            if (heads >= 0 && h != heads) {
                throw new CheckpointException("'" + b + "attn.rel_pos_h' gives " + h + " heads, earlier blocks " + heads);
            }
            heads = h;
            long span = (rel[0] + 1) / 2;
            if (rel[0] % 2 == 0 || span > grid) {
                throw new CheckpointException("'" + b + "attn.rel_pos_h' has " + rel[0] + " rows: not 2 * window - 1 for a window"
                        + " of at most the " + grid + " grid");
            }
            int window = span == grid ? 0 : Math.toIntExact(span);
            Tensor qkvW = ckpt.weight(b + "attn.qkv.weight", 3 * width, width);
            Tensor qkvB = ckpt.weight(b + "attn.qkv.bias", 3 * width);
            long hidden = SamWeights.shape(ckpt, b + "mlp.lin1.weight", 2)[0];
            blocks.add(new Block(
                    ckpt.weight(b + "norm1.weight", width), ckpt.weight(b + "norm1.bias", width),
                    qkvW.slice(0, width), qkvW.slice(width, 2 * width), qkvW.slice(2 * width, 3 * width),
                    qkvB.slice(0, width), qkvB.slice(width, 2 * width), qkvB.slice(2 * width, 3 * width),
                    ckpt.weight(b + "attn.proj.weight", width, width), ckpt.weight(b + "attn.proj.bias", width),
                    ckpt.weight(b + "attn.rel_pos_h", rel[0], headDim), ckpt.weight(b + "attn.rel_pos_w", rel[0], headDim),
                    ckpt.weight(b + "norm2.weight", width), ckpt.weight(b + "norm2.bias", width),
                    ckpt.weight(b + "mlp.lin1.weight", hidden, width), ckpt.weight(b + "mlp.lin1.bias", hidden),
                    ckpt.weight(b + "mlp.lin2.weight", width, hidden), ckpt.weight(b + "mlp.lin2.bias", width),
                    window));
        }
        if (blocks.isEmpty()) {
            throw new CheckpointException("no image encoder blocks ('" + P + "blocks.0.norm1.weight')");
        }
        long out = SamWeights.shape(ckpt, P + "neck.0.weight", 4)[0];
        Tensor neck0 = ckpt.weight(P + "neck.0.weight", out, width, 1, 1);
        Tensor neck2 = ckpt.weight(P + "neck.2.weight", out, out, 3, 3);
        return new SamImageEncoder(ckpt.weight(P + "patch_embed.proj.weight", width, 3, patch, patch),
                ckpt.weight(P + "patch_embed.proj.bias", width), posEmbed, List.copyOf(blocks), heads,
                neck0.reshape(out, width), ckpt.weight(P + "neck.1.weight", out), ckpt.weight(P + "neck.1.bias", out),
                Conv2d.filtersTapMajor(neck2), ckpt.weight(P + "neck.3.weight", out), ckpt.weight(P + "neck.3.bias", out));
    }

    /**
     * This encoder (same weights) running attention over at least {@code keys} keys as blocked GEMMs: the same
     * attention up to summation order (for tests of that path on small grids).
     */
    SamImageEncoder withBlockedAttentionFrom(int keys) {
        SamImageEncoder e = new SamImageEncoder(patchEmbedWeight, patchEmbedBias, posEmbed, blocks, heads, neck0Rows,
                neck1Weight, neck1Bias, neck2Rows, neck3Weight, neck3Bias);
        e.blockedAttentionKeys = keys;
        return e;
    }

    /** The square input side ({@code img_size}: 1024 for the official models). */
    public int imageSize() {
        return grid * patch;
    }

    /** The embedding grid side (64). */
    public int grid() {
        return grid;
    }

    /** The output channels (the prompt width, 256). */
    public int outChannels() {
        return neck0Rows.size(0);
    }

    /** ViT width, depth, heads and the global blocks, for messages. */
    public String describe() {
        List<Integer> global = new ArrayList<>();
        int window = 0;
        for (int i = 0; i < blocks.size(); i++) {
            if (blocks.get(i).windowSize() == 0) {
                global.add(i);
            } else {
                window = blocks.get(i).windowSize();
            }
        }
        return "ViT width " + patchEmbedWeight.size(0) + ", depth " + blocks.size() + ", " + heads + " heads, window "
                + window + ", global blocks " + global;
    }

    /** The encoder's steps, for {@link Timings}. */
    public enum Op {
        PATCH_EMBED, NORM, QKV, REL_POS, ATTENTION, PROJ, MLP, WINDOWS, NECK
    }

    /** Wall-clock time per kind of step, summed over forward passes. Not thread-safe; one forward at a time. */
    public static final class Timings {
        private final long[] nanos = new long[Op.values().length];

        long add(Op op, long since) {
            long now = System.nanoTime();
            nanos[op.ordinal()] += now - since;
            return now;
        }

        /** Seconds spent in {@code op}. */
        public double seconds(Op op) {
            return nanos[op.ordinal()] / 1e9;
        }
    }

    /** {@link #forward(Tensor, Timings)} without timings. */
    public Tensor forward(Tensor pixels) {
        return forward(pixels, null);
    }

    /**
     * Encodes a preprocessed image, adding the time of each step to {@code timings} when it is not null.
     *
     * @param pixels F32 [3, S, S] with S = {@link #imageSize()} (normalised and padded)
     * @return F32 [C, grid, grid], the image embedding
     */
    public Tensor forward(Tensor pixels, Timings timings) {
        Objects.requireNonNull(pixels, "pixels");
        int s = imageSize();
        if (pixels.dtype() != DType.F32 || pixels.rank() != 3 || pixels.dim(0) != 3 || pixels.dim(1) != s
                || pixels.dim(2) != s) {
            throw new IllegalArgumentException("SAM's image encoder takes F32 [3, " + s + ", " + s + "], got " + pixels);
        }
        Step step = new Step(timings);
        Tensor x = Conv2d.patchify(pixels, patchEmbedWeight, patchEmbedBias);
        Residual.add(posEmbed.to(DType.F32).reshape((long) grid * grid, x.dim(1)), x);
        step.done(Op.PATCH_EMBED);
        for (Block b : blocks) {
            block(b, x, step);
        }
        Tensor y = Gemm.linear(x, neck0Rows, null);
        Norms.layerNorm(y, neck1Weight, neck1Bias, EPS);
        Tensor z = Gemm.linear(Conv2d.samePatchRows(y, grid, grid, 3), neck2Rows, null);
        Norms.layerNorm(z, neck3Weight, neck3Bias, EPS);
        Tensor out = ChannelLayout.toChannelsFirst(z, grid, grid);
        step.done(Op.NECK);
        return out;
    }

    /** Adds the time since the previous step to the timings, when there are timings. */
    private static final class Step {
        private final Timings timings;
        private long last = System.nanoTime();

        Step(Timings timings) {
            this.timings = timings;
        }

        void done(Op op) {
            if (timings != null) {
                last = timings.add(op, last);
            }
        }
    }

    private void block(Block b, Tensor x, Step step) {
        Tensor normed = Tensor.zeros(DType.F32, x.shape());
        Norms.layerNorm(x, b.norm1Weight(), b.norm1Bias(), EPS, normed);
        step.done(Op.NORM);
        Tensor attended;
        if (b.windowSize() == 0) {
            attended = attention(b, normed, grid, grid, 1, step);
        } else {
            int ws = b.windowSize();
            int across = (grid + ws - 1) / ws;
            Tensor windows = Windows.partition(normed, grid, ws);
            step.done(Op.WINDOWS);
            Tensor a = attention(b, windows, ws, ws, across * across, step);
            attended = Windows.unpartition(a, grid, ws);
            step.done(Op.WINDOWS);
        }
        Residual.add(attended, x);
        Norms.layerNorm(x, b.norm2Weight(), b.norm2Bias(), EPS, normed);
        step.done(Op.NORM);
        Tensor hidden = Gemm.linear(normed, b.lin1Weight(), b.lin1Bias());
        Activations.gelu(hidden);
        Residual.add(Gemm.linear(hidden, b.lin2Weight(), b.lin2Bias()), x);
        step.done(Op.MLP);
    }

    /** Multi-head attention with the decomposed relative position bias, run on each of {@code count} h x w grids. */
    private Tensor attention(Block b, Tensor rows, int h, int w, int count, Step step) {
        Tensor q = Gemm.linear(rows, b.qWeight(), b.qBias());
        Tensor k = Gemm.linear(rows, b.kWeight(), b.kBias());
        Tensor v = Gemm.linear(rows, b.vWeight(), b.vBias());
        step.done(Op.QKV);
        Tensor out = Tensor.zeros(DType.F32, rows.shape());
        int n = h * w;
        int headDim = Math.toIntExact(rows.dim(1) / heads);
        Attention.Workspace ws = new Attention.Workspace(n, headDim);
        for (int i = 0; i < count; i++) {
            Tensor qi = q.slice((long) i * n, (long) (i + 1) * n);
            RelativePositionBias.Factors bias = RelativePositionBias.compute(qi, h, w, heads, b.relPosH(), b.relPosW());
            step.done(Op.REL_POS);
            Tensor ki = k.slice((long) i * n, (long) (i + 1) * n), vi = v.slice((long) i * n, (long) (i + 1) * n);
            Tensor oi = out.slice((long) i * n, (long) (i + 1) * n);
            if (n >= blockedAttentionKeys) {
                BlockedAttention.attend(qi, ki, vi, heads, bias.scoreBias(), oi);
            } else {
                Attention.attend(qi, ki, vi, heads, heads, Attention.NOT_CAUSAL, bias.scoreBias(), ws, oi);
            }
            step.done(Op.ATTENTION);
        }
        Tensor projected = Gemm.linear(out, b.projWeight(), b.projBias());
        step.done(Op.PROJ);
        return projected;
    }

    /** The reference's {@code window_partition} / {@code window_unpartition} on channels-last rows. */
    static final class Windows {
        private Windows() {
        }

        /** [grid*grid, C] to [windows * ws * ws, C], zero padded to whole windows, windows row-major. */
        static Tensor partition(Tensor x, int grid, int ws) {
            int across = (grid + ws - 1) / ws;
            int c = x.size(1);
            Tensor out = Tensor.zeros(DType.F32, (long) across * across * ws * ws, c);
            long run = (long) c * Float.BYTES;
            for (int y = 0; y < grid; y++) {
                for (int xx = 0; xx < grid; xx++) {
                    long dst = (((long) (y / ws) * across + xx / ws) * ws * ws + (long) (y % ws) * ws + xx % ws);
                    MemorySegment.copy(x.segment(), ((long) y * grid + xx) * run, out.segment(),
                            dst * run, run);
                }
            }
            return out;
        }

        /** The inverse of {@link #partition}, dropping the padding. */
        static Tensor unpartition(Tensor windows, int grid, int ws) {
            int across = (grid + ws - 1) / ws;
            int c = windows.size(1);
            Tensor out = Tensor.zeros(DType.F32, (long) grid * grid, c);
            long run = (long) c * Float.BYTES;
            for (int y = 0; y < grid; y++) {
                for (int xx = 0; xx < grid; xx++) {
                    long src = (((long) (y / ws) * across + xx / ws) * ws * ws + (long) (y % ws) * ws + xx % ws);
                    MemorySegment.copy(windows.segment(), src * run, out.segment(),
                            ((long) y * grid + xx) * run, run);
                }
            }
            return out;
        }
    }
}
