package osprey4j.model.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The LLaMA tokeniser in pure Java: SentencePiece-style BPE with byte fallback, plus added tokens (the checkpoint's
 * own, and any the caller adds with {@link #withSpecialTokens}). It knows nothing of the models that use it.
 *
 * <p>By default it behaves like the Hugging Face <em>fast</em> tokenizer the reference loads
 * ({@code use_fast=True}), the behaviour the model was trained with: the text is first split at added tokens
 * that are not normalised (spaces around them are kept), each remaining piece is normalised on its own
 * ({@code '▁'} prepended, spaces turned into {@code '▁'}), then split at normalised added tokens
 * ({@code <s>}, {@code </s>}, {@code <unk>}), and each piece is BPE-encoded with the merges of the
 * {@code tokenizer.json} (or of the conversion transformers 4.31 makes from {@code tokenizer.model}).
 *
 * <p>{@link Mode#SLOW_LEGACY} and {@link Mode#SLOW} reproduce transformers' slow Python {@code LlamaTokenizer}
 * instead: whitespace around the added tokens is stripped and each text chunk is encoded by SentencePiece itself
 * (merges ranked by piece score), with a dummy prefix on every chunk (legacy) or only at the start of the text.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Tokenizer {
    static final String SPACE_MARK = "\u2581";

    /** Which Hugging Face implementation to match. */
    public enum Mode {
        /** The Rust {@code tokenizers} fast tokenizer (the reference's {@code use_fast=True}). */
        FAST,
        /** transformers' slow {@code LlamaTokenizer} with {@code legacy=True}. */
        SLOW_LEGACY,
        /** transformers' slow {@code LlamaTokenizer} with {@code legacy=False}. */
        SLOW
    }

    /**
     * A token matched in the text before BPE. {@code normalized} tokens are matched in the normalised text
     * (after {@code '▁'} was prepended), the others in the raw text; {@code lstrip}/{@code rstrip} swallow
     * neighbouring whitespace; {@code special} tokens are dropped by {@code decode(ids, true)}.
     */
    public record AddedToken(String content, int id, boolean special, boolean normalized,
                             boolean lstrip, boolean rstrip, boolean singleWord) {
        public AddedToken {
            Objects.requireNonNull(content);
            if (content.isEmpty()) {
                throw new IllegalArgumentException("an added token cannot be empty");
            }
        }

        /** As {@code tokenizer.add_tokens([content], special_tokens=True)} makes it. */
        public static AddedToken special(String content, int id) {
            return new AddedToken(content, id, true, false, false, false, false);
        }
    }

    /**
     * Everything that describes a tokenizer, as read from a checkpoint directory. {@code sentencePiece} is the
     * SentencePiece model when the checkpoint has {@code tokenizer.model}; the slow modes encode with it.
     */
    record Spec(BpeModel fastModel, SentencePieceModel sentencePiece, TextNormalizer normalizer, List<AddedToken> addedTokens,
                TokenDecoder decoder, int[] prefixIds, int[] suffixIds, boolean cleanUpSpaces, String unkToken,
                boolean spAddDummyPrefix, boolean spRemoveExtraWhitespaces, Integer bosId, Integer eosId) {
    }

    private final Spec spec;
    private final Mode mode;
    private final Map<Integer, AddedToken> addedById = new HashMap<>();
    private final Map<String, AddedToken> addedByContent = new HashMap<>();
    private final List<AddedTokenSplitter.Needle> rawMatched;
    private final List<AddedTokenSplitter.Needle> normalizedMatched;
    private final List<AddedTokenSplitter.Needle> slowMatched;
    private final int size;
    /** The BPE the slow modes use: SentencePiece's score-ranked merges, built only for those modes. */
    private final BpeModel slowModel;

    Tokenizer(Spec spec, Mode mode) {
        this.spec = spec;
        this.mode = Objects.requireNonNull(mode);
        this.slowModel = mode == Mode.FAST ? null
                : spec.sentencePiece() != null ? TokenizerFiles.sentencePieceBpe(spec.sentencePiece())
                : spec.fastModel();
        // Later declarations win, as when tokens are added again to a loaded tokenizer.
        for (AddedToken t : spec.addedTokens()) {
            addedById.put(t.id(), t);
            addedByContent.put(t.content(), t);
        }
        List<AddedToken> all = new ArrayList<>(addedByContent.values());
        all.sort(Comparator.comparingInt(AddedToken::id));
        // Normalised tokens are looked for in normalised text as they look after normalisation themselves
        // (with LLaMA's normaliser "<s>" is found as "▁<s>"), as Hugging Face's added vocabulary does.
        this.rawMatched = all.stream().filter(t -> !t.normalized())
                .map(t -> new AddedTokenSplitter.Needle(t.content(), t)).toList();
        this.normalizedMatched = all.stream().filter(AddedToken::normalized)
                .map(t -> new AddedTokenSplitter.Needle(spec.normalizer().normalize(t.content()), t)).toList();
        this.slowMatched = all.stream().map(t -> new AddedTokenSplitter.Needle(t.content(), t)).toList();
        int max = spec.fastModel().size() - 1;
        for (AddedToken t : all) {
            max = Math.max(max, t.id());
        }
        this.size = max + 1;
    }

    /** Loads the tokenizer of a Hugging Face checkpoint directory with the fast behaviour. */
    public static Tokenizer load(Path dir) {
        return load(dir, Mode.FAST);
    }

    /**
     * Loads {@code tokenizer.json} when the directory has one, else converts {@code tokenizer.model} the way
     * transformers 4.31 does; {@code added_tokens.json}, {@code special_tokens_map.json} and
     * {@code tokenizer_config.json} are honoured.
     */
    public static Tokenizer load(Path dir, Mode mode) {
        return new Tokenizer(TokenizerFiles.read(dir), mode);
    }

    /**
     * The slow mode a checkpoint asks for: its {@code tokenizer_config.json} {@code legacy} flag, which
     * transformers 4.31 takes as true when absent.
     */
    public static Mode slowModeOf(Path dir) {
        return TokenizerFiles.legacyFlag(dir) ? Mode.SLOW_LEGACY : Mode.SLOW;
    }

    /**
     * {@link #load(Path, Mode)} plus {@code specialTokens} added after loading, as
     * {@code tokenizer.add_tokens(specialTokens, special_tokens=True)} does.
     */
    public static Tokenizer load(Path dir, Mode mode, List<String> specialTokens) {
        // Built in fast mode first so the slow modes' SentencePiece merges are computed once, at the end.
        return load(dir, Mode.FAST).withSpecialTokens(specialTokens).withMode(mode);
    }

    /**
     * This tokenizer with {@code tokens} added as special, unnormalised tokens
     * ({@code add_tokens(tokens, special_tokens=True)}): a token already known keeps its id and becomes special
     * and unnormalised, a new one gets the next free id.
     */
    public Tokenizer withSpecialTokens(List<String> tokens) {
        List<AddedToken> added = new ArrayList<>(spec.addedTokens());
        int next = size;
        for (String content : tokens) {
            Optional<Integer> existing = tokenId(content);
            int id = existing.orElse(next);
            if (existing.isEmpty()) {
                next++;
            }
            added.add(AddedToken.special(content, id));
        }
        Spec s = spec;
        return new Tokenizer(new Spec(s.fastModel(), s.sentencePiece(), s.normalizer(), added, s.decoder(),
                s.prefixIds(), s.suffixIds(), s.cleanUpSpaces(), s.unkToken(), s.spAddDummyPrefix(),
                s.spRemoveExtraWhitespaces(), s.bosId(), s.eosId()), mode);
    }

    public Tokenizer withMode(Mode newMode) {
        return newMode == mode ? this : new Tokenizer(spec, newMode);
    }

    public Mode mode() {
        return mode;
    }

    /** Number of ids, added tokens included. */
    public int size() {
        return size;
    }

    public int bosId() {
        return spec.bosId() == null ? -1 : spec.bosId();
    }

    public int eosId() {
        return spec.eosId() == null ? -1 : spec.eosId();
    }

    public Optional<Integer> tokenId(String piece) {
        AddedToken t = addedByContent.get(piece);
        if (t != null) {
            return Optional.of(t.id());
        }
        return Optional.ofNullable(spec.fastModel().id(piece));
    }

    /** The piece string of an id (added tokens by their content). */
    public String piece(int id) {
        AddedToken t = addedById.get(id);
        if (t != null) {
            return t.content();
        }
        if (id < 0 || id >= spec.fastModel().size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (size - 1) + ")");
        }
        return spec.fastModel().piece(id);
    }

    public List<AddedToken> addedTokens() {
        List<AddedToken> out = new ArrayList<>(addedByContent.values());
        out.sort(Comparator.comparingInt(AddedToken::id));
        return Collections.unmodifiableList(out);
    }

    public boolean isSpecial(int id) {
        AddedToken t = addedById.get(id);
        return t != null && t.special();
    }

    /** The ids of {@code text} with the checkpoint's special tokens (BOS) around them. */
    public int[] encode(String text) {
        return encode(text, true);
    }

    public int[] encode(String text, boolean addSpecialTokens) {
        IntList out = new IntList(text.length() / 2 + 4);
        if (addSpecialTokens) {
            out.addAll(spec.prefixIds());
        }
        if (mode == Mode.FAST) {
            encodeFast(text, out);
        } else {
            encodeSlow(text, out);
        }
        if (addSpecialTokens) {
            out.addAll(spec.suffixIds());
        }
        return out.toArray();
    }

    /** The piece strings of {@code ids}. */
    public List<String> pieces(int[] ids) {
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) {
            out.add(piece(id));
        }
        return out;
    }

    /** {@code tokenizer.decode(ids, skip_special_tokens=True)}. */
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (!(skipSpecialTokens && isSpecial(id))) {
                tokens.add(piece(id));
            }
        }
        String text = spec.decoder().decode(tokens, false);
        return spec.cleanUpSpaces() ? cleanUpTokenizationSpaces(text) : text;
    }

    /** A decoder for generated ids one at a time, equal to {@link #decode(int[], boolean)}; see {@link StreamDecoder}. */
    public StreamDecoder streamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, spec.decoder(), skipSpecialTokens, spec.cleanUpSpaces());
    }

    /** transformers' {@code clean_up_tokenization}: no space before punctuation and some English contractions. */
    static String cleanUpTokenizationSpaces(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    // ---------------------------------------------------------------- fast (Rust tokenizers) behaviour

    private void encodeFast(String text, IntList out) {
        for (Segment raw : AddedTokenSplitter.split(text, rawMatched, true)) {
            if (raw.token() != null) {
                out.add(raw.token().id());
                continue;
            }
            String normalized = spec.normalizer().normalize(raw.text());
            boolean first = raw.atStart();
            for (Segment seg : AddedTokenSplitter.split(normalized, normalizedMatched, first)) {
                if (seg.token() != null) {
                    out.add(seg.token().id());
                } else {
                    spec.fastModel().encode(spec.normalizer().preTokenize(seg.text(), seg.atStart()), out);
                }
            }
        }
    }

    /** A stretch of text, or an added token matched there (then {@code text} is what it matched). */
    record Segment(String text, AddedToken token, boolean atStart) {
    }

    // ---------------------------------------------------------------- slow (Python LlamaTokenizer) behaviour

    private void encodeSlow(String text, IntList out) {
        boolean legacy = mode == Mode.SLOW_LEGACY;
        if (!legacy) {
            text = SPACE_MARK + text.replace(SPACE_MARK, " ");
        }
        List<Segment> parts = new ArrayList<>(AddedTokenSplitter.split(text, slowMatched, true));
        // The slow tokenizer strips whitespace on both sides of tokens added by add_tokens (not around the
        // model's own <s>, </s>, <unk>, which checkpoints declare with lstrip/rstrip false).
        for (int i = 0; i < parts.size(); i++) {
            AddedToken t = parts.get(i).token();
            if (t == null || !stripsAroundInSlowMode(t)) {
                continue;
            }
            if (i + 1 < parts.size() && parts.get(i + 1).token() == null) {
                Segment r = parts.get(i + 1);
                parts.set(i + 1, new Segment(pythonStrip(r.text(), true), null, r.atStart()));
            }
            if (i > 0 && parts.get(i - 1).token() == null) {
                Segment l = parts.get(i - 1);
                parts.set(i - 1, new Segment(pythonStrip(l.text(), false), null, l.atStart()));
            }
        }
        IntList pieces = new IntList();
        for (Segment p : parts) {
            if (p.token() != null) {
                pieces.add(p.token().id());
            } else if (!p.text().isEmpty()) {
                if (legacy) {
                    sentencePieceEncode(p.text(), pieces);
                } else {
                    // transformers encodes unk_token + text and drops the pieces of unk_token, which removes
                    // the dummy prefix SentencePiece would add.
                    IntList withUnk = new IntList();
                    sentencePieceEncode(spec.unkToken() + p.text(), withUnk);
                    IntList unkAlone = new IntList();
                    sentencePieceEncode(spec.unkToken(), unkAlone);
                    for (int i = unkAlone.size(); i < withUnk.size(); i++) {
                        pieces.add(withUnk.get(i));
                    }
                }
            }
        }
        if (!legacy && pieces.size() > 1 && SPACE_MARK.equals(piece(pieces.get(0)))
                && addedById.containsKey(pieces.get(1))) {
            pieces.removeFirst();
        }
        for (int i = 0; i < pieces.size(); i++) {
            out.add(pieces.get(i));
        }
    }

    private boolean stripsAroundInSlowMode(AddedToken t) {
        return t.id() >= slowModel().size() || t.lstrip() || t.rstrip();
    }

    private BpeModel slowModel() {
        if (slowModel == null) {
            throw new IllegalStateException("SentencePiece encoding is only available in the slow modes");
        }
        return slowModel;
    }

    /** SentencePiece's own encoding of one chunk: identity normalisation, dummy prefix, spaces to '▁'. */
    void sentencePieceEncode(String chunk, IntList out) {
        String s = chunk;
        if (spec.spRemoveExtraWhitespaces()) {
            s = s.strip().replaceAll(" +", " ");
        }
        if (s.isEmpty()) {
            return;
        }
        if (spec.spAddDummyPrefix()) {
            s = " " + s;
        }
        slowModel().encode(s.replace(" ", SPACE_MARK), out);
    }

    /** Python's {@code str.lstrip()} / {@code str.rstrip()}, whose whitespace includes no-break spaces. */
    static String pythonStrip(String s, boolean leading) {
        if (leading) {
            int i = 0;
            while (i < s.length() && isPythonSpace(s.codePointAt(i))) {
                i += Character.charCount(s.codePointAt(i));
            }
            return s.substring(i);
        }
        int j = s.length();
        while (j > 0 && isPythonSpace(s.codePointBefore(j))) {
            j -= Character.charCount(s.codePointBefore(j));
        }
        return s.substring(0, j);
    }

    /** Python's {@code str.isspace()} for one character. */
    static boolean isPythonSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }
}
