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
 * <p>Both directions are one {@link #transpose} that walks square tiles of {@link #TILE} x {@link #TILE} elements: a tile is read with bulk copies of
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
        transpose(src.segment(), c, pixels, dst.segment());
    }

    /**
     * [P, C] F32 to a new [C, h, w] F32 map (P = h * w): the channels-last stream back to a channels-first feature map.
     */
    static Tensor toChannelsFirst(Tensor channelsLast, long h, long w) {
        int c = channelsLast.size(1);
        int pixels = channelsLast.size(0);
        Tensor out = Tensor.zeros(DType.F32, c, h, w);
        requireF32Layout(out, channelsLast, c, pixels);
        transpose(channelsLast.segment(), pixels, c, out.segment());
        return out;
    }

    /**
     * Gathers the k x k patches of a channels-last map into GEMM rows: {@code dst}[patch, (ky * k + kx) * C + c] =
     * {@code src}[(py * k + ky) * w + px * k + kx, c], so a k x k stride-k convolution is one product with its
     * filters reordered by {@link #filtersTapMajor}. Rows and columns that do not fill a patch are skipped, as torch does.
     *
     * @param src [h * w, C] F32
     * @param dst [(h / k) * (w / k), k * k * C] F32
     */
    static void patchRows(Tensor src, int h, int w, int k, Tensor dst) {
        int c = src.size(1);
        int oh = h / k, ow = w / k;
        if (src.dtype() != DType.F32 || dst.dtype() != DType.F32 || src.dim(0) != (long) h * w
                || dst.dim(0) != (long) oh * ow || dst.dim(1) != (long) k * k * c) {
            throw new IllegalArgumentException("cannot gather " + k + "x" + k + " patches of " + src + " (" + h + "x" + w
                    + ") into " + dst);
        }
        MemorySegment in = src.segment();
        MemorySegment out = dst.segment();
        long run = (long) c * Float.BYTES;
        ComputePool.parallelFor(oh, 1, (from, to) -> {
            for (int py = from; py < to; py++) {
                for (int px = 0; px < ow; px++) {
                    long rowOff = ((long) py * ow + px) * k * k * run;
                    for (int ky = 0; ky < k; ky++) {
                        for (int kx = 0; kx < k; kx++) {
                            long pixel = (long) (py * k + ky) * w + px * k + kx;
                            MemorySegment.copy(in, pixel * run, out, rowOff + (ky * k + kx) * run, run);
                        }
                    }
                }
            }
        });
    }

    /**
     * The k x k stride-k patches of a channels-first image [C, H, W] as GEMM rows [(H / k) * (W / k), C * k * k],
     * each in the (c, ky, kx) order of a [O, C, k, k] filter's flattening. Trailing rows and columns that do not
     * fill a patch are skipped, as torch does.
     */
    static Tensor imagePatchRows(Tensor image, int k) {
        if (image.dtype() != DType.F32 || image.rank() != 3) {
            throw new IllegalArgumentException("image must be F32 [C, H, W], got " + image);
        }
        int c = image.size(0), h = image.size(1), w = image.size(2);
        int oh = h / k, ow = w / k;
        Tensor out = Tensor.zeros(DType.F32, (long) oh * ow, (long) c * k * k);
        MemorySegment in = image.segment();
        MemorySegment dst = out.segment();
        long run = (long) k * Float.BYTES;
        ComputePool.parallelFor(oh, 1, (from, to) -> {
            for (int py = from; py < to; py++) {
                for (int px = 0; px < ow; px++) {
                    long rowOff = ((long) py * ow + px) * c * k * run;
                    for (int ch = 0; ch < c; ch++) {
                        for (int ky = 0; ky < k; ky++) {
                            long src = (((long) ch * h + (long) py * k + ky) * w + (long) px * k) * Float.BYTES;
                            MemorySegment.copy(in, src, dst, rowOff + (ch * k + ky) * run, run);
                        }
                    }
                }
            }
        });
        return out;
    }

    /**
     * Convolution filters [O, C, k, k] (any dtype) reordered to [O, k * k * C], tap-major, the column order of
     * {@link #patchRows}; a new tensor of the same dtype.
     */
    static Tensor filtersTapMajor(Tensor filters) {
        int o = filters.size(0), c = filters.size(1), k = filters.size(2);
        Tensor out = Tensor.zeros(filters.dtype(), o, (long) k * k * c);
        long e = filters.dtype().byteSize();
        MemorySegment in = filters.segment();
        MemorySegment dst = out.segment();
        int kk = k * k;
        for (int oc = 0; oc < o; oc++) {
            long base = (long) oc * c * kk;
            for (int ch = 0; ch < c; ch++) {
                for (int t = 0; t < kk; t++) {
                    MemorySegment.copy(in, (base + (long) ch * kk + t) * e, dst, (base + (long) t * c + ch) * e, e);
                }
            }
        }
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
