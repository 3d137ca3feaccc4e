package osprey4j.train.tokenizer;

/**
 * Serialises a trained model as {@code sentencepiece.ModelProto} (proto2, field numbers of
 * {@code sentencepiece_model.proto}): the pieces (field 1), the trainer spec (2) and the normaliser spec (3).
 * Every setting that changes encoding is written explicitly, since readers take proto2 defaults for absent
 * fields (and {@code remove_extra_whitespaces} defaults to true).
 */
public final class ModelProtoWriter {
    private ModelProtoWriter() {
    }

    public static byte[] write(SentencePieceBpeTrainer.Model model) {
        TrainerOptions o = model.options();
        ProtobufWriter top = new ProtobufWriter();
        for (SentencePieceBpeTrainer.Piece p : model.pieces()) {
            top.message(1, new ProtobufWriter()
                    .string(1, p.piece())
                    .fixed32Float(2, p.score())
                    .varint(3, p.type().number));
        }
        ProtobufWriter trainer = new ProtobufWriter()
                .varint(3, 2)                                   // model_type: BPE
                .varint(4, model.pieces().size())               // vocab_size: what was written
                .bool(33, o.hardVocabLimit())
                .fixed32Float(10, (float) o.characterCoverage())
                .varint(18, o.maxSentenceLength())
                .varint(20, o.maxPieceLength())
                .bool(21, o.splitByUnicodeScript())
                .bool(22, o.splitByWhitespace())
                .bool(23, o.splitByNumber())
                .bool(24, false)                                // treat_whitespace_as_suffix
                .bool(25, o.splitDigits())
                .bool(26, o.allowWhitespaceOnlyPieces())
                .bool(35, o.byteFallback())
                .varint(40, 0)                                  // unk_id
                .varint(41, 1)                                  // bos_id
                .varint(42, 2)                                  // eos_id
                .varint(43, -1)                                 // pad_id: none
                .string(45, "<unk>")
                .string(46, "<s>")
                .string(47, "</s>")
                .string(48, "<pad>");
        if (o.inputSentenceSize() > 0) {
            trainer.varint(11, o.inputSentenceSize());
        }
        top.message(2, trainer);
        top.message(3, new ProtobufWriter()
                .string(1, "identity")
                .bool(3, o.addDummyPrefix())
                .bool(4, o.removeExtraWhitespaces())
                .bool(5, true));                                // escape_whitespaces
        return top.toByteArray();
    }
}
