package osprey4j.service;

import com.fasterxml.jackson.annotation.JsonProperty;
import osprey4j.model.Answer;

/**
 * One answer, with the fields and names of {@code osprey ask --json}.
 *
 * @param text         the answer as the reference post-processes it
 * @param tokens       the generated ids, the end-of-sequence id included when generation ended with it
 * @param promptTokens the prefilled sequence's length, the image's tokens included
 * @param timings      where the time went
 */
public record AskResult(String text, int[] tokens, @JsonProperty("prompt_tokens") int promptTokens,
                        Timings timings) {
    static AskResult of(Answer a) {
        return new AskResult(a.text(), a.tokens(), a.promptTokens(), Timings.of(a.timings()));
    }
}
