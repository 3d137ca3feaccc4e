package osprey4j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import osprey4j.core.concurrent.ComputePool;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * Moves F32 maps between channels-first [C, H, W] (feature maps as torch returns them) and channels-last
 * [H*W, C] rows (what a per-pixel {@link Gemm} or {@link Norms#layerNorm} works on).
 *
 * <p>Both directions are one {@link #transpose} that walks square tiles of {@link #TILE} x {@link #TILE}
 * elements: a tile is read with bulk copies of contiguous runs into a small array (16 KiB, in L1), transposed
 * there and written back as contiguous runs, so memory is only touched in runs of TILE floats; tiles are
 * spread over the compute pool.
 */
public final class ChannelLayout {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int TILE = 64;

    private ChannelLayout() {
    }

    /** [C, H, W] (or [C, P]) F32 to a new [H*W, C] F32 tensor: one row of C channel values per pixel. */
    public static Tensor toChannelsLast(Tensor channelsFirst) {
        int c = channelsFirst.size(0);
        int pixels = Math.toIntExact(channelsFirst.numel() / Math.max(1, c));
        Tensor out = Tensor.zeros(DType.F32, pixels, c);
        toChannelsLast(channelsFirst, out);
        return out;
    }

    /** Writes {@code dst}[p, c] = {@code src}[c, p]; src is [C, ...] F32 with P pixels, dst is [P, C] F32. */
    public static void toChannelsLast(Tensor src, Tensor dst) {
        int c = dst.size(1);
        int pixels = dst.size(0);
        requireF32Layout(src, dst, c, pixels);
        transpose(src.segment(), c, pixels, dst.segment());
    }

    /**
     * [P, C] F32 to a new [C, h, w] F32 map (P = h * w): the channels-last stream back to a channels-first feature map.
     */
    public static Tensor toChannelsFirst(Tensor channelsLast, long h, long w) {
        int c = channelsLast.size(1);
        int pixels = channelsLast.size(0);
        Tensor out = Tensor.zeros(DType.F32, c, h, w);
        requireF32Layout(out, channelsLast, c, pixels);
        transpose(channelsLast.segment(), pixels, c, out.segment());
        return out;
    }

    /**
     * {@code out}[j, i] = {@code in}[i, j] for an F32 matrix {@code in} of rows x cols: each tile's rows are
     * bulk-read into a small array, transposed there, and written out as contiguous runs.
     */
    private static void transpose(MemorySegment in, int rows, int cols, MemorySegment out) {
        int rTiles = (rows + TILE - 1) / TILE;
        int cTiles = (cols + TILE - 1) / TILE;
        ComputePool.parallelFor(rTiles * cTiles, 4, (from, to) -> {
            float[] tile = new float[TILE * TILE];
            float[] run = new float[TILE];
            for (int t = from; t < to; t++) {
                int r0 = (t % rTiles) * TILE, c0 = (t / rTiles) * TILE;
                int rn = Math.min(rows, r0 + TILE) - r0, cn = Math.min(cols, c0 + TILE) - c0;
                for (int i = 0; i < rn; i++) {
                    MemorySegment.copy(in, FLOAT, ((long) (r0 + i) * cols + c0) * Float.BYTES, tile, i * TILE, cn);
                }
                for (int j = 0; j < cn; j++) {
                    for (int i = 0; i < rn; i++) {
                        run[i] = tile[i * TILE + j];
                    }
                    MemorySegment.copy(run, 0, out, FLOAT, ((long) (c0 + j) * rows + r0) * Float.BYTES, rn);
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
