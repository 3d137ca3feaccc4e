package osprey4j.data.samples;

import osprey4j.core.prompt.Preambles;
import osprey4j.data.datasets.CategoryEval;
import osprey4j.data.datasets.CocoAnnotation;
import osprey4j.data.datasets.CocoImage;
import osprey4j.data.datasets.CocoStyleFile;
import osprey4j.data.datasets.Pope;
import osprey4j.data.datasets.PopeQuestion;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.datasets.Turn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The questions the reference's evaluators ask, as samples: the human turn is the prompt exactly as the
 * evaluator builds it and the gpt turn is the ground truth to score against. Each region is its own sample,
 * since the evaluators ask about one region per conversation.
 */
public final class EvalSamples {
    private EvalSamples() {
    }

    /**
     * Referring-object classification on {@code lvis_val_1k_category.json} / {@code paco_val_1k_category.json}:
     * "What is the category of &lt;mask&gt;&lt;pos&gt;?" per region, the answer being the category name with
     * underscores and colons spelt as spaces (as the evaluator compares it). Sample ids are
     * {@code dataset:#entry/region}.
     */
    public static Stream<TrainingSample> categories(Path file, String dataset, SampleOptions options,
                                                    ReadReport report) throws IOException {
        String question = Preambles.IMAGE + Prompts.CATEGORY_QUESTION;
        return CategoryEval.read(file, report).flatMap(e -> IntStream.range(0, e.regions().size()).mapToObj(i ->
                TrainingSamples.sample(dataset, "#" + e.index() + "/" + i, options.imageRoot(), e.fileName(),
                        e.width(), e.height(), List.of(e.regions().get(i)), List.of(Turn.human(question),
                                Turn.gpt(TrainingSamples.spellCategory(e.categories().get(i)))))));
    }

    /**
     * POPE: the question after the image token; the answer is the label. POPE gives no image size, so width and
     * height are 0. The image is the file as named if it exists under the root, otherwise the part after the last
     * underscore (COCO 2014 names over a 2017-style folder), which is the evaluator's fallback too.
     */
    public static Stream<TrainingSample> pope(Path file, SampleOptions options, ReadReport report) throws IOException {
        return Pope.read(file, report).map(q -> TrainingSamples.sample("pope", "q" + key(q), options.imageRoot(),
                popeImage(options.imageRoot(), q.image()), 0, 0, List.of(),
                q.label() == null ? List.of(Turn.human(Preambles.IMAGE_TOKEN + "\n" + q.text()))
                        : List.of(Turn.human(Preambles.IMAGE_TOKEN + "\n" + q.text()), Turn.gpt(q.label()))));
    }

    private static long key(PopeQuestion q) {
        return q.questionId() >= 0 ? q.questionId() : q.line();
    }

    private static String popeImage(Path root, String name) {
        if (root == null || Files.exists(root.resolve(name))) {
            return name;
        }
        return name.substring(name.lastIndexOf('_') + 1);
    }

    /**
     * Region captioning on {@code finetune_refcocog_val_with_mask.json}: every annotation is asked for a short
     * description; the reference caption is the expression of its image entry. Sample ids are
     * {@code refcocog_eval:annotationId}, the key the reference writes its results under.
     */
    public static Stream<TrainingSample> refcocogCaptions(CocoStyleFile file, SampleOptions options) {
        String question = Preambles.REFCOCOG_EVAL + Prompts.REFCOCOG_EVAL_QUESTION;
        return file.images().flatMap(ia -> {
            CocoImage image = ia.image();
            List<TrainingSample> out = new ArrayList<>();
            for (CocoAnnotation a : ia.annotations()) {
                if (a.segmentation() == null || image.caption() == null) {
                    TrainingSamples.skip(file.report(), file.file(), a.line(), a.index(), "annotations",
                            a.segmentation() == null ? "segmentation" : "caption",
                            "missing: a captioning question needs the region and its reference caption");
                    continue;
                }
                out.add(TrainingSamples.sample("refcocog_eval", String.valueOf(a.id()), options.imageRoot(),
                        Recipe.REFCOCOG.imageFileName(image.fileName()), image.width(), image.height(),
                        List.of(a.segmentation()), List.of(Turn.human(question), Turn.gpt(image.caption()))));
            }
            return out.stream();
        });
    }
}
