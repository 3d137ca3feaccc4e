package osprey4j.data.datasets;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What happened while reading one dataset file: how many entries were accepted and which were skipped, and why.
 *
 * <p>Policy: an entry (an image, an annotation, an Osprey-724K record, a POPE line) that lacks a required field,
 * has a field of the wrong type, or refers to something that does not exist is <em>skipped and counted</em> here,
 * with the file, the 1-based line where the entry starts, its index in its array and the field at fault. Real
 * dataset dumps carry the odd broken record; one of them should not end a day-long run, but the count must be
 * visible. A {@linkplain #strict() strict} report turns every such skip into a {@link DatasetFormatException}
 * instead, for tests and for checking a new dump. Damage at the top level is always an exception.
 *
 * <p>Readers are lazy: the report is complete once the stream they return has been consumed.
 */
public final class ReadReport {
    /**
     * One skipped entry: where it starts (1-based line and column; COCO dumps are one long line, so the column
     * matters; 0 when unknown), its index in the array it sits in ({@code section}: {@code annotations}, {@code $} for a root
     * array), the field at fault and why.
     */
    public record Skip(Path file, long line, long column, long entryIndex, String section, String field,
                       String reason) {
        @Override
        public String toString() {
            return file + ":" + line + (column > 0 ? ":" + column : "") + ": " + section + "[" + entryIndex + "]." + field
                    + ": " + reason;
        }
    }

    /** Details are kept for this many skips; beyond it only the count grows (a broken dump can have millions). */
    public static final int MAX_KEPT = 1000;

    private final boolean strict;
    private final List<Skip> kept = new ArrayList<>();
    private long skipped;
    private long accepted;

    private ReadReport(boolean strict) {
        this.strict = strict;
    }

    /** Skips malformed entries and counts them. */
    public static ReadReport lenient() {
        return new ReadReport(false);
    }

    /** Throws {@link DatasetFormatException} at the first malformed entry. */
    public static ReadReport strict() {
        return new ReadReport(true);
    }

    public boolean isStrict() {
        return strict;
    }

    public synchronized void skip(Skip skip) {
        if (strict) {
            throw new DatasetFormatException(skip.file(), skip.line(), skip.column(),
                    skip.section() + "[" + skip.entryIndex() + "]." + skip.field(), skip.reason());
        }
        skipped++;
        if (kept.size() < MAX_KEPT) {
            kept.add(skip);
        }
    }

    public synchronized void accept() {
        accepted++;
    }

    /** Entries read and passed on. */
    public synchronized long accepted() {
        return accepted;
    }

    /** Entries skipped as malformed. */
    public synchronized long skipped() {
        return skipped;
    }

    /** The first {@link #MAX_KEPT} skips, in the order they were found. */
    public synchronized List<Skip> skips() {
        return Collections.unmodifiableList(new ArrayList<>(kept));
    }

    @Override
    public synchronized String toString() {
        return accepted + " accepted, " + skipped + " skipped" + (kept.isEmpty() ? "" : " (first: " + kept.getFirst() + ")");
    }
}
