package osprey4j.eval.runner;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import osprey4j.service.ImageQuestions;
import osprey4j.service.InvalidRequestException;
import osprey4j.service.OspreyService;

/** A model answering through {@link OspreyService#questions}: each image encoded once, its questions asked in turn. */
public final class ServiceAsker implements RegionAsker {
    private final OspreyService service;
    private final Consumer<String> warnings;

    /** Uses a loaded service, which the caller closes. */
    public ServiceAsker(OspreyService service, Consumer<String> warnings) {
        this.service = service;
        this.warnings = warnings;
    }

    @Override
    public Image open(Path image) throws IOException {
        ImageQuestions q;
        try {
            q = service.questions(OspreyService.readImage(image.toString()), warnings);
        } catch (InvalidRequestException e) {
            throw new IOException(e.getMessage(), e);
        }
        return (regions, question, options) -> q.ask(regions, question, options).text();
    }

    @Override
    public String name() {
        return service.modelDirectory().toString();
    }
}
