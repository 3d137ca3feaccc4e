package osprey4j.data.instruct;

import java.util.List;

/** Turns short texts (category names) into vectors whose cosine similarity says how alike they are. */
public interface TextEmbedder {
    /** Names the model; cached vectors are only reused for the same id. */
    String modelId();

    float[][] embed(List<String> texts);
}
