package osprey4j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;

/**
 * A matrix of {@code rows} x {@code width} F32, BF16, F16 or Q8_0 elements kept in pages of {@code pageRows}
 * consecutive rows: row r is row {@code r % pageRows} of page {@code r / pageRows}, each page row-major with a row
 * stride of {@code width} elements (Q8_0: {@code width / 32} blocks of 34 bytes, so width is a whole number of
 * blocks). This is how a KV cache holds its keys and values, so that caches can share the pages of a
 * common prompt prefix instead of copying them, and grow a page at a time. A plain tensor is one page
 * ({@link #of(Tensor)}).
 *
 * @param dtype    F32, BF16, F16 or Q8_0
 * @param width    elements per row
 * @param pageRows rows per page (the last page may hold fewer valid rows)
 * @param pages    at least {@code ceil(rows / pageRows)} pages, each long enough for its valid rows
 * @param rows     valid rows
 */
public record PagedRows(DType dtype, long width, int pageRows, MemorySegment[] pages, int rows) {
    public PagedRows {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(pages, "pages");
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16 && dtype != DType.Q8_0) {
            throw new IllegalArgumentException("paged rows hold F32, BF16, F16 or Q8_0, not " + dtype);
        }
        if (width < 0 || rows < 0 || pageRows <= 0) {
            throw new IllegalArgumentException("paged rows need width >= 0, rows >= 0 and pageRows > 0, got width "
                    + width + ", rows " + rows + ", pageRows " + pageRows);
        }
        if (width % dtype.blockSize() != 0) {
            throw new IllegalArgumentException("rows of " + width + " elements are not whole " + dtype + " blocks of "
                    + dtype.blockSize());
        }
        int needed = Math.ceilDiv(rows, pageRows);
        if (pages.length < needed) {
            throw new IllegalArgumentException(rows + " rows in pages of " + pageRows + " need " + needed
                    + " pages, got " + pages.length);
        }
        long rowBytes = dtype.bytesFor(width);
        for (int p = 0; p < needed; p++) {
            long valid = Math.min(pageRows, rows - (long) p * pageRows);
            if (pages[p] == null || pages[p].byteSize() < valid * rowBytes) {
                throw new IllegalArgumentException("page " + p + " holds " + (pages[p] == null ? "nothing" : pages[p]
                        .byteSize() + " bytes") + ", its " + valid + " rows need " + valid * rowBytes);
            }
        }
    }

    /** A row tensor [rows, ...] (the trailing dimensions make the row) as a single page. */
    public static PagedRows of(Tensor t) {
        if (t.rank() < 2) {
            throw new IllegalArgumentException("paged rows need a row tensor, got " + t);
        }
        int rows = t.size(0);
        return new PagedRows(t.dtype(), rowWidth(t), Math.max(rows, 1), new MemorySegment[] {t.segment()}, rows);
    }

    /** Elements of one row of a tensor [rows, ...]: the product of its trailing dimensions. */
    static long rowWidth(Tensor t) {
        long n = 1;
        for (int i = 1; i < t.rank(); i++) {
            n *= t.dim(i);
        }
        return n;
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return dtype.bytesFor(width);
    }

    /** Whether both have the same dtype, width, rows and paging (keys and their values must). */
    boolean sameLayout(PagedRows other) {
        return dtype == other.dtype && width == other.width && rows == other.rows && pageRows == other.pageRows;
    }
}
