package osprey4j.service;

import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import osprey4j.core.mask.Mask;
import osprey4j.core.prompt.RegionPrompt;
import osprey4j.model.Answer;
import osprey4j.model.GenerationOptions;
import osprey4j.model.ImageSession;
import osprey4j.model.Osprey;
import osprey4j.model.TokenListener;

/**
 * Many independent questions about one image, encoded once ({@link OspreyService#questions}): each question is
 * its own conversation, as {@code ask} makes it, but the image's features and the prompt prefix they share are
 * computed for the first only. This is how the reference's evaluation scripts ask about every region of an image.
 * One thread at a time.
 */
public final class ImageQuestions {
    private final Osprey model;
    private final ImageSession session;
    private final Consumer<String> warnings;

    ImageQuestions(Osprey model, ImageSession session, Consumer<String> warnings) {
        this.model = model;
        this.session = session;
        this.warnings = warnings;
    }

    /** The image's width in pixels, which every region mask must have. */
    public int width() {
        return session.width();
    }

    /** The image's height in pixels. */
    public int height() {
        return session.height();
    }

    /** Milliseconds the image's encoding took. */
    public double encodeMs() {
        return session.encodeMs();
    }

    /**
     * Answers one question (see {@link AskRequest} for the question's forms).
     *
     * @throws InvalidRequestException for regions of another size or region references that do not match
     */
    public AskResult ask(List<Mask> regions, String question, GenerationOptions options) {
        Objects.requireNonNull(question, "question");
        List<Mask> masks = List.copyOf(regions);
        return Warnings.routed(warnings, () -> {
            try {
                RegionPrompt.resolve(question, masks.size());
                Answer a = model.ask(session, masks, question, options, TokenListener.NONE);
                return AskResult.of(a);
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException(e.getMessage(), e);
            }
        });
    }
}
