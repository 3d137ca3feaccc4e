package osprey4j.data.datasets;

import java.nio.file.Path;

/**
 * A dataset file that cannot be read as the expected schema at all: not JSON, or the wrong shape at the top level
 * (a COCO file whose root is not an object, an {@code images} member that is not an array, ...). Reading stops,
 * because a streaming parser cannot resynchronise after such damage and a partial read would silently change the
 * training mix. Problems confined to one entry do not throw; they are counted in {@link ReadReport}.
 */
public final class DatasetFormatException extends RuntimeException {
    private final Path file;
    private final long line;
    private final long column;
    private final String field;

    public DatasetFormatException(Path file, long line, long column, String field, String problem, Throwable cause) {
        super(file + ":" + line + ":" + column + ": " + field + ": " + problem, cause);
        this.file = file;
        this.line = line;
        this.column = column;
        this.field = field;
    }

    public DatasetFormatException(Path file, long line, long column, String field, String problem) {
        this(file, line, column, field, problem, null);
    }

    public Path file() {
        return file;
    }

    /** 1-based line of the offending token. */
    public long line() {
        return line;
    }

    public long column() {
        return column;
    }

    /** Where in the schema the problem is, e.g. {@code images} or {@code $} for the document root. */
    public String field() {
        return field;
    }
}
