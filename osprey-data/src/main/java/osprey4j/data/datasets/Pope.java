package osprey4j.data.datasets;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Reads POPE question files: one JSON object per line with {@code image} and {@code text} (required),
 * {@code question_id} and {@code label} (optional; a label other than yes/no is malformed). Blank lines are
 * ignored. Because each line stands alone, a line that is not valid JSON is skipped and counted like any other
 * malformed entry instead of ending the read.
 */
public final class Pope {
    private Pope() {
    }

    public static Stream<PopeQuestion> read(Path file, ReadReport report) throws IOException {
        BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        long[] lineNo = {0};
        return in.lines().map(text -> {
            long line = ++lineNo[0];
            if (text.isBlank()) {
                return null;
            }
            try {
                PopeQuestion q = parse(text, line);
                report.accept();
                return q;
            } catch (EntryProblem e) {
                report.skip(new ReadReport.Skip(file, line, 1, line - 1, "$", e.field, e.getMessage()));
                return null;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).filter(Objects::nonNull).onClose(() -> {
            try {
                in.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static PopeQuestion parse(String text, long line) throws IOException, EntryProblem {
        try (JsonParser p = Json.FACTORY.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new EntryProblem("$", "expected an object, found " + Json.describe(p.currentToken()));
            }
            var b = new Object() {
                long id = -1;
                String image;
                String text;
                String label;
            };
            Json.fields(p, name -> {
                switch (name) {
                    case "question_id" -> b.id = Json.integer(p, "question_id");
                    case "image" -> b.image = Json.string(p, "image");
                    case "text" -> b.text = Json.string(p, "text");
                    case "label" -> b.label = Json.string(p, "label");
                    default -> Json.finishValue(p);
                }
            });
            if (p.nextToken() != null) {
                throw new EntryProblem("$", "more than one JSON value on the line");
            }
            Json.requirePresent(b.image, "image");
            Json.requirePresent(b.text, "text");
            if (b.label != null) {
                String l = b.label.strip().toLowerCase(Locale.ROOT);
                if (!l.equals("yes") && !l.equals("no")) {
                    throw new EntryProblem("label", "expected yes or no, found '" + b.label + "'");
                }
            }
            return new PopeQuestion(b.id, b.image, b.text, b.label, line);
        } catch (JsonProcessingException e) {
            throw new EntryProblem("$", "not valid JSON: " + e.getOriginalMessage());
        }
    }
}
