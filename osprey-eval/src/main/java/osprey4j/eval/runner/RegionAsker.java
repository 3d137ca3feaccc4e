package osprey4j.eval.runner;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import osprey4j.core.mask.Mask;
import osprey4j.model.GenerationOptions;

/**
 * Answers evaluation questions. {@link #open} is called once per image and all that image's questions are asked of
 * what it returns, so a model encodes each image once ({@link ServiceAsker}); tests plug in answerers of their own.
 */
public interface RegionAsker extends AutoCloseable {
    /** Questions about one image. */
    @FunctionalInterface
    interface Image {
        /**
         * @param regions one mask per {@code <mask><pos>} of the question, at the image's size
         * @param question the whole user message, {@code <image>} included
         */
        String ask(List<Mask> regions, String question, GenerationOptions options);
    }

    /**
     * @throws IOException when the image cannot be read
     */
    Image open(Path image) throws IOException;

    /** What the report names as the answerer (the model directory). */
    default String name() {
        return getClass().getSimpleName();
    }

    @Override
    default void close() {
    }
}
