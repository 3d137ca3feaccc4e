package osprey4j.eval.runner;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Answers from a function of the question and decoding, counting opens and questions; can fail after a number of
 * answers (a crash) or pause before each (to be killed mid-run).
 */
final class ScriptedAsker implements RegionAsker {
    final AtomicInteger opened = new AtomicInteger();
    final AtomicInteger asked = new AtomicInteger();
    final List<Path> openedImages = new ArrayList<>();
    private final List<String> questions = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Function<String, String> answers;
    private final int failAfter;
    private final long pauseMs;

    ScriptedAsker(Function<String, String> answers, int failAfter, long pauseMs) {
        this.answers = answers;
        this.failAfter = failAfter;
        this.pauseMs = pauseMs;
    }

    @Override
    public Image open(Path image) {
        opened.incrementAndGet();
        openedImages.add(image);
        return (regions, question, options) -> {
            if (failAfter >= 0 && asked.get() >= failAfter) {
                throw new IllegalStateException("crash");
            }
            if (pauseMs > 0) {
                try {
                    Thread.sleep(pauseMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            asked.incrementAndGet();
            questions.add(question);
            String a = answers.apply(question);
            return options.greedy() ? a : a + " #" + Long.toHexString(options.seed());
        };
    }

    List<String> questions() {
        return questions;
    }

    @Override
    public String name() {
        return "scripted";
    }
}
