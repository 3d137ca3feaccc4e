package osprey4j.core.prompt;

/**
 * The prompt text for one question about regions, as the reference writes it: {@code <regionN>} references
 * resolved to {@code <mask><pos>} ({@link RegionPrompt#resolve}), the image preamble put first unless the
 * question places {@code <image>} itself ({@link RegionPrompt#firstUserMessage}), and the chat template around
 * it, with the assistant's turn open.
 *
 * @param text      the prompt, ready for the tokenizer (which splits it at {@code <image>})
 * @param maskOrder {@code maskOrder[i]} is the index of the mask the i-th {@code <mask>} stands for
 */
public record QuestionPrompt(String text, int[] maskOrder) {
    /** @throws IllegalArgumentException when the question's region references do not match {@code maskCount} */
    public static QuestionPrompt of(ChatTemplate template, String question, int maskCount) {
        RegionPrompt.Question q = RegionPrompt.resolve(question, maskCount);
        return new QuestionPrompt(template.prompt(RegionPrompt.firstUserMessage(q.text())), q.maskOrder());
    }
}
