package osprey4j.model.tokenizer;

import java.util.List;

/**
 * The normaliser and pre-tokenizer of a Hugging Face tokenizer, restricted to what LLaMA conversions use:
 * {@code Prepend} and {@code Replace} (transformers 4.31's LlamaConverter: {@code '▁'} prepended to every
 * non-empty piece, spaces to {@code '▁'}), Unicode normal forms, and the {@code Metaspace} pre-tokenizer of
 * later conversions (without splitting).
 */
final class TextNormalizer {
    sealed interface Step permits Prepend, Replace, UnicodeForm {
    }

    record Prepend(String prefix) implements Step {
    }

    record Replace(String pattern, String content) implements Step {
    }

    record UnicodeForm(java.text.Normalizer.Form form) implements Step {
    }

    /** Metaspace pre-tokenizer without split: spaces to the replacement, which is prepended per scheme. */
    record Metaspace(String replacement, String prependScheme) {
    }

    private final List<Step> steps;
    private final Metaspace metaspace;

    TextNormalizer(List<Step> steps, Metaspace metaspace) {
        this.steps = List.copyOf(steps);
        this.metaspace = metaspace;
    }

    static TextNormalizer llama() {
        return new TextNormalizer(List.of(new Prepend(Tokenizer.SPACE_MARK), new Replace(" ", Tokenizer.SPACE_MARK)),
                null);
    }

    String normalize(String s) {
        for (Step step : steps) {
            s = switch (step) {
                case Prepend p -> s.isEmpty() ? s : p.prefix() + s;
                case Replace r -> s.replace(r.pattern(), r.content());
                case UnicodeForm u -> java.text.Normalizer.normalize(s, u.form());
            };
        }
        return s;
    }

    /** The word the pre-tokenizer makes of one piece of normalised text; {@code atStart}: it begins the text. */
    String preTokenize(String s, boolean atStart) {
        if (metaspace == null) {
            return s;
        }
        String r = s.replace(" ", metaspace.replacement());
        boolean prepend = switch (metaspace.prependScheme()) {
            case "always" -> true;
            case "first" -> atStart;
            default -> false;
        };
        return prepend && !r.startsWith(metaspace.replacement()) ? metaspace.replacement() + r : r;
    }
}
