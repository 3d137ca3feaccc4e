package osprey4j.data.datasets;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Streams the entries of a file whose root is a JSON array of objects (Osprey-724K, the LVIS/PACO evaluation
 * files), one parsed entry at a time. Entries that are not objects or that the entry parser rejects are skipped
 * and counted; a root that is not an array or broken JSON throws {@link DatasetFormatException}.
 */
final class RootArrayReader {
    @FunctionalInterface
    interface EntryParser<T> {
        /** Parses the object at the parser (at its START_OBJECT) through its END_OBJECT. */
        T parse(JsonParser p, long index, long line) throws IOException, EntryProblem;
    }

    private RootArrayReader() {
    }

    static <T> Stream<T> stream(Path file, ReadReport report, String schema, EntryParser<T> parser) throws IOException {
        InputStream in = Files.newInputStream(file);
        JsonParser p;
        try {
            p = Json.FACTORY.createParser(in);
            if (p.nextToken() != JsonToken.START_ARRAY) {
                DatasetFormatException e = Json.topLevel(file, p, "$",
                        "expected a JSON array of " + schema + " entries, found " + Json.describe(p.currentToken()));
                p.close();
                throw e;
            }
        } catch (JsonProcessingException e) {
            in.close();
            throw Json.syntax(file, 0, e);
        } catch (RuntimeException | IOException e) {
            in.close();
            throw e;
        }
        Entries<T> it = new Entries<>(file, report, p, parser);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL),
                false).onClose(it::close);
    }

    private static final class Entries<T> implements Iterator<T> {
        private final Path file;
        private final ReadReport report;
        private final JsonParser p;
        private final EntryParser<T> parser;
        private long index;
        private T ahead;
        private boolean done;

        Entries(Path file, ReadReport report, JsonParser p, EntryParser<T> parser) {
            this.file = file;
            this.report = report;
            this.p = p;
            this.parser = parser;
        }

        @Override
        public boolean hasNext() {
            while (ahead == null && !done) {
                advance();
            }
            return ahead != null;
        }

        @Override
        public T next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            T t = ahead;
            ahead = null;
            return t;
        }

        private void advance() {
            try {
                JsonToken t = p.nextToken();
                if (t == JsonToken.END_ARRAY || t == null) {
                    done = true;
                    close();
                    return;
                }
                JsonLocation at = p.currentTokenLocation();
                long i = index++;
                if (t != JsonToken.START_OBJECT) {
                    report.skip(new ReadReport.Skip(file, at.getLineNr(), at.getColumnNr(), i, "$", "$",
                            "expected an object, found " + Json.describe(t)));
                    Json.finishValue(p);
                    return;
                }
                try {
                    ahead = parser.parse(p, i, at.getLineNr());
                    report.accept();
                } catch (EntryProblem e) {
                    report.skip(new ReadReport.Skip(file, at.getLineNr(), at.getColumnNr(), i, "$", e.field,
                            e.getMessage()));
                }
            } catch (JsonProcessingException e) {
                close();
                throw Json.syntax(file, 0, e);
            } catch (IOException e) {
                close();
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        void close() {
            done = true;
            try {
                p.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
