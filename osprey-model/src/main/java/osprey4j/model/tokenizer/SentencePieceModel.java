package osprey4j.model.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The contents of a SentencePiece {@code tokenizer.model} (a serialised {@code sentencepiece.ModelProto}) that
 * tokenisation needs: the pieces with their scores and types, the model type, byte fallback, the special ids,
 * and the normaliser switches. Read with a hand-written protobuf reader; unknown fields are skipped.
 */
public record SentencePieceModel(
        List<Piece> pieces,
        ModelType modelType,
        boolean byteFallback,
        int unkId, int bosId, int eosId, int padId,
        String unkPiece,
        boolean addDummyPrefix,
        boolean removeExtraWhitespaces,
        boolean escapeWhitespaces,
        String normalizerName,
        boolean hasPrecompiledCharsmap) {

    /** {@code SentencePiece.Type}. */
    public enum PieceType { NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE }

    /** {@code TrainerSpec.ModelType}. */
    public enum ModelType { UNIGRAM, BPE, WORD, CHAR }

    public record Piece(String piece, float score, PieceType type) {
    }

    public SentencePieceModel {
        pieces = List.copyOf(pieces);
    }

    public static SentencePieceModel read(Path file) {
        try {
            return parse(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public static SentencePieceModel parse(byte[] bytes) {
        List<Piece> pieces = new ArrayList<>();
        // proto2 defaults from sentencepiece_model.proto
        ModelType modelType = ModelType.UNIGRAM;
        boolean byteFallback = false;
        int unkId = 0, bosId = 1, eosId = 2, padId = -1;
        String unkPiece = "<unk>";
        boolean addDummyPrefix = true, removeExtra = true, escape = true;
        String normalizerName = "";
        boolean precompiled = false;

        ProtobufReader top = new ProtobufReader(bytes);
        while (top.next()) {
            switch (top.field()) {
                case 1 -> pieces.add(readPiece(top.message()));
                case 2 -> {
                    ProtobufReader t = top.message();
                    while (t.next()) {
                        switch (t.field()) {
                            case 3 -> modelType = modelType((int) t.varint());
                            case 35 -> byteFallback = t.bool();
                            case 40 -> unkId = (int) t.varint();
                            case 41 -> bosId = (int) t.varint();
                            case 42 -> eosId = (int) t.varint();
                            case 43 -> padId = (int) t.varint();
                            case 45 -> unkPiece = t.string();
                            default -> t.skip();
                        }
                    }
                }
                case 3 -> {
                    ProtobufReader n = top.message();
                    while (n.next()) {
                        switch (n.field()) {
                            case 1 -> normalizerName = n.string();
                            case 2 -> precompiled = n.bytes().length > 0;
                            case 3 -> addDummyPrefix = n.bool();
                            case 4 -> removeExtra = n.bool();
                            case 5 -> escape = n.bool();
                            default -> n.skip();
                        }
                    }
                }
                default -> top.skip();
            }
        }
        if (pieces.isEmpty()) {
            throw new IllegalArgumentException("malformed SentencePiece model: no pieces");
        }
        return new SentencePieceModel(pieces, modelType, byteFallback, unkId, bosId, eosId, padId, unkPiece,
                addDummyPrefix, removeExtra, escape, normalizerName, precompiled);
    }

    private static Piece readPiece(ProtobufReader r) {
        String piece = null;
        float score = 0f;
        PieceType type = PieceType.NORMAL;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> piece = r.string();
                case 2 -> score = r.fixed32Float();
                case 3 -> type = pieceType((int) r.varint());
                default -> r.skip();
            }
        }
        if (piece == null) {
            throw new IllegalArgumentException("malformed SentencePiece model: a piece without text");
        }
        return new Piece(piece, score, type);
    }

    private static PieceType pieceType(int v) {
        return switch (v) {
            case 1 -> PieceType.NORMAL;
            case 2 -> PieceType.UNKNOWN;
            case 3 -> PieceType.CONTROL;
            case 4 -> PieceType.USER_DEFINED;
            case 5 -> PieceType.UNUSED;
            case 6 -> PieceType.BYTE;
            default -> throw new IllegalArgumentException("malformed SentencePiece model: piece type " + v);
        };
    }

    private static ModelType modelType(int v) {
        return switch (v) {
            case 1 -> ModelType.UNIGRAM;
            case 2 -> ModelType.BPE;
            case 3 -> ModelType.WORD;
            case 4 -> ModelType.CHAR;
            default -> throw new IllegalArgumentException("malformed SentencePiece model: model type " + v);
        };
    }
}
