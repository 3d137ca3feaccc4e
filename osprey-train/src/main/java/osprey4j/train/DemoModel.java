package osprey4j.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import osprey4j.core.tensor.DType;
import osprey4j.core.tensor.Tensor;
import osprey4j.data.datasets.ReadReport;
import osprey4j.data.instruct.Subset;
import osprey4j.data.samples.RegionForm;
import osprey4j.data.samples.SampleOptions;
import osprey4j.data.samples.TrainingSample;
import osprey4j.data.samples.TrainingSamples;
import osprey4j.model.llm.LlamaConfig;
import osprey4j.train.data.Conversation;
import osprey4j.train.data.Preprocessor;
import osprey4j.train.data.TrainingDataReader;
import osprey4j.train.export.OspreyShape;
import osprey4j.train.export.RandomWeights;
import osprey4j.train.tokenizer.SentencePieceBpeTrainer;
import osprey4j.train.tokenizer.TrainerOptions;

/**
 * The pieces of the demo recipe that are not other commands: the tokenizer's training text and the small
 * from-scratch Osprey it starts from.
 */
public final class DemoModel {
    private DemoModel() {
    }

    /**
     * The text the demo's tokenizer is trained on: every sample of the instruction data in {@code instructDir}
     * exactly as the model will read it (the conversation template's system sentence, roles, the image preamble
     * and region list of {@code preprocess_multimodal}, the turns), cut at the special tokens
     * ({@code <image> <mask> <pos> </s>}, which are never SentencePiece pieces) and at line breaks.
     */
    public static List<String> tokenizerCorpus(Path instructDir, Path imageRoot, Conversation conversation)
            throws IOException {
        return tokenizerCorpus(instructDir, imageRoot, conversation, RegionForm.LIST);
    }

    /** {@link #tokenizerCorpus(Path, Path, Conversation)} for data shown to the model in the given region form. */
    public static List<String> tokenizerCorpus(Path instructDir, Path imageRoot, Conversation conversation,
                                               RegionForm form) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Subset subset : Subset.values()) {
            Path f = instructDir.resolve(subset.fileName());
            if (!Files.isRegularFile(f)) {
                continue;
            }
            try (Stream<TrainingSample> samples = TrainingSamples.build(TrainingDataReader.recipeOf(subset), f,
                    SampleOptions.of(imageRoot, 0).withRegionForm(form), ReadReport.lenient())) {
                samples.forEach(s -> {
                    String prompt = conversation.prompt(Preprocessor.multimodal(s.turns()));
                    for (String part : prompt.split("<image>|<mask>|<pos>|</s>|\n")) {
                        if (!part.isBlank()) {
                            lines.add(part.strip());
                        }
                    }
                });
            }
        }
        if (lines.isEmpty()) {
            throw new IllegalArgumentException(instructDir + " holds no instruction data");
        }
        return lines;
    }

    /** Trains the demo's SentencePiece BPE tokenizer (LLaMA's settings at {@code vocabSize}) into {@code output}. */
    public static int trainTokenizer(List<String> corpus, int vocabSize, Path output) throws IOException {
        Files.createDirectories(output.getParent());
        return SentencePieceBpeTrainer.train(corpus, TrainerOptions.llama(vocabSize), output).pieces().size();
    }

    /**
     * The demo's shape: the reference's architecture (ConvNeXt tower, mask extractor with its 112x112 position
     * MLP, {@code mlp2x_gelu} projector, LLaMA) at small widths.
     */
    public static OspreyShape shape(int vocab, int hidden, int intermediate, int layers, int heads, int[] convDepths,
                                    int[] convDims, int maskEmbed, int posHidden) {
        LlamaConfig llm = new LlamaConfig(hidden, intermediate, layers, heads, heads, 1e-6f,
                LlamaConfig.DEFAULT_ROPE_THETA, 2048, vocab, false, 1, 2);
        return new OspreyShape(llm, convDepths, convDims, convDims[3] / 2, maskEmbed, 112, posHidden, "mlp2x_gelu");
    }

    /** Writes the untrained starting model: seeded random weights everywhere (the tower stays so, frozen). */
    public static void writeInitial(Path target, OspreyShape shape, long seed, Path tokenizerModel, int imageSize)
            throws IOException {
        writeInitial(target, shape, RandomWeights.of(shape, seed), tokenizerModel, imageSize);
    }

    /** Writes a starting model with the given weights (e.g. {@link #initialWeights} after tower pretraining). */
    public static void writeInitial(Path target, OspreyShape shape, Map<String, Tensor> weights, Path tokenizerModel,
                                    int imageSize) throws IOException {
        TrainingRun.writeModel(target, shape, weights, tokenizerModel, DType.F32, 2048, imageSize);
    }

    /** The seeded random weights of a starting model (every tensor of {@code shape}). */
    public static Map<String, Tensor> initialWeights(OspreyShape shape, long seed) {
        return new java.util.LinkedHashMap<>(RandomWeights.of(shape, seed));
    }
}
