package osprey4j.service;

import com.fasterxml.jackson.annotation.JsonProperty;
import osprey4j.model.Answer;

/**
 * Where one answer's time went, in milliseconds (see {@link Answer.Timings}); named as the CLI's {@code --json}
 * prints them.
 */
public record Timings(@JsonProperty("encode_ms") double encodeMs,
                      @JsonProperty("regions_ms") double regionsMs,
                      @JsonProperty("prefill_ms") double prefillMs,
                      @JsonProperty("reused_prompt_tokens") int reusedPromptTokens,
                      @JsonProperty("decode_ms") double decodeMs,
                      @JsonProperty("generated_tokens") int generatedTokens,
                      @JsonProperty("decode_tokens_per_s") double decodeTokensPerSecond) {
    static Timings of(Answer.Timings t) {
        return new Timings(t.encodeMs(), t.regionsMs(), t.prefillMs(), t.reusedPromptTokens(), t.decodeMs(),
                t.generated(), t.decodeTokensPerSecond());
    }
}
