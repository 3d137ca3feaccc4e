package osprey4j.train.tokenizer;

/**
 * The settings of {@link SentencePieceBpeTrainer}, named and defaulted as {@code spm_train}'s flags.
 * {@link #llama(int)} gives LLaMA's tokenizer settings (those the reference model's tokenizer was trained with).
 *
 * @param vocabSize                 total pieces, the {@code <unk> <s> </s>} and byte pieces included
 * @param characterCoverage         share of the corpus' characters (by count) that must be pieces; the rarest
 *                                  characters beyond it are left out (encoded as bytes with byte fallback)
 * @param byteFallback              add {@code <0x00>..<0xFF>} after the control pieces, for characters not in
 *                                  the vocabulary
 * @param splitDigits               a digit never merges with anything
 * @param splitByUnicodeScript      a piece never mixes Unicode scripts (Hiragana and Katakana count as Han)
 * @param splitByNumber             digits are a script of their own for the previous rule
 * @param splitByWhitespace         words (a run of {@code ▁} and what follows up to the next {@code ▁}) never merge
 * @param allowWhitespaceOnlyPieces runs of {@code ▁} may become pieces ({@code ▁▁}, ...)
 * @param maxPieceLength            longest piece, in characters
 * @param maxSentenceLength         longer lines (in UTF-8 bytes) are skipped, as {@code spm_train} does
 * @param addDummyPrefix            a {@code ▁} is put before every line (written to the model's normaliser spec)
 * @param removeExtraWhitespaces    leading, trailing and repeated spaces are dropped (normaliser spec)
 * @param inputSentenceSize         train on at most this many lines (0: all), sampled with {@code seed}
 * @param seed                      the sampling seed; with all lines used the output depends on the corpus only
 * @param hardVocabLimit            when the corpus runs out of pairs before {@code vocabSize}: fail (true, as
 *                                  {@code spm_train}'s default) or write the smaller vocabulary (false)
 */
public record TrainerOptions(int vocabSize, double characterCoverage, boolean byteFallback, boolean splitDigits,
                             boolean splitByUnicodeScript, boolean splitByNumber, boolean splitByWhitespace,
                             boolean allowWhitespaceOnlyPieces, int maxPieceLength, int maxSentenceLength,
                             boolean addDummyPrefix, boolean removeExtraWhitespaces, long inputSentenceSize,
                             long seed, boolean hardVocabLimit) {
    public TrainerOptions {
        if (vocabSize < 4) {
            throw new IllegalArgumentException("vocab size must be at least 4, got " + vocabSize);
        }
        if (!(characterCoverage > 0 && characterCoverage <= 1)) {
            throw new IllegalArgumentException("character coverage must be in (0, 1], got " + characterCoverage);
        }
        if (maxPieceLength < 1 || maxPieceLength > 512) {
            throw new IllegalArgumentException("max piece length must be in 1..512, got " + maxPieceLength);
        }
        if (maxSentenceLength < 1) {
            throw new IllegalArgumentException("max sentence length must be positive, got " + maxSentenceLength);
        }
        if (inputSentenceSize < 0) {
            throw new IllegalArgumentException("input sentence size must be 0 (all) or positive");
        }
    }

    /**
     * LLaMA's settings: BPE with byte fallback, digits split, identity normalisation with a dummy prefix and
     * whitespace kept, whitespace-only pieces allowed, coverage 0.99995 -- at the given vocabulary size.
     */
    public static TrainerOptions llama(int vocabSize) {
        return new TrainerOptions(vocabSize, 0.99995, true, true, true, true, true, true, 16, 4192, true, false, 0, 0,
                true);
    }

    public TrainerOptions withCharacterCoverage(double coverage) {
        return new TrainerOptions(vocabSize, coverage, byteFallback, splitDigits, splitByUnicodeScript,
                splitByNumber, splitByWhitespace, allowWhitespaceOnlyPieces, maxPieceLength, maxSentenceLength,
                addDummyPrefix, removeExtraWhitespaces, inputSentenceSize, seed, hardVocabLimit);
    }

    public TrainerOptions withSampling(long sentences, long sampleSeed) {
        return new TrainerOptions(vocabSize, characterCoverage, byteFallback, splitDigits, splitByUnicodeScript,
                splitByNumber, splitByWhitespace, allowWhitespaceOnlyPieces, maxPieceLength, maxSentenceLength,
                addDummyPrefix, removeExtraWhitespaces, sentences, sampleSeed, hardVocabLimit);
    }

    /** {@code vocabSize} as an upper bound only: stop, without failing, when no pair is left to merge. */
    public TrainerOptions withSoftVocabLimit() {
        return new TrainerOptions(vocabSize, characterCoverage, byteFallback, splitDigits, splitByUnicodeScript,
                splitByNumber, splitByWhitespace, allowWhitespaceOnlyPieces, maxPieceLength, maxSentenceLength,
                addDummyPrefix, removeExtraWhitespaces, inputSentenceSize, seed, false);
    }

    /** Control and byte pieces put before the learnt ones. */
    int metaPieces() {
        return 3 + (byteFallback ? 256 : 0);
    }
}
