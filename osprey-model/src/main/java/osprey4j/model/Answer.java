package osprey4j.model;

/**
 * One generated answer.
 *
 * @param text         the answer as the reference post-processes it: generated ids decoded without special
 *                     tokens, stripped, a trailing stop string {@code </s>} removed, stripped again
 * @param tokens       the generated ids, the end-of-sequence id included when generation ended with it
 * @param promptTokens the length of the sequence the LLM was prefilled with: the prompt's ids with the image
 *                     placeholder expanded to the image tokens
 * @param timings      where the time went
 */
public record Answer(String text, int[] tokens, int promptTokens, Timings timings) {
    /**
     * Wall-clock times in milliseconds.
     *
     * @param encodeMs   encoding the image (preprocess, vision tower, projector); paid once per
     *                   {@link ImageSession} and shared by every question asked about it
     * @param regionsMs  mask and position tokens of the regions, tokenising and assembling the input
     * @param prefillMs  the LLM over the prompt, up to the first token's logits
     * @param decodeMs   generating the tokens after the first
     * @param generated  how many tokens were generated
     * @param reusedPromptTokens leading prompt positions not run again because the session had cached them from
     *                   its previous question (the system sentence and the image tokens)
     */
    public record Timings(double encodeMs, double regionsMs, double prefillMs, double decodeMs, int generated,
                          int reusedPromptTokens) {
        /** Generated tokens per second after the first one (0 when only one token was generated). */
        public double decodeTokensPerSecond() {
            return generated > 1 && decodeMs > 0 ? (generated - 1) * 1000.0 / decodeMs : 0;
        }
    }
}
