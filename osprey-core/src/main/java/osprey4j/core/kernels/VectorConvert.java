package osprey4j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Floats;

/**
 * The one place where data of a floating dtype is read as floats: {@link #toFloats} (a row or any run of
 * elements), {@link #scalar} (one element) for every floating dtype including the block-quantised Q8_0 and
 * Q4_0 (dequantised as GGML does), and {@link #load} (a {@link FloatVector} of F32, BF16 or F16, the 16-bit
 * formats converted in registers). The kernels that read weights in their checkpoint dtype use these so
 * that a BF16 or F16 matrix is never expanded to a full F32 copy; {@code Tensor}'s element reads go
 * through here too.
 *
 * <p>Every load is little-endian and unaligned-safe (checkpoint data need not be aligned).
 */
public final class VectorConvert {
    /** The float species all kernels compute with (16 lanes with AVX-512). */
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Int lanes of the same width, used for the bit manipulation of the 16-bit conversions. */
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Half-width short vectors: as many 16-bit lanes as {@link #F} has float lanes. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));

    /** As many byte lanes as {@link #F} has float lanes, or null where that is no vector shape (under 8 lanes). */
    static final VectorSpecies<Byte> B = F.length() >= 8
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8)) : null;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    /** 2^112: rescales a half's exponent (bias 15) placed in a float's exponent field (bias 127). */
    private static final float HALF_EXPONENT_SCALE = 0x1p112f;

    private VectorConvert() {
    }

    /** Lanes in one float vector. */
    public static int lanes() {
        return F.length();
    }

    /** {@link #lanes()} consecutive elements of {@code dtype} starting at element {@code index}, as floats. */
    public static FloatVector load(DType dtype, MemorySegment seg, long index) {
        return switch (dtype) {
            case F32 -> FloatVector.fromMemorySegment(F, seg, index * 4, LE);
            case BF16 -> bf16(seg, index * 2);
            case F16 -> f16(seg, index * 2);
            default -> throw new IllegalArgumentException("no float vector load for dtype " + dtype);
        };
    }

    /** BF16 lanes at {@code byteOffset}: each bf16 is the top half of a float, so widen and shift. */
    public static FloatVector bf16(MemorySegment seg, long byteOffset) {
        return bf16Bits(ShortVector.fromMemorySegment(S, seg, byteOffset, LE));
    }

    /** IEEE half lanes at {@code byteOffset}. */
    public static FloatVector f16(MemorySegment seg, long byteOffset) {
        return f16Bits(ShortVector.fromMemorySegment(S, seg, byteOffset, LE));
    }

    private static FloatVector bf16Bits(ShortVector bits) {
        IntVector wide = (IntVector) bits.convertShape(VectorOperators.S2I, I, 0);
        return wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * Half to float without a hardware conversion op in the Vector API, branch- and blend-free: move exponent
     * and mantissa into a float's fields (shift by 13) and multiply by 2^112 to rebias the exponent; the
     * multiply also turns half subnormals into the right float normals. For infinities and NaNs (half exponent
     * 31, which the multiply leaves at float exponent 143) the float exponent bits are then all set by an OR
     * with a mask that is all ones exactly when the half exponent is 31 ((e + 1) << 26 reaches the sign bit
     * only for e = 31); the mantissa is kept, so NaNs stay NaNs. The sign goes back last. Exact for every
     * half value.
     */
    private static FloatVector f16Bits(ShortVector bits) {
        IntVector h = (IntVector) bits.convertShape(VectorOperators.S2I, I, 0); // sign-extended; masked below
        IntVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector scaled = magnitude.reinterpretAsFloats().mul(HALF_EXPONENT_SCALE).reinterpretAsInts();
        IntVector infOrNan = magnitude.lanewise(VectorOperators.LSHR, 23).add(1)
                .lanewise(VectorOperators.LSHL, 26).lanewise(VectorOperators.ASHR, 31).and(0x7F800000);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return scaled.or(infOrNan).or(sign).reinterpretAsFloats();
    }

    /**
     * Converts {@code count} elements of {@code dtype} starting at element {@code index} of {@code seg} into
     * {@code dst[dstOffset..]}: a row load. Any floating dtype; a block-quantised run may start and end
     * inside a block.
     */
    public static void toFloats(DType dtype, MemorySegment seg, long index, float[] dst, int dstOffset, int count) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(seg, F32, index * 4, dst, dstOffset, count);
            case BF16, F16 -> {
                int lanes = F.length();
                int i = 0;
                for (; i <= count - lanes; i += lanes) {
                    load(dtype, seg, index + i).intoArray(dst, dstOffset + i);
                }
                for (; i < count; i++) {
                    dst[dstOffset + i] = scalar(dtype, seg, index + i);
                }
            }
            case Q8_0, Q4_0 -> blocksToFloats(dtype, seg, index, dst, dstOffset, count);
            default -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = scalar(dtype, seg, index + i);
                }
            }
        }
    }

    /**
     * Rounds {@code count} F32 values at byte {@code srcOffset} of {@code src} to {@code dtype} (BF16 or F16) at byte
     * {@code dstOffset} of {@code dst}: the row store, bit for bit {@link Floats#floatToBf16} (nearest-even, a NaN
     * kept as a quiet NaN) or {@link Float#floatToFloat16}. BF16 runs in vectors (add the rounding bias, keep the top
     * half, narrow to shorts); F16 one value at a time, through the JIT's scalar half conversion (the Vector API has no
     * float-to-half lane operation).
     */
    public static void fromFloats(DType dtype, MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset,
                                  long count) {
        switch (dtype) {
            case BF16 -> {
                long i = 0;
                for (; i <= count - F.length(); i += F.length()) {
                    IntVector bits = FloatVector.fromMemorySegment(F, src, srcOffset + i * 4, LE).reinterpretAsInts();
                    IntVector top = bits.lanewise(VectorOperators.LSHR, 16);
                    IntVector rounded = bits.add(top.and(1).add(0x7FFF)).lanewise(VectorOperators.LSHR, 16);
                    VectorMask<Integer> nan = bits.and(0x7FFFFFFF).compare(VectorOperators.GT, 0x7F800000);
                    ((ShortVector) rounded.blend(top.or(0x0040), nan).convertShape(VectorOperators.I2S, S, 0))
                            .intoMemorySegment(dst, dstOffset + i * 2, LE);
                }
                for (; i < count; i++) {
                    dst.set(I16, dstOffset + i * 2, Floats.floatToBf16(src.get(F32, srcOffset + i * 4)));
                }
            }
            case F16 -> {
                for (long i = 0; i < count; i++) {
                    dst.set(I16, dstOffset + i * 2, Float.floatToFloat16(src.get(F32, srcOffset + i * 4)));
                }
            }
            default -> throw new IllegalArgumentException("no 16-bit rounding to " + dtype);
        }
    }

    /** One element of a floating dtype as float. */
    public static float scalar(DType dtype, MemorySegment seg, long index) {
        return switch (dtype) {
            case F32 -> seg.getAtIndex(F32, index);
            case BF16 -> Float.intBitsToFloat((seg.getAtIndex(I16, index) & 0xFFFF) << 16);
            case F16 -> Float.float16ToFloat(seg.getAtIndex(I16, index));
            case F64 -> (float) seg.getAtIndex(F64, index);
            case Q8_0, Q4_0 -> {
                long block = index / QK;
                long base = block * dtype.blockBytes();
                yield Float.float16ToFloat(seg.get(I16, base)) * quant(dtype, seg, base, (int) (index - block * QK));
            }
            default -> throw new IllegalArgumentException("not a floating dtype: " + dtype);
        };
    }

    /** Elements per block of Q8_0 and Q4_0. */
    private static final int QK = 32;

    /**
     * Q8_0 / Q4_0 elements [index, index + count) as floats, a block at a time: each weight is its block's f16
     * scale times its quant, {@code d * q} in float, as GGML's {@code dequantize_row_q8_0/q4_0}.
     */
    private static void blocksToFloats(DType dtype, MemorySegment seg, long index, float[] dst, int dstOffset,
                                       int count) {
        long end = index + count;
        long e = index;
        while (e < end) {
            long block = e / QK;
            long first = block * QK;
            int from = (int) (e - first);
            int to = (int) Math.min(QK, end - first);
            long base = block * dtype.blockBytes();
            float d = Float.float16ToFloat(seg.get(I16, base));
            int out = dstOffset + (int) (first - index);
            if (from == 0 && to == QK && B != null) {
                // A whole block: quants widened to floats in registers, times d (the same float product as below).
                int lanes = F.length();
                if (dtype == DType.Q8_0) {
                    for (int p = 0; p < QK; p += lanes) {
                        ((FloatVector) ByteVector.fromMemorySegment(B, seg, base + 2 + p, LE)
                                .convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, out + p);
                    }
                } else {
                    for (int p = 0; p < QK / 2; p += lanes) {
                        ByteVector packed = ByteVector.fromMemorySegment(B, seg, base + 2 + p, LE);
                        ((FloatVector) packed.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                                .mul(d).intoArray(dst, out + p);
                        ((FloatVector) packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8)
                                .convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, out + QK / 2 + p);
                    }
                }
            } else {
                for (int i = from; i < to; i++) {
                    dst[out + i] = d * quant(dtype, seg, base, i);
                }
            }
            e = first + to;
        }
    }

    /** The integer quant of weight {@code i} of the block at byte {@code base}. */
    private static int quant(DType dtype, MemorySegment seg, long base, int i) {
        if (dtype == DType.Q8_0) {
            return seg.get(ValueLayout.JAVA_BYTE, base + 2 + i);
        }
        int packed = seg.get(ValueLayout.JAVA_BYTE, base + 2 + (i & 15)) & 0xFF;
        return (i < 16 ? packed & 0x0F : packed >>> 4) - 8;
    }
}
