package osprey4j.eval.world;

import java.io.IOException;
import java.nio.file.Path;
import osprey4j.model.GenerationOptions;
import osprey4j.service.ImageQuestions;
import osprey4j.service.InvalidRequestException;
import osprey4j.service.OspreyService;

/**
 * A model answering through {@link OspreyService#questions}, as the paper evaluations' runner does: each image is
 * encoded once and every question about it is asked of that session, greedily, with at most
 * {@link QuestionType#maxNewTokens()} new tokens.
 */
public final class OspreyAnswerer implements Answerer {
    private final OspreyService service;
    private final boolean owned;

    /** Loads the model directory; {@link #close} unloads it. */
    public static OspreyAnswerer load(Path modelDir) {
        return new OspreyAnswerer(OspreyService.load(modelDir, null), true);
    }

    /** Uses a loaded service, which the caller closes. */
    public OspreyAnswerer(OspreyService service) {
        this(service, false);
    }

    private OspreyAnswerer(OspreyService service, boolean owned) {
        this.service = service;
        this.owned = owned;
    }

    @Override
    public ImageAnswers open(Path image) throws IOException {
        ImageQuestions session;
        try {
            session = service.questions(OspreyService.readImage(image.toString()), null);
        } catch (InvalidRequestException e) {
            throw new IOException(e.getMessage(), e);
        }
        return q -> session.ask(q.masks(), q.text(), GenerationOptions.greedy(q.type().maxNewTokens())).text();
    }

    @Override
    public String name() {
        return service.modelDirectory().toString();
    }

    @Override
    public void close() {
        if (owned) {
            service.close();
        }
    }
}
