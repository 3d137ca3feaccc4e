package osprey4j.data.datasets;

/**
 * Thrown inside an entry parser when one field is missing or malformed; the caller skips the rest of the entry and
 * records a {@link ReadReport.Skip}. Carries no stack trace: it is control flow for expected data damage.
 */
final class EntryProblem extends Exception {
    final String field;

    EntryProblem(String field, String reason) {
        super(reason, null, false, false);
        this.field = field;
    }
}
