package osprey4j.eval.world;

import java.io.IOException;
import java.nio.file.Path;
import osprey4j.model.GenerationOptions;
import osprey4j.model.ImageSession;
import osprey4j.model.Osprey;
import osprey4j.model.image.RgbImage;

/**
 * A model answering: each image is encoded once ({@link Osprey#encode}) and every question about it is asked of
 * that session, greedily, with at most {@link QuestionType#maxNewTokens()} new tokens.
 */
public final class OspreyAnswerer implements Answerer {
    private final Osprey osprey;
    private final boolean owned;

    /** Loads the model directory; {@link #close} unloads it. */
    public static OspreyAnswerer load(Path modelDir) {
        return new OspreyAnswerer(Osprey.load(modelDir), true);
    }

    /** Uses a loaded model, which the caller closes. */
    public OspreyAnswerer(Osprey osprey) {
        this(osprey, false);
    }

    private OspreyAnswerer(Osprey osprey, boolean owned) {
        this.osprey = osprey;
        this.owned = owned;
    }

    @Override
    public ImageAnswers open(Path image) throws IOException {
        ImageSession session = osprey.encode(RgbImage.read(image));
        return q -> osprey.ask(session, q.masks(), q.text(),
                GenerationOptions.greedy(q.type().maxNewTokens())).text();
    }

    @Override
    public String name() {
        return osprey.directory().toString();
    }

    @Override
    public void close() {
        if (owned) {
            osprey.close();
        }
    }
}
