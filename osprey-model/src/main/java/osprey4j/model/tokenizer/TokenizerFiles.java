package osprey4j.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import osprey4j.model.tokenizer.SentencePieceModel.PieceType;
import osprey4j.model.tokenizer.Tokenizer.AddedToken;

/**
 * Reads the tokenizer files of a Hugging Face LLaMA checkpoint directory: {@code tokenizer.json} (the fast
 * tokenizer) when present, else {@code tokenizer.model} converted as transformers 4.31's LlamaConverter does;
 * plus {@code tokenizer_config.json}, {@code special_tokens_map.json} and {@code added_tokens.json}.
 */
final class TokenizerFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerFiles() {
    }

    static Tokenizer.Spec read(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("tokenizer directory not found: " + dir);
        }
        Path json = dir.resolve("tokenizer.json");
        Path model = dir.resolve("tokenizer.model");
        if (!Files.exists(json) && !Files.exists(model)) {
            throw new IllegalArgumentException(dir + " has neither tokenizer.json nor tokenizer.model");
        }
        JsonNode config = readJsonIfExists(dir.resolve("tokenizer_config.json"));
        JsonNode specialMap = readJsonIfExists(dir.resolve("special_tokens_map.json"));
        JsonNode addedFile = readJsonIfExists(dir.resolve("added_tokens.json"));

        SentencePieceModel sp = Files.exists(model) ? SentencePieceModel.read(model) : null;

        BpeModel fast;
        TextNormalizer normalizer;
        TokenDecoder decoder;
        List<AddedToken> added = new ArrayList<>();
        if (Files.exists(json)) {
            JsonNode root = readJson(json);
            fast = bpeFromJson(root.path("model"), json);
            normalizer = normalizerFromJson(root.path("normalizer"), root.path("pre_tokenizer"), json);
            decoder = decoderFromJson(root.path("decoder"), json);
            for (JsonNode t : root.path("added_tokens")) {
                added.add(new AddedToken(t.path("content").asText(), t.path("id").asInt(), t.path("special").asBoolean(),
                        t.path("normalized").asBoolean(true), t.path("lstrip").asBoolean(), t.path("rstrip").asBoolean(),
                        t.path("single_word").asBoolean()));
            }
        } else {
            fast = llamaConverterBpe(sp);
            normalizer = TextNormalizer.llama();
            decoder = TokenDecoder.llama();
            // LlamaConverter adds AddedToken("<unk>") etc. with add_special_tokens; a token made without a
            // `normalized` argument is then special and unnormalised (tokenizers 0.13: normalized = !special),
            // so "<s>" typed in text is matched in the raw text, before '▁' is prepended.
            for (int i = 0; i < 3; i++) {
                added.add(new AddedToken(LLAMA_SPECIALS[i], i, true, false, false, false, false));
            }
        }
        // added_tokens.json: tokens added after the model; special if the special-tokens map names them.
        Set<String> known = new HashSet<>();
        added.forEach(t -> known.add(t.content()));
        Set<String> specials = specialTokenContents(specialMap, config);
        if (addedFile != null) {
            List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
            addedFile.fields().forEachRemaining(entries::add);
            entries.sort(Comparator.comparingInt(e -> e.getValue().asInt()));
            for (Map.Entry<String, JsonNode> e : entries) {
                if (!known.contains(e.getKey()) && fast.id(e.getKey()) == null) {
                    boolean special = specials.contains(e.getKey());
                    added.add(new AddedToken(e.getKey(), e.getValue().asInt(), special, !special, false, false, false));
                    known.add(e.getKey());
                }
            }
        }

        String bos = tokenContent(config, specialMap, "bos_token", "<s>");
        String eos = tokenContent(config, specialMap, "eos_token", "</s>");
        String unk = tokenContent(config, specialMap, "unk_token", "<unk>");
        Integer bosId = idOf(bos, fast, added);
        Integer eosId = idOf(eos, fast, added);
        // LlamaTokenizerFast (4.31) rebuilds the post-processor from add_bos_token / add_eos_token.
        boolean addBos = config == null || config.path("add_bos_token").asBoolean(true);
        boolean addEos = config != null && config.path("add_eos_token").asBoolean(false);
        int[] prefix = addBos && bosId != null ? new int[] {bosId} : new int[0];
        int[] suffix = addEos && eosId != null ? new int[] {eosId} : new int[0];
        boolean cleanUp = config != null && config.path("clean_up_tokenization_spaces").asBoolean(false);
        boolean dummyPrefix = sp == null || sp.addDummyPrefix();
        boolean removeExtra = sp != null && sp.removeExtraWhitespaces();
        return new Tokenizer.Spec(fast, sp, normalizer, added, decoder, prefix, suffix, cleanUp, unk,
                dummyPrefix, removeExtra, bosId, eosId);
    }

    /** {@code legacy} of tokenizer_config.json; true when absent, as in transformers 4.31. */
    static boolean legacyFlag(Path dir) {
        JsonNode config = readJsonIfExists(dir.resolve("tokenizer_config.json"));
        return config == null || config.path("legacy").asBoolean(true);
    }

    private static final String[] LLAMA_SPECIALS = {"<unk>", "<s>", "</s>"};

    /**
     * The fast BPE model transformers 4.31 converts a LLaMA {@code tokenizer.model} into ({@code LlamaConverter}
     * with {@code SentencePieceExtractor.extract(vocab_scores)}): pieces 0..2 renamed {@code <unk> <s> </s>} with
     * score 0; for every entry of that renamed vocabulary (in id order, a repeated name keeping its first place and
     * its last score), a merge (left, right) for each split of it into two pieces of the original vocabulary, in
     * (left id, right id) order; then all merges stably sorted by their piece's score, highest first. Every score
     * counts, 0 included: SentencePiece's BPE trainer scores its first merged piece -0.0 (on LLaMA-like models
     * often {@code ▁▁}), and that merge ranks first. The Rust BPE ranks merges by their place in this list.
     *
     * @throws IllegalArgumentException for a unigram (or word/char) model, which the converter refuses
     */
    static BpeModel llamaConverterBpe(SentencePieceModel sp) {
        if (sp.modelType() != SentencePieceModel.ModelType.BPE) {
            throw new IllegalArgumentException("tokenizer.model is a " + sp.modelType() + " SentencePiece model, but "
                    + "the fast LLaMA tokenizer (transformers 4.31 LlamaConverter) converts only BPE models ("
                    + (sp.modelType() == SentencePieceModel.ModelType.UNIGRAM
                    ? "it raises 'Llama is supposed to be a BPE model!')" : "it raises for any other model type)"));
        }
        int n = sp.pieces().size();
        String[] pieces = new String[n];
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            pieces[i] = sp.pieces().get(i).piece();
            index.put(pieces[i], i); // {piece: id} over the original pieces, a repeated piece keeping its last id
        }
        String[] renamed = pieces.clone();
        System.arraycopy(LLAMA_SPECIALS, 0, renamed, 0, Math.min(3, n));
        // dict(vocab_scores): insertion order, a repeated key keeps its first place and takes its last score.
        Map<String, Float> vocabScores = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            vocabScores.put(renamed[i], i < 3 ? 0f : sp.pieces().get(i).score());
        }
        record Candidate(int left, int right, float score) {
        }
        List<Candidate> candidates = new ArrayList<>();
        for (Map.Entry<String, Float> e : vocabScores.entrySet()) {
            String merged = e.getKey();
            List<Candidate> local = new ArrayList<>();
            for (int k = 1; k < merged.length(); k++) {
                if (Character.isLowSurrogate(merged.charAt(k))) {
                    continue; // Python slices code points
                }
                Integer l = index.get(merged.substring(0, k));
                Integer r = index.get(merged.substring(k));
                if (l != null && r != null) {
                    local.add(new Candidate(l, r, e.getValue()));
                }
            }
            local.sort(Comparator.comparingInt(Candidate::left).thenComparingInt(Candidate::right));
            candidates.addAll(local);
        }
        // Python's stable sort on the float score, reverse=True: equal scores (-0.0 == 0.0) keep their order.
        candidates.sort((x, y) -> x.score() == y.score() ? 0 : x.score() > y.score() ? -1 : 1);
        List<BpeModel.Merge> merges = new ArrayList<>(candidates.size());
        for (int i = 0; i < candidates.size(); i++) {
            Candidate c = candidates.get(i);
            merges.add(new BpeModel.Merge(pieces[c.left()], pieces[c.right()], i));
        }
        // BPE(bpe_vocab, merges, unk_token=trainer_spec.unk_piece, fuse_unk=True, byte_fallback=True)
        int unkId = -1;
        for (int i = 0; i < n; i++) {
            if (renamed[i].equals(sp.unkPiece())) {
                unkId = i; // {word: i} keeps a repeated word's last id
            }
        }
        return new BpeModel(renamed, merges, true, unkId, true);
    }

    /**
     * SentencePiece's own BPE: any two adjacent symbols merge when their concatenation is a normal piece, the
     * highest-scoring such piece first; pairs making the same piece rank the same (leftmost wins).
     */
    static BpeModel sentencePieceBpe(SentencePieceModel sp) {
        int n = sp.pieces().size();
        String[] pieces = new String[n];
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            pieces[i] = sp.pieces().get(i).piece();
            index.putIfAbsent(pieces[i], i);
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -sp.pieces().get(i).score()));
        int[] rank = new int[n];
        for (int r = 0, i = 0; i < n; i++) {
            if (i > 0 && sp.pieces().get(order[i]).score() != sp.pieces().get(order[i - 1]).score()) {
                r = i;
            }
            rank[order[i]] = r;
        }
        List<BpeModel.Merge> merges = new ArrayList<>();
        for (int m = 0; m < n; m++) {
            SentencePieceModel.Piece p = sp.pieces().get(m);
            if (p.type() != PieceType.NORMAL) {
                continue;
            }
            for (int k = 1; k < p.piece().length(); k++) {
                if (Character.isLowSurrogate(p.piece().charAt(k))) {
                    continue;
                }
                String l = p.piece().substring(0, k);
                String r = p.piece().substring(k);
                if (index.containsKey(l) && index.containsKey(r)) {
                    merges.add(new BpeModel.Merge(l, r, rank[m]));
                }
            }
        }
        return new BpeModel(pieces, merges, sp.byteFallback(), sp.unkId(), false);
    }

    private static BpeModel bpeFromJson(JsonNode model, Path file) {
        String type = model.path("type").asText("BPE");
        if (!"BPE".equals(type)) {
            throw unsupported(file, "model type " + type + " (only BPE)");
        }
        if (!model.path("continuing_subword_prefix").isNull() && !model.path("continuing_subword_prefix").isMissingNode()
                || !model.path("end_of_word_suffix").isNull() && !model.path("end_of_word_suffix").isMissingNode()) {
            throw unsupported(file, "BPE with a subword prefix or end-of-word suffix");
        }
        if (model.path("ignore_merges").asBoolean(false)) {
            throw unsupported(file, "BPE with ignore_merges");
        }
        JsonNode vocab = model.path("vocab");
        int n = vocab.size();
        String[] pieces = new String[n];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt(-1);
            if (id < 0 || id >= n || pieces[id] != null) {
                throw new IllegalArgumentException(file + ": vocabulary ids are not 0.." + (n - 1) + " (at '"
                        + e.getKey() + "' = " + e.getValue() + ")");
            }
            pieces[id] = e.getKey();
        }
        List<BpeModel.Merge> merges = new ArrayList<>();
        int rank = 0;
        for (JsonNode m : model.path("merges")) {
            String left;
            String right;
            if (m.isArray()) {
                left = m.path(0).asText();
                right = m.path(1).asText();
            } else {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) {
                    throw new IllegalArgumentException(file + ": merge '" + m.asText() + "' is not two pieces");
                }
                left = parts[0];
                right = parts[1];
            }
            merges.add(new BpeModel.Merge(left, right, rank++));
        }
        String unkToken = model.path("unk_token").isTextual() ? model.path("unk_token").asText() : null;
        int unkId = -1;
        if (unkToken != null) {
            for (int i = 0; i < n; i++) {
                if (pieces[i].equals(unkToken)) {
                    unkId = i;
                    break;
                }
            }
        }
        return new BpeModel(pieces, merges, model.path("byte_fallback").asBoolean(false), unkId,
                model.path("fuse_unk").asBoolean(false));
    }

    private static TextNormalizer normalizerFromJson(JsonNode normalizer, JsonNode preTokenizer, Path file) {
        List<TextNormalizer.Step> steps = new ArrayList<>();
        addNormalizerSteps(normalizer, steps, file);
        TextNormalizer.Metaspace metaspace = null;
        if (!preTokenizer.isNull() && !preTokenizer.isMissingNode()) {
            JsonNode pt = preTokenizer;
            if ("Sequence".equals(pt.path("type").asText()) && pt.path("pretokenizers").size() == 1) {
                pt = pt.path("pretokenizers").path(0);
            }
            if (!"Metaspace".equals(pt.path("type").asText())) {
                throw unsupported(file, "pre-tokenizer " + pt.path("type").asText());
            }
            if (pt.path("split").asBoolean(false)) {
                throw unsupported(file, "Metaspace pre-tokenizer with split=true");
            }
            String scheme = pt.has("prepend_scheme") ? pt.path("prepend_scheme").asText()
                    : pt.path("add_prefix_space").asBoolean(true) ? "always" : "never";
            metaspace = new TextNormalizer.Metaspace(pt.path("replacement").asText(Tokenizer.SPACE_MARK), scheme);
        }
        return new TextNormalizer(steps, metaspace);
    }

    private static void addNormalizerSteps(JsonNode n, List<TextNormalizer.Step> steps, Path file) {
        if (n.isNull() || n.isMissingNode()) {
            return;
        }
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> n.path("normalizers").forEach(c -> addNormalizerSteps(c, steps, file));
            case "Prepend" -> steps.add(new TextNormalizer.Prepend(n.path("prepend").asText()));
            case "Replace" -> steps.add(new TextNormalizer.Replace(literalPattern(n, file), n.path("content").asText()));
            case "NFC" -> steps.add(new TextNormalizer.UnicodeForm(java.text.Normalizer.Form.NFC));
            case "NFKC" -> steps.add(new TextNormalizer.UnicodeForm(java.text.Normalizer.Form.NFKC));
            case "NFD" -> steps.add(new TextNormalizer.UnicodeForm(java.text.Normalizer.Form.NFD));
            case "NFKD" -> steps.add(new TextNormalizer.UnicodeForm(java.text.Normalizer.Form.NFKD));
            default -> throw unsupported(file, "normalizer " + type);
        }
    }

    private static TokenDecoder decoderFromJson(JsonNode d, Path file) {
        if (d.isNull() || d.isMissingNode()) {
            return TokenDecoder.llama();
        }
        List<TokenDecoder.Step> steps = new ArrayList<>();
        addDecoderSteps(d, steps, file);
        return new TokenDecoder(steps);
    }

    private static void addDecoderSteps(JsonNode d, List<TokenDecoder.Step> steps, Path file) {
        String type = d.path("type").asText();
        switch (type) {
            case "Sequence" -> d.path("decoders").forEach(c -> addDecoderSteps(c, steps, file));
            case "Replace" -> steps.add(new TokenDecoder.Replace(literalPattern(d, file), d.path("content").asText()));
            case "ByteFallback" -> steps.add(new TokenDecoder.ByteFallback());
            case "Fuse" -> steps.add(new TokenDecoder.Fuse());
            case "Strip" -> {
                String content = d.path("content").asText(" ");
                if (content.codePointCount(0, content.length()) != 1) {
                    throw unsupported(file, "Strip decoder with content '" + content + "'");
                }
                steps.add(new TokenDecoder.Strip(content.codePointAt(0), d.path("start").asInt(), d.path("stop").asInt()));
            }
            case "Metaspace" -> {
                boolean prepended = d.has("prepend_scheme") ? !"never".equals(d.path("prepend_scheme").asText())
                        : d.path("add_prefix_space").asBoolean(true);
                steps.add(new TokenDecoder.Metaspace(d.path("replacement").asText(Tokenizer.SPACE_MARK), prepended));
            }
            default -> throw unsupported(file, "decoder " + type);
        }
    }

    private static String literalPattern(JsonNode n, Path file) {
        JsonNode p = n.path("pattern");
        if (!p.has("String")) {
            throw unsupported(file, n.path("type").asText() + " with a regex pattern");
        }
        return p.path("String").asText();
    }

    private static Set<String> specialTokenContents(JsonNode specialMap, JsonNode config) {
        Set<String> out = new HashSet<>();
        for (JsonNode source : new JsonNode[] {specialMap, config}) {
            if (source == null) {
                continue;
            }
            for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token", "mask_token",
                    "sep_token", "cls_token")) {
                String c = contentOf(source.path(key));
                if (c != null) {
                    out.add(c);
                }
            }
            for (JsonNode t : source.path("additional_special_tokens")) {
                String c = contentOf(t);
                if (c != null) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    private static String tokenContent(JsonNode config, JsonNode specialMap, String key, String fallback) {
        for (JsonNode source : new JsonNode[] {config, specialMap}) {
            if (source != null) {
                String c = contentOf(source.path(key));
                if (c != null) {
                    return c;
                }
            }
        }
        return fallback;
    }

    /** A special token is written either as a string or as an AddedToken object with "content". */
    private static String contentOf(JsonNode n) {
        if (n.isTextual()) {
            return n.asText();
        }
        if (n.isObject() && n.path("content").isTextual()) {
            return n.path("content").asText();
        }
        return null;
    }

    private static Integer idOf(String content, BpeModel model, List<AddedToken> added) {
        for (AddedToken t : added) {
            if (t.content().equals(content)) {
                return t.id();
            }
        }
        return model.id(content);
    }

    private static JsonNode readJsonIfExists(Path file) {
        return Files.exists(file) ? readJson(file) : null;
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static IllegalArgumentException unsupported(Path file, String what) {
        return new IllegalArgumentException(file + ": unsupported " + what);
    }
}
