package osprey4j.model.vision;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Moves ConvNeXt activations between the two layouts its layers want: channels-first [C, H*W] for the
 * depthwise convolution and the feature maps, channels-last [H*W, C] for the block MLP, which is then one
 * GEMM over H*W rows.
 *
 * <p>Both directions walk square tiles of {@link #TILE} x {@link #TILE} elements: a tile is read with bulk copies of
 * contiguous runs into a small array (16 KiB, in L1), transposed there and written back as contiguous runs, so
 * memory is only touched in runs of TILE floats; tiles are spread over the compute pool.
 */
final class ChannelLayout {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int TILE = 64;

    private ChannelLayout() {
    }

    /** [C, H, W] (or [C, P]) F32 to a new [H*W, C] F32 tensor: one row of C channel values per pixel. */
    static Tensor toChannelsLast(Tensor channelsFirst) {
        int c = channelsFirst.size(0);
        int pixels = Math.toIntExact(channelsFirst.numel() / Math.max(1, c));
        Tensor out = Tensor.zeros(DType.F32, pixels, c);
        toChannelsLast(channelsFirst, out);
        return out;
    }

    /** Writes {@code dst}[p, c] = {@code src}[c, p]; src is [C, ...] F32 with P pixels, dst is [P, C] F32. */
    static void toChannelsLast(Tensor src, Tensor dst) {
        int c = dst.size(1);
        int pixels = dst.size(0);
        requireF32Layout(src, dst, c, pixels);
        MemorySegment in = src.segment();
        MemorySegment out = dst.segment();
        int cTiles = (c + TILE - 1) / TILE;
        int pTiles = (pixels + TILE - 1) / TILE;
        ComputePool.parallelFor(cTiles * pTiles, 4, (from, to) -> {
            float[] tile = new float[TILE * TILE];
            float[] row = new float[TILE];
            for (int t = from; t < to; t++) {
                int c0 = (t % cTiles) * TILE, p0 = (t / cTiles) * TILE;
                int cn = Math.min(c, c0 + TILE) - c0, pn = Math.min(pixels, p0 + TILE) - p0;
                // bulk-read cn channel runs of pn pixels, then write pn pixel runs of cn channels
                for (int i = 0; i < cn; i++) {
                    MemorySegment.copy(in, FLOAT, ((long) (c0 + i) * pixels + p0) * Float.BYTES, tile, i * TILE, pn);
                }
                for (int j = 0; j < pn; j++) {
                    for (int i = 0; i < cn; i++) {
                        row[i] = tile[i * TILE + j];
                    }
                    MemorySegment.copy(row, 0, out, FLOAT, ((long) (p0 + j) * c + c0) * Float.BYTES, cn);
                }
            }
        });
    }

    /**
     * The end of a ConvNeXt block: {@code residual}[c, p] = {@code mlp}[p, c] * {@code scale}[c] + {@code residual}[c, p],
     * i.e. timm's {@code x.permute(0, 3, 1, 2).mul(gamma.reshape(1, -1, 1, 1)) + shortcut} (multiply, then add,
     * each rounded to float as torch does).
     *
     * @param mlp      [P, C] channels-last block output
     * @param scale    C layer-scale factors
     * @param residual [C, H, W] channels-first stream, updated in place
     */
    static void addScaledToChannelsFirst(Tensor mlp, float[] scale, Tensor residual) {
        int c = mlp.size(1);
        int pixels = mlp.size(0);
        requireF32Layout(residual, mlp, c, pixels);
        if (scale.length != c) {
            throw new IllegalArgumentException(scale.length + " scale factors for " + c + " channels");
        }
        MemorySegment in = mlp.segment();
        MemorySegment res = residual.segment();
        int cTiles = (c + TILE - 1) / TILE;
        int pTiles = (pixels + TILE - 1) / TILE;
        ComputePool.parallelFor(cTiles * pTiles, 4, (from, to) -> {
            float[] tile = new float[TILE * TILE];
            float[] row = new float[TILE];
            for (int t = from; t < to; t++) {
                int c0 = (t % cTiles) * TILE, p0 = (t / cTiles) * TILE;
                int cn = Math.min(c, c0 + TILE) - c0, pn = Math.min(pixels, p0 + TILE) - p0;
                for (int j = 0; j < pn; j++) {
                    MemorySegment.copy(in, FLOAT, ((long) (p0 + j) * c + c0) * Float.BYTES, tile, j * TILE, cn);
                }
                for (int i = 0; i < cn; i++) {
                    long off = ((long) (c0 + i) * pixels + p0) * Float.BYTES;
                    MemorySegment.copy(res, FLOAT, off, row, 0, pn);
                    float g = scale[c0 + i];
                    for (int j = 0; j < pn; j++) {
                        float scaled = tile[j * TILE + i] * g;
                        row[j] = scaled + row[j];
                    }
                    MemorySegment.copy(row, 0, res, FLOAT, off, pn);
                }
            }
        });
    }

    private static void requireF32Layout(Tensor channelsFirst, Tensor channelsLast, int c, int pixels) {
        if (channelsFirst.dtype() != DType.F32 || channelsLast.dtype() != DType.F32) {
            throw new IllegalArgumentException("layout change needs F32 tensors, got " + channelsFirst + " and " + channelsLast);
        }
        if (channelsFirst.rank() < 1 || channelsFirst.dim(0) != c || channelsFirst.numel() != (long) c * pixels) {
            throw new IllegalArgumentException(channelsFirst + " is not a channels-first map of " + c
                    + " channels x " + pixels + " pixels");
        }
    }
}
