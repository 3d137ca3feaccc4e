package osprey4j.eval.world;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Answers world questions. {@link #open} is called once per image and the questions about that image are then
 * asked of what it returns, so a model encodes each image once ({@link OspreyAnswerer}); tests plug in answerers
 * that know the truth or are always wrong.
 */
public interface Answerer extends AutoCloseable {
    /** Answers questions about one image. */
    @FunctionalInterface
    interface ImageAnswers {
        String answer(WorldQuestion question);
    }

    ImageAnswers open(Path image) throws IOException;

    /** What the report names as the answerer. */
    default String name() {
        return getClass().getSimpleName();
    }

    @Override
    default void close() {
    }
}
