package osprey4j.train.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import osprey4j.model.tokenizer.SentencePieceModel;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;

/**
 * A trained {@code tokenizer.model} through the fast path the reference takes ({@code use_fast=True} on a
 * checkpoint that has only {@code tokenizer.model}): transformers 4.31's {@code LlamaConverter}, rebuilt here from
 * its source ({@code SentencePieceExtractor.extract(vocab_scores)}: for every piece, in id order, every split into
 * two pieces, sorted by (left id, right id); then a stable sort by score, highest first), run by Hugging Face's
 * Rust tokenizers. Its ids must equal our SentencePiece-mode and fast-mode tokenizers on the probe strings.
 */
class FastConverterOracleTest {
    @TempDir
    static Path dir;

    static Path tokenizerJson(SentencePieceModel sp, Path file) throws IOException {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < 3; i++) {
            added.addObject().put("id", i).put("content", specials[i]).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
        ArrayNode steps = norm.putArray("normalizers");
        steps.addObject().put("type", "Prepend").put("prepend", "\u2581");
        ObjectNode replace = steps.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", "\u2581");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").put("unk_token", "<unk>").putNull("continuing_subword_prefix")
                .putNull("end_of_word_suffix").put("fuse_unk", true).put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        Map<String, Integer> ids = new HashMap<>();
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < sp.pieces().size(); i++) {
            String p = i < 3 ? specials[i] : sp.pieces().get(i).piece();
            pieces.add(p);
            vocab.put(p, i);
            ids.putIfAbsent(p, i);
        }
        record Merge(String left, String right, float score) {
        }
        List<Merge> merges = new ArrayList<>();
        for (int m = 0; m < pieces.size(); m++) {
            String merged = pieces.get(m);
            float score = m < 3 ? 0f : sp.pieces().get(m).score();
            List<Merge> local = new ArrayList<>();
            for (int k = 1; k < merged.length(); k++) {
                if (Character.isLowSurrogate(merged.charAt(k))) {
                    continue;   // Python slices code points
                }
                String l = merged.substring(0, k);
                String r = merged.substring(k);
                if (ids.containsKey(l) && ids.containsKey(r)) {
                    local.add(new Merge(l, r, score));
                }
            }
            local.sort((a, b) -> a.left.equals(b.left) ? Integer.compare(ids.get(a.right), ids.get(b.right))
                    : Integer.compare(ids.get(a.left), ids.get(b.left)));
            merges.addAll(local);
        }
        merges.sort((a, b) -> Float.compare(b.score, a.score));   // List.sort is stable, like Python's sorted
        ArrayNode mergeArray = model.putArray("merges");
        for (Merge m : merges) {
            mergeArray.add(m.left + " " + m.right);
        }
        new ObjectMapper().writeValue(file.toFile(), root);
        return file;
    }

    @Test
    void convertedByTransformersAndRunByRustTokenizersItEncodesLikeSentencePiece() throws IOException {
        Path modelDir = dir.resolve("model");
        SentencePieceBpeTrainer.train(SyntheticText.corpus(7, 4000),
                TrainerOptions.llama(SentencePieceBpeTrainerTest.VOCAB).withCharacterCoverage(0.9995),
                modelDir.resolve("tokenizer.model"));
        SentencePieceModel sp = SentencePieceModel.read(modelDir.resolve("tokenizer.model"));
        Path json = tokenizerJson(sp, dir.resolve("tokenizer.json"));
        Tokenizer slow = Tokenizer.load(modelDir, Tokenizer.Mode.SLOW_LEGACY);
        Tokenizer fast = Tokenizer.load(modelDir, Tokenizer.Mode.FAST);
        try (HuggingFaceTokenizer rust = HuggingFaceTokenizer.builder().optTokenizerPath(json).optTruncation(false)
                .optPadding(false).build()) {
            for (String text : SyntheticText.probes(11, 3000)) {
                long[] r = rust.encode(text, false, false).getIds();
                int[] expected = new int[r.length];
                for (int i = 0; i < r.length; i++) {
                    expected[i] = Math.toIntExact(r[i]);
                }
                assertArrayEquals(expected, slow.encode(text, false), () -> "SentencePiece mode: \"" + text + "\"");
                assertArrayEquals(expected, fast.encode(text, false), () -> "fast mode: \"" + text + "\"");
            }
        }
    }
}
